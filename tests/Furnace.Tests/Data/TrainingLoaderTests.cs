// TrainingLoader: seeded epoch orders, identical batches with and without the background prefetch, exact resume
// from any saved DataPosition (text, caption choice, pixels and augmentation), drop-last, endless epochs, and
// loading errors surfacing at their own batch.
using Furnace.Data;
using Furnace.Formats.Images;
using Furnace.Tests.Support;

namespace Furnace.Tests.Data;

public sealed class TrainingLoaderTests
{
    private static TrainingSet TextSet(int n)
    {
        using var dir = new TempDir();
        var samples = Enumerable.Range(0, n).Select(i =>
            $$"""{"id": "s{{i}}", "conversations": [{"from": "human", "value": "q{{i}}"}, {"from": "gpt", "value": "a{{i}}"}]}""");
        File.WriteAllText(dir.File("t.json"), "[" + string.Join(",", samples) + "]");
        return TrainingSet.Load(dir.File("t.json"));
    }

    private static ImagePipeline Pipeline(AugmentationOptions? aug = null, PixelCache? cache = null) =>
        new(new ImagePreprocessor(new ImagePreprocessorConfig { ShortestEdge = 24, CropHeight = 24, CropWidth = 24 }), aug, cache);

    // What a batch delivers, as comparable text: positions, indices, turns and a pixel fingerprint.
    private static string Describe(TrainingBatch b) =>
        $"{b.Start.Epoch}:{b.Start.Index}->{b.Next.Epoch}:{b.Next.Index} [" + string.Join("; ", b.Examples.Select((e, k) =>
            $"{b.Indices[k]} {e.Id} {string.Join("|", e.Turns.Select(t => t.Text))} {(b.Pixels[k] is { } px ? string.Join(",", px.Data.Select(v => BitConverter.SingleToInt32Bits(v))).GetHashCode() : 0)}")) + "]";

    private static List<TrainingBatch> All(TrainingSet set, TrainingLoaderOptions options, DataPosition? resume = null)
    {
        using var loader = new TrainingLoader(set, options, resume);
        return loader.Batches().ToList();
    }

    [Fact]
    public void EpochOrder_SeededPermutationPerEpoch()
    {
        int[] a = TrainingLoader.EpochOrder(100, 0, 42);
        Assert.Equal(Enumerable.Range(0, 100), a.Order());
        Assert.Equal(a, TrainingLoader.EpochOrder(100, 0, 42));
        Assert.NotEqual(a, TrainingLoader.EpochOrder(100, 1, 42));
        Assert.NotEqual(a, TrainingLoader.EpochOrder(100, 0, 43));
        Assert.NotEqual(Enumerable.Range(0, 100), a);
        Assert.Equal(Enumerable.Range(0, 100), TrainingLoader.EpochOrder(100, 5, 42, shuffle: false));
    }

    [Fact]
    public void Loader_EveryEpochCoversEverySampleOnce_SameWithAndWithoutPrefetch()
    {
        var set = TextSet(10);
        var options = new TrainingLoaderOptions { BatchSize = 4, Seed = 5, Epochs = 3, Prefetch = 0 };
        var sync = All(set, options);
        var prefetched = All(set, options with { Prefetch = 3 });
        Assert.Equal(sync.Select(Describe), prefetched.Select(Describe));
        Assert.Equal(9, sync.Count);
        Assert.Equal([4, 4, 2, 4, 4, 2, 4, 4, 2], sync.Select(b => b.Count));
        for (int e = 0; e < 3; e++)
        {
            var indices = sync.Where(b => b.Epoch == e).SelectMany(b => b.Indices).ToArray();
            Assert.Equal(TrainingLoader.EpochOrder(10, e, 5), indices);
        }
        Assert.Equal(new DataPosition(3, 0, 5, 10), sync[^1].Next);
        Assert.Equal("s" + sync[0].Indices[0], sync[0].Examples[0].Id);
    }

    [Fact]
    public void Resume_FromEveryBatchBoundary_YieldsExactlyTheRemainingSequence()
    {
        var set = TextSet(11);
        var options = new TrainingLoaderOptions { BatchSize = 3, Seed = 99, Epochs = 3 };
        var full = All(set, options).Select(Describe).ToList();
        using var first = new TrainingLoader(set, options);
        for (int k = 0; k < full.Count; k++)
        {
            Assert.True(first.TryNext(out _));
            DataPosition saved = DataPosition.FromJson(first.Position.ToJson());
            var rest = All(set, options, saved).Select(Describe);
            Assert.Equal(full.Skip(k + 1), rest);
        }
        Assert.False(first.TryNext(out _));
    }

    [Fact]
    public void Resume_WithImagesAugmentationAndCaptionChoice_SamePixelsAndText()
    {
        using var dir = new TempDir();
        string jsonl = DataFiles.PngCaptions(dir.Path, 7);
        var set = TrainingSet.Load(jsonl);
        var aug = new AugmentationOptions { RandomResizedCrop = true, FlipProbability = 0.5 };
        var options = new TrainingLoaderOptions { BatchSize = 2, Seed = 3, Epochs = 2, Workers = 2, Images = Pipeline(aug) };
        var full = All(set, options);
        Assert.All(full.SelectMany(b => b.Pixels), px => Assert.Equal([3, 24, 24], px!.Shape));
        var resumed = All(set, options with { Workers = 1, Prefetch = 0 }, full[2].Start);
        Assert.Equal(full.Skip(2).Select(Describe), resumed.Select(Describe));

        // the flips swapped some "left" captions, and not all of them
        var captions = full.SelectMany(b => b.Examples).Select(e => e.Turns[1].Text).Where(t => t.StartsWith("A cat", StringComparison.Ordinal)).ToArray();
        Assert.Contains(captions, c => c.Contains("right", StringComparison.Ordinal));
        Assert.Contains(captions, c => c.Contains("left", StringComparison.Ordinal));
    }

    [Fact]
    public void Resume_OtherSeedOrChangedData_Fails()
    {
        var set = TextSet(5);
        var e = Assert.ThrowsAny<FurnaceException>(() => new TrainingLoader(set, new TrainingLoaderOptions { Seed = 1 }, new DataPosition(0, 2, 2, 5)));
        Assert.Contains("seed 2", e.Message);
        e = Assert.ThrowsAny<FurnaceException>(() => new TrainingLoader(set, new TrainingLoaderOptions { Seed = 1 }, new DataPosition(0, 2, 1, 6)));
        Assert.Contains("the data changed", e.Message);
        Assert.ThrowsAny<FurnaceException>(() => DataPosition.FromJson("""{"epoch": 0, "index": 9, "seed": 1, "count": 5}"""));
        Assert.ThrowsAny<FurnaceException>(() => DataPosition.FromJson("{"));
        Assert.Equal(new DataPosition(2, 3, 18446744073709551615, 5), DataPosition.FromJson(new DataPosition(2, 3, ulong.MaxValue, 5).ToJson()));
    }

    [Fact]
    public void DropLast_OnlyFullBatches()
    {
        var batches = All(TextSet(10), new TrainingLoaderOptions { BatchSize = 4, Epochs = 2, DropLast = true });
        Assert.Equal([4, 4, 4, 4], batches.Select(b => b.Count));
        Assert.Equal(new DataPosition(1, 0, 0, 10), batches[1].Next);
        Assert.ThrowsAny<FurnaceException>(() => new TrainingLoader(TextSet(3), new TrainingLoaderOptions { BatchSize = 4, DropLast = true }));
    }

    [Fact]
    public void EndlessEpochs_KeepGoing_AndDisposeStopsTheProducer()
    {
        var set = TextSet(3);
        var loader = new TrainingLoader(set, new TrainingLoaderOptions { BatchSize = 2, Epochs = null, Prefetch = 1 });
        var taken = loader.Batches().Take(25).ToList();
        Assert.Equal(12, taken[^1].Epoch);
        loader.Dispose();
        loader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loader.TryNext(out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void BrokenImage_FailsAtItsOwnBatch(int prefetch)
    {
        using var dir = new TempDir();
        string jsonl = DataFiles.PngCaptions(dir.Path, 5);
        File.WriteAllBytes(dir.File("img/03.png"), [0x89, 0x50, 0x4E, 0x47]);
        var set = TrainingSet.Load(jsonl);
        using var loader = new TrainingLoader(set, new TrainingLoaderOptions { Shuffle = false, Prefetch = prefetch, Images = Pipeline() });
        for (int i = 0; i < 3; i++) Assert.True(loader.TryNext(out _));
        var e = Assert.ThrowsAny<FurnaceException>(() => loader.TryNext(out _));
        Assert.Contains("03.png", e.Message);
        Assert.False(loader.TryNext(out _));
    }

    [Fact]
    public void NoPipeline_BatchesCarryPathsOnly()
    {
        using var dir = new TempDir();
        var set = TrainingSet.Load(DataFiles.PngCaptions(dir.Path, 2));
        var b = All(set, new TrainingLoaderOptions { BatchSize = 2, Shuffle = false })[0];
        Assert.Equal([null, null], b.Pixels);
        Assert.Equal(dir.File("img/00.png"), b.Examples[0].ImagePath);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    public void Loader_Shards_PartitionEveryGlobalBatchAndKeepItsPositions(int shards)
    {
        var set = TextSet(10);
        var options = new TrainingLoaderOptions { BatchSize = 4, Seed = 5, Epochs = 2, Prefetch = 0 };
        var global = All(set, options);
        var parts = Enumerable.Range(0, shards).Select(r => All(set, options with { ShardIndex = r, ShardCount = shards })).ToArray();
        foreach (var part in parts) Assert.Equal(global.Count, part.Count);
        for (int b = 0; b < global.Count; b++)
        {
            // the shards in rank order are the global batch: no overlap, no gap, contiguous slices
            Assert.Equal(global[b].Indices, parts.SelectMany(p => p[b].Indices));
            Assert.All(parts, p => Assert.Equal(global[b].Start, p[b].Start));
            Assert.All(parts, p => Assert.Equal(global[b].Next, p[b].Next));
            Assert.InRange(parts.Max(p => p[b].Count) - parts.Min(p => p[b].Count), 0, 1);
        }
        // resuming a shard mid-run gives the rest of that shard's batches
        var resumed = All(set, options with { ShardIndex = shards - 1, ShardCount = shards }, global[2].Start);
        Assert.Equal(parts[^1].Skip(2).Select(Describe), resumed.Select(Describe));
    }

    [Fact]
    public void LoaderOptions_ShardOutOfRange_Throws()
    {
        var e = Assert.Throws<FurnaceException>(() => new TrainingLoaderOptions { ShardIndex = 2, ShardCount = 2 }.Validated());
        Assert.Equal("shard 2 of 2 does not exist", e.Message);
    }
}
