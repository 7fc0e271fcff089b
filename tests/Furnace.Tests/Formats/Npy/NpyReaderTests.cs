// NpyReader: reads back what NpyWriter and numpy write (v1.0 and v2.0 headers) and rejects other dtypes, Fortran
// order and data of the wrong length with FurnaceFormatException.
using System.Diagnostics;
using System.Text;
using Furnace.Formats.Npy;
using Furnace.Tests.Support;

namespace Furnace.Tests.Formats.Npy;

public sealed class NpyReaderTests
{
    [Fact]
    public void ReadFloat32_NpyWriterRoundTrip()
    {
        using var dir = new TempDir();
        float[] data = Enumerable.Range(0, 24).Select(i => i * 0.5f - 3).ToArray();
        NpyWriter.WriteFloat32(dir.File("a.npy"), [2, 3, 4], data);
        var (shape, back) = NpyReader.ReadFloat32(dir.File("a.npy"));
        Assert.Equal([2, 3, 4], shape);
        Assert.Equal(data, back);
        NpyWriter.WriteFloat32(dir.File("b.npy"), [5], data[..5]);
        Assert.Equal([5], NpyReader.ReadFloat32(dir.File("b.npy")).Shape);
    }

    [Fact]
    public void ReadFloat32_NumpyVersion2File()
    {
        using var dir = new TempDir();
        var psi = new ProcessStartInfo(PyTorchOracle.Python) { RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"import numpy as np; np.lib.format.write_array(open('{dir.File("v2.npy")}', 'wb'), np.arange(6, dtype='<f4').reshape(2, 3), version=(2, 0))");
        using (var p = Process.Start(psi)!)
        {
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"/usr/bin/python3 with numpy is needed: {err}");
        }
        var (shape, data) = NpyReader.ReadFloat32(dir.File("v2.npy"));
        Assert.Equal([2, 3], shape);
        Assert.Equal([0f, 1, 2, 3, 4, 5], data);
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16, "not little-endian float32")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8, "Fortran order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8, "needs 12")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (x,), }", 8, "is not a dimension")]
    public void ReadFloat32_Unsupported_Fails(string dict, int dataBytes, string expected)
    {
        string header = dict.PadRight(63 - 10) + "\n";
        byte[] bytes = [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, 0, .. Encoding.ASCII.GetBytes(header), .. new byte[dataBytes]];
        var e = Assert.ThrowsAny<FurnaceException>(() => NpyReader.ReadFloat32(bytes, "x.npy"));
        Assert.StartsWith("x.npy: ", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.ThrowsAny<FurnaceException>(() => NpyReader.ReadFloat32("NUMPY"u8, "y.npy"));
    }
}
