// `furnace preprocess` end to end: a real COCO photo through a CLIP config to a .npy file that numpy loads
// and whose values equal the library's ImagePreprocessor (itself checked against transformers + PIL).
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Furnace.Formats.Images;

namespace Furnace.Cli.Tests;

public sealed class PreprocessCliTests
{
    private const string ClipConfig = """{"crop_size": {"height": 224, "width": 224}, "do_center_crop": true, "do_normalize": true, "do_rescale": true, "do_resize": true, "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor", "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 224}}""";

    private static string CocoPhoto()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", "coco-mini", "val2017");
            if (Directory.Exists(candidate)) return Directory.GetFiles(candidate, "*.jpg").Order(StringComparer.Ordinal).First();
        }
        throw new DirectoryNotFoundException("shared/data/coco-mini/val2017 not found above " + AppContext.BaseDirectory);
    }

    private static (int[] Shape, float[] Data) ReadNpy(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        Assert.Equal("\x93NUMPY", Encoding.Latin1.GetString(b, 0, 6));
        Assert.Equal((1, 0), (b[6], b[7]));
        int headerLen = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8));
        Assert.Equal(0, (10 + headerLen) % 64);
        string header = Encoding.ASCII.GetString(b, 10, headerLen);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (", header);
        Assert.EndsWith("\n", header);
        string dims = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..header.IndexOf(')')];
        int[] shape = dims.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        var data = new float[(b.Length - 10 - headerLen) / 4];
        Buffer.BlockCopy(b, 10 + headerLen, data, 0, data.Length * 4);
        return (shape, data);
    }

    [Fact]
    public void Preprocess_CocoPhoto_WritesNpyEqualToLibrary()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("preprocessor_config.json"), ClipConfig);
        string photo = CocoPhoto(), npy = dir.File("px.npy");
        var r = FurnaceProcess.Run("preprocess", photo, "--model", dir.Path, "--out", npy);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("pixel_values (1, 3, 224, 224) float32", r.Stdout);

        var (shape, data) = ReadNpy(npy);
        Assert.Equal([1, 3, 224, 224], shape);
        PixelValues expected = ImagePreprocessor.Load(dir.File("preprocessor_config.json")).Preprocess(ImageDecoder.Load(photo));
        Assert.Equal(expected.Data, data);

        // numpy reads it back: dtype, shape and values
        File.WriteAllBytes(dir.File("expected.f32"), expected.Data.SelectMany(BitConverter.GetBytes).ToArray());
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"import numpy as np; a = np.load('{npy}'); e = np.fromfile('{dir.File("expected.f32")}', dtype=np.float32).reshape(a.shape); print(a.dtype, a.shape, float(np.abs(a - e).max()))");
        using var p = Process.Start(psi)!;
        string o = p.StandardOutput.ReadToEnd(), err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"/usr/bin/python3 with numpy is needed (Debian python3-numpy; scripts/test.sh installs it): {err}");
        Assert.Equal("float32 (1, 3, 224, 224) 0.0", o.Trim());
    }

    [Fact]
    public void Preprocess_PadFlagAndSiglipConfigFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("siglip.json"), """{"image_processor_type": "SiglipImageProcessor", "size": {"height": 96, "width": 128}}""");
        var r = FurnaceProcess.Run("preprocess", CocoPhoto(), "--model", dir.File("siglip.json"), "--out", dir.File("s.npy"), "--pad");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("(1, 3, 96, 128)", r.Stdout);
        Assert.Contains("padded to square", r.Stdout);
        Assert.Equal([1, 3, 96, 128], ReadNpy(dir.File("s.npy")).Shape);
    }

    [Fact]
    public void Preprocess_NotAnImage_OneLineErrorNamingTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("preprocessor_config.json"), ClipConfig);
        File.WriteAllText(dir.File("notes.jpg"), "hello");
        var r = FurnaceProcess.Run("preprocess", dir.File("notes.jpg"), "--model", dir.Path, "--out", dir.File("x.npy"));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"furnace: error: {dir.File("notes.jpg")}: not a supported image (JPEG, PNG, WebP, GIF or BMP)", r.Stderr.Trim());
        Assert.False(File.Exists(dir.File("x.npy")));
    }

    [Fact]
    public void Preprocess_DirectoryWithoutConfig_ClearError()
    {
        using var dir = new TempDir();
        var r = FurnaceProcess.Run("preprocess", CocoPhoto(), "--model", dir.Path, "--out", dir.File("x.npy"));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"furnace: error: {dir.Path}: model directory has no preprocessor_config.json", r.Stderr.Trim());
    }
}
