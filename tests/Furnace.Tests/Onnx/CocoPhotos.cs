// Real COCO photos as 224×224 interleaved RGB bytes, decoded and resized by PIL (Debian's /usr/bin/python3),
// cached per process. Minimal on purpose until Furnace.Formats.Images lands.
using System.Collections.Concurrent;
using System.Diagnostics;
using Furnace.Tests.Support;

namespace Furnace.Tests.Onnx;

internal static class CocoPhotos
{
    private static readonly ConcurrentDictionary<string, byte[]> Cache = new();

    public static string Path(string id) => System.IO.Path.Combine(SharedPaths.Shared, "data", "coco-mini", "val2017", id + ".jpg");

    /// <summary>(224, 224, 3) RGB bytes: PIL convert("RGB").resize((224, 224), BICUBIC).</summary>
    public static byte[] Rgb224(string id) => Cache.GetOrAdd(id, Decode);

    private static byte[] Decode(string id)
    {
        const string script =
            "import sys\nfrom PIL import Image\n" +
            "im = Image.open(sys.argv[1]).convert('RGB').resize((224, 224), Image.BICUBIC)\n" +
            "sys.stdout.buffer.write(im.tobytes())\n";
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(Path(id));
        using var p = Process.Start(psi)!;
        using var buffer = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(buffer);
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"PIL failed on {Path(id)}: {err}");
        byte[] rgb = buffer.ToArray();
        Assert.Equal(224 * 224 * 3, rgb.Length);
        return rgb;
    }
}
