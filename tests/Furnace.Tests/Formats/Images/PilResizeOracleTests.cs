// PilResampler against PIL 9.4 (Debian) on real COCO photos: byte-exact from the same RGB input, and within
// ±1 on ≥ 99.9% agreement end to end (Skia's JPEG decoder vs PIL's libjpeg-turbo).
using System.Text.Json.Nodes;
using Furnace.Formats.Images;
using Furnace.Tests.Support;
using Xunit.Abstractions;

namespace Furnace.Tests.Formats.Images;

public sealed class PilResizeOracleTests(ITestOutputHelper output)
{
    private static readonly string[] Photos = SharedPaths.CocoPhotos().Take(20).ToArray();

    // (label, target size from (w, h), filter): HF shortest-edge 224 and 336, an upscale, SigLIP's square 384,
    // and one non-bicubic filter.
    private static readonly (string Label, Func<int, int, (int W, int H)> Size, ResampleFilter Filter)[] Targets =
    [
        ("shortest 224 bicubic", (w, h) => ShortestEdge(w, h, 224), ResampleFilter.Bicubic),
        ("shortest 336 bicubic", (w, h) => ShortestEdge(w, h, 336), ResampleFilter.Bicubic),
        ("shortest 800 bicubic (upscale)", (w, h) => ShortestEdge(w, h, 800), ResampleFilter.Bicubic),
        ("384x384 bicubic", (_, _) => (384, 384), ResampleFilter.Bicubic),
        ("224x224 bilinear", (_, _) => (224, 224), ResampleFilter.Bilinear),
        ("shortest 224 lanczos", (w, h) => ShortestEdge(w, h, 224), ResampleFilter.Lanczos),
    ];

    private static (int W, int H) ShortestEdge(int w, int h, int s) =>
        w <= h ? (s, (int)((double)s * h / w)) : ((int)((double)s * w / h), s);

    [Fact]
    public void Resize_SameRgbInput_EqualsPilByteForByte()
    {
        using var dir = new TempDir();
        var jobs = new List<JsonObject>();
        var expected = new List<(string Label, string Out, RgbImage Ours)>();
        for (int i = 0; i < Photos.Length; i++)
        {
            RgbImage img = ImageDecoder.Load(Photos[i]);
            string raw = dir.File($"{i}.rgb");
            File.WriteAllBytes(raw, img.Pixels);
            for (int t = 0; t < Targets.Length; t++)
            {
                var (w, h) = Targets[t].Size(img.Width, img.Height);
                string @out = dir.File($"{i}-{t}.pil");
                jobs.Add(PilOracle.Job("resize_raw", raw, @out, new { sw = img.Width, sh = img.Height, w, h, filter = (int)Targets[t].Filter }));
                expected.Add(($"{Path.GetFileName(Photos[i])} {Targets[t].Label}", @out, PilResampler.Resize(img, w, h, Targets[t].Filter)));
            }
        }
        PilOracle.Run(dir.Path, jobs);
        long total = 0, differ = 0;
        foreach (var (label, @out, ours) in expected)
        {
            byte[] pil = File.ReadAllBytes(@out);
            Assert.True(pil.Length == ours.Pixels.Length, $"{label}: PIL gave {pil.Length} bytes, we {ours.Pixels.Length}");
            total += pil.Length;
            int bad = pil.Zip(ours.Pixels).Count(p => p.First != p.Second);
            differ += bad;
            if (bad > 0) output.WriteLine($"{label}: {bad} bytes differ");
        }
        output.WriteLine($"{expected.Count} resizes, {total:N0} bytes, {differ} differ from PIL");
        Assert.Equal(0, differ);
    }

    [Fact]
    public void DecodeAndResize_FromJpeg_AgreesWithPil()
    {
        using var dir = new TempDir();
        var jobs = new List<JsonObject>();
        var cases = new List<(string Label, string Out, RgbImage Ours)>();
        for (int i = 0; i < Photos.Length; i++)
        {
            RgbImage img = ImageDecoder.Load(Photos[i]);
            string dec = dir.File($"{i}.dec");
            jobs.Add(PilOracle.Job("decode", Photos[i], dec));
            cases.Add(($"{Path.GetFileName(Photos[i])} decode", dec, img));
            for (int t = 0; t < 2; t++)
            {
                var (w, h) = Targets[t].Size(img.Width, img.Height);
                string @out = dir.File($"{i}-{t}.pil");
                jobs.Add(PilOracle.Job("resize", Photos[i], @out, new { w, h, filter = (int)Targets[t].Filter }));
                cases.Add(($"{Path.GetFileName(Photos[i])} {Targets[t].Label}", @out, PilResampler.Resize(img, w, h, Targets[t].Filter)));
            }
        }
        PilOracle.Run(dir.Path, jobs);
        long total = 0, differ = 0, decodeTotal = 0, decodeDiffer = 0;
        int maxDiff = 0;
        foreach (var (label, @out, ours) in cases)
        {
            byte[] pil = File.ReadAllBytes(@out);
            Assert.True(pil.Length == ours.Pixels.Length, $"{label}: PIL gave {pil.Length} bytes, we {ours.Pixels.Length}");
            int bad = 0;
            for (int k = 0; k < pil.Length; k++)
            {
                int d = Math.Abs(pil[k] - ours.Pixels[k]);
                if (d == 0) continue;
                bad++;
                if (!label.EndsWith("decode", StringComparison.Ordinal)) maxDiff = Math.Max(maxDiff, d);
            }
            if (label.EndsWith("decode", StringComparison.Ordinal))
            {
                decodeTotal += pil.Length;
                decodeDiffer += bad;
            }
            else
            {
                total += pil.Length;
                differ += bad;
            }
        }
        double agree = 1 - (double)differ / total;
        output.WriteLine($"decode: {decodeDiffer:N0} of {decodeTotal:N0} bytes differ from PIL; resize: {differ:N0} of {total:N0} differ ({agree:P4} equal), max |diff| {maxDiff}");
        Assert.True(agree >= 0.999, $"only {agree:P4} of resized bytes equal PIL's");
        Assert.True(maxDiff <= 1, $"resized bytes differ from PIL's by up to {maxDiff}");
    }
}
