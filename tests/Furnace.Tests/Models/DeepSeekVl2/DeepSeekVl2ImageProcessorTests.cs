// DeepSeekVl2ImageProcessor against DeepSeek-VL2's own pixel path run in PIL (Oracles/pil_oracle.py "deepseek_vl2":
// ImageOps.pad global view, ImageOps.pad canvas cropped into tiles, ToTensor + Normalize in float32) on real COCO
// photos: every float identical (tolerance 0).
using Furnace.Formats.Images;
using Furnace.Models.DeepSeekVl2;
using Furnace.Tests.Support;
using Xunit.Abstractions;

namespace Furnace.Tests.Models.DeepSeekVl2;

public sealed class DeepSeekVl2ImageProcessorTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Process_RealPhotos_MatchesPilReferenceExactly(bool cropping)
    {
        using var dir = new TempDir();
        var p = DeepSeekVl2Fixture.PublishedProcessor();
        var proc = new DeepSeekVl2ImageProcessor(p);
        string[] photos = SharedPaths.CocoPhotos().Take(cropping ? 5 : 3).ToArray();
        var images = photos.Select(f => ImageDecoder.Load(f)).ToList();
        // a tall and a wide crop of a photo, so the grids differ from the 4:3 photos' 2 × 1 (and pad on both axes)
        images.Add(PilImageOps.Crop(images[0], 0, 0, 150, images[0].Height));
        images.Add(PilImageOps.Crop(images[1], 0, 0, images[1].Width, 97));
        var files = new List<string>();
        for (int i = 0; i < images.Count; i++)
        {
            // the decoded pixels as binary PPM, so both sides start from the same bytes
            string ppm = dir.File($"{i}.ppm");
            byte[] header = System.Text.Encoding.ASCII.GetBytes($"P6\n{images[i].Width} {images[i].Height}\n255\n");
            File.WriteAllBytes(ppm, [.. header, .. images[i].Pixels]);
            files.Add(ppm);
        }
        var jobs = files.Select((f, i) => PilOracle.Job("deepseek_vl2", f, dir.File($"{i}.f32"),
            new { processor = DeepSeekVl2Fixture.ProcessorJson(p), cropping })).ToList();
        var grids = PilOracle.Run(dir.Path, jobs);
        var seen = new HashSet<(int, int)>();
        for (int i = 0; i < images.Count; i++)
        {
            var views = proc.Process(images[i], cropping);
            Assert.Equal(grids[i], (views.Grid.TilesWide, views.Grid.TilesHigh));
            seen.Add(grids[i]);
            float[] pil = PilOracle.ReadFloats(dir.File($"{i}.f32"));
            float[] ours = views.Views.SelectMany(v => v.Data).ToArray();
            Assert.Equal(pil.Length, ours.Length);
            int differ = 0;
            for (int k = 0; k < pil.Length; k++) differ += pil[k] == ours[k] ? 0 : 1;
            Assert.True(differ == 0, $"image {i} ({images[i].Width}x{images[i].Height}): {differ} of {pil.Length} values differ");
        }
        output.WriteLine($"{images.Count} images, grids {string.Join(" ", seen)}");
        if (cropping) Assert.True(seen.Count >= 3, "the images do not exercise different tile grids");
    }

    [Theory]
    [InlineData(3000, 1)]
    [InlineData(1, 1000)]
    public void Process_ExtremeAspectRatio_FailsNamingTheTilingLimit(int w, int h)
    {
        var proc = new DeepSeekVl2ImageProcessor(DeepSeekVl2Fixture.PublishedProcessor());
        var e = Assert.Throws<FurnaceException>(() => proc.Process(RgbImage.Filled(w, h, 10, 20, 30), cropping: true));
        Assert.Contains($"image {w}x{h} is beyond DeepSeek-VL2's tiling limits", e.Message);
    }

    [Fact]
    public void Process_SquareImage_GlobalViewEqualsTheSingleTile()
    {
        var proc = new DeepSeekVl2ImageProcessor(DeepSeekVl2Fixture.PublishedProcessor());
        var img = ImageDecoder.Load(SharedPaths.CocoPhotos()[2]);
        var views = proc.Process(img, cropping: false);
        Assert.Equal(2, views.Views.Length);
        Assert.Equal(views.Views[0].Data, views.Views[1].Data);
    }
}
