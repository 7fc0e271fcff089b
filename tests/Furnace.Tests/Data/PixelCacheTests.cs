// PixelCache through ImagePipeline: a miss stores the preprocessed tensor, a hit returns the same values, a damaged
// entry (truncated, garbage, non-finite) is detected and rebuilt, and a changed image or config misses.
using Furnace.Data;
using Furnace.Formats.Images;
using Furnace.Formats.Npy;
using Furnace.Tests.Support;

namespace Furnace.Tests.Data;

public sealed class PixelCacheTests
{
    private static readonly ImagePreprocessorConfig Config = new() { ShortestEdge = 20, CropHeight = 20, CropWidth = 20 };

    [Fact]
    public void MissThenHit_SameValuesAsPreprocessing()
    {
        using var dir = new TempDir();
        string png = dir.File("a.png");
        DataFiles.WritePng(png, 33, 27, 1);
        var cache = new PixelCache(dir.File("cache"));
        var pipeline = new ImagePipeline(new ImagePreprocessor(Config), cache: cache);
        PixelValues expected = new ImagePreprocessor(Config).Preprocess(ImageDecoder.Load(png));

        Assert.Equal(expected.Data, pipeline.Preprocessed(png).Data);
        Assert.Equal((0L, 1L, 0L), (cache.Hits, cache.Misses, cache.Rebuilt));
        string entry = cache.EntryPath(png, pipeline.ConfigKey);
        Assert.True(File.Exists(entry));
        Assert.Equal([3, 20, 20], NpyReader.ReadFloat32(entry).Shape);

        var again = pipeline.Preprocessed(png);
        Assert.Equal(expected.Data, again.Data);
        Assert.Equal((1L, 1L, 0L), (cache.Hits, cache.Misses, cache.Rebuilt));
        Assert.Empty(Directory.GetFiles(cache.Directory, "*.tmp", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("truncate")]
    [InlineData("garbage")]
    [InlineData("empty")]
    [InlineData("nan")]
    [InlineData("shape")]
    public void DamagedEntry_IsRebuilt(string damage)
    {
        using var dir = new TempDir();
        string png = dir.File("a.png");
        DataFiles.WritePng(png, 25, 25, 2);
        var cache = new PixelCache(dir.File("cache"));
        var pipeline = new ImagePipeline(new ImagePreprocessor(Config), cache: cache);
        float[] expected = pipeline.Preprocessed(png).Data;
        string entry = cache.EntryPath(png, pipeline.ConfigKey);
        byte[] good = File.ReadAllBytes(entry);
        switch (damage)
        {
            case "truncate": File.WriteAllBytes(entry, good[..^4]); break;
            case "garbage": File.WriteAllBytes(entry, Enumerable.Repeat((byte)0x41, good.Length).ToArray()); break;
            case "empty": File.WriteAllBytes(entry, []); break;
            case "nan":
                var bad = (byte[])good.Clone();
                BitConverter.GetBytes(float.NaN).CopyTo(bad, bad.Length - 4);
                File.WriteAllBytes(entry, bad);
                break;
            default: NpyWriter.WriteFloat32(entry, [1, 3, 400], expected[..1200]); break;
        }

        Assert.Equal(expected, pipeline.Preprocessed(png).Data);
        Assert.Equal((0L, 1L, 1L), (cache.Hits, cache.Misses, cache.Rebuilt));
        Assert.Equal(good, File.ReadAllBytes(entry));
        Assert.Equal(expected, pipeline.Preprocessed(png).Data);
        Assert.Equal(1L, cache.Hits);
    }

    [Fact]
    public void ChangedImageOrConfig_Misses()
    {
        using var dir = new TempDir();
        string png = dir.File("a.png");
        DataFiles.WritePng(png, 30, 30, 3);
        var cache = new PixelCache(dir.File("cache"));
        var pipeline = new ImagePipeline(new ImagePreprocessor(Config), cache: cache);
        var before = pipeline.Preprocessed(png);

        var other = new ImagePipeline(new ImagePreprocessor(Config with { Mean = [0.5, 0.5, 0.5], Std = [0.5, 0.5, 0.5] }), cache: cache);
        Assert.NotEqual(pipeline.ConfigKey, other.ConfigKey);
        Assert.NotEqual(before.Data, other.Preprocessed(png).Data);
        Assert.Equal(2L, cache.Misses);

        DataFiles.WritePng(png, 30, 30, 4);
        File.SetLastWriteTimeUtc(png, File.GetLastWriteTimeUtc(png).AddSeconds(5));
        var after = pipeline.Preprocessed(png);
        Assert.Equal(3L, cache.Misses);
        Assert.NotEqual(before.Data, after.Data);
        Assert.Equal(new ImagePreprocessor(Config).Preprocess(ImageDecoder.Load(png)).Data, after.Data);
    }
}
