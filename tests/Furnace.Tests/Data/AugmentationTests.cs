// Augmentation: left/right word detection and swapping (English and Chinese), the flip rules of LeftRightPolicy,
// determinism from the seed, torchvision's crop-box ranges, and the bilinear crop-resize and flip against PyTorch.
using Furnace.Data;
using Furnace.Formats.Images;
using Furnace.Tests.Support;

namespace Furnace.Tests.Data;

public sealed class AugmentationTests
{
    private static PixelValues Noise(int h, int w, ulong seed)
    {
        var rng = new DataRandom(seed);
        var data = new float[3 * h * w];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble(-2, 2);
        return new PixelValues(3, h, w, data);
    }

    private static TrainingExample Caption(string text) =>
        new("x", "/x.png", [new TrainingTurn(TrainingRole.User, "<image>\nDescribe this image in one sentence."), new TrainingTurn(TrainingRole.Assistant, text)]);

    [Theory]
    [InlineData("A dog on the left.", true, "A dog on the right.")]
    [InlineData("Left hand up, RIGHT foot down; the leftmost cup.", true, "Right hand up, LEFT foot down; the rightmost cup.")]
    [InlineData("Turn rightwards, then left-hand side.", true, "Turn leftwards, then right-hand side.")]
    [InlineData("A bright copyright leftover.", false, "A bright copyright leftover.")]
    [InlineData("一只狗在左边，猫在右侧。", true, "一只狗在右边，猫在左侧。")]
    [InlineData("大约十岁左右的孩子。", false, "大约十岁左右的孩子。")]
    [InlineData("左手拿着杯子，左右两边都是树。", true, "右手拿着杯子，左右两边都是树。")]
    [InlineData("A cat.", false, "A cat.")]
    public void LeftRightText_MentionsAndSwap(string text, bool mentions, string swapped)
    {
        Assert.Equal(mentions, LeftRightText.Mentions(text));
        Assert.Equal(swapped, LeftRightText.Swap(text));
        Assert.Equal(text, LeftRightText.Swap(LeftRightText.Swap(text)));
    }

    [Fact]
    public void Flip_NoSideWords_FlipsImageKeepsText()
    {
        var aug = new ImageAugmenter(new AugmentationOptions { FlipProbability = 1 });
        var px = Noise(4, 5, 1);
        var (ex, outPx, flipped) = aug.Apply(Caption("A cat."), px, seed: 7);
        Assert.True(flipped);
        Assert.Equal("A cat.", ex.Turns[1].Text);
        Assert.Equal(px[1, 2, 0], outPx[1, 2, 4]);
        Assert.Equal(px.Data, ImageAugmenter.FlipHorizontal(outPx).Data);
    }

    [Fact]
    public void Flip_SideWords_SwapPolicySwapsEveryTurn_NoFlipPolicyLeavesItAlone()
    {
        var example = new TrainingExample("x", "/x.png",
            [new TrainingTurn(TrainingRole.User, "<image>\nWhat is on the left?"), new TrainingTurn(TrainingRole.Assistant, "A dog, left of the cat.")]);
        var px = Noise(4, 4, 2);
        var (swapped, flippedPx, flipped) = new ImageAugmenter(new AugmentationOptions { FlipProbability = 1 }).Apply(example, px, 1);
        Assert.True(flipped);
        Assert.Equal(["<image>\nWhat is on the right?", "A dog, right of the cat."], swapped.Turns.Select(t => t.Text));
        Assert.NotEqual(px.Data, flippedPx.Data);

        var (kept, keptPx, notFlipped) = new ImageAugmenter(new AugmentationOptions { FlipProbability = 1, LeftRight = LeftRightPolicy.NoFlip }).Apply(example, px, 1);
        Assert.False(notFlipped);
        Assert.Same(example, kept);
        Assert.Same(px, keptPx);
    }

    [Fact]
    public void Apply_SameSeedSameResult_SeedsVary()
    {
        var aug = new ImageAugmenter(new AugmentationOptions { RandomResizedCrop = true, FlipProbability = 0.5 });
        var px = Noise(16, 16, 3);
        var a = aug.Apply(Caption("A cat on the left."), px, 11);
        var b = aug.Apply(Caption("A cat on the left."), px, 11);
        Assert.Equal(a.Pixels.Data, b.Pixels.Data);
        Assert.Equal(a.Example.Turns, b.Example.Turns);
        var results = Enumerable.Range(0, 40).Select(s => aug.Apply(Caption("A cat on the left."), px, (ulong)s)).ToArray();
        Assert.Contains(results, r => r.Flipped);
        Assert.Contains(results, r => !r.Flipped);
        Assert.All(results, r => Assert.Equal(r.Flipped ? "A cat on the right." : "A cat on the left.", r.Example.Turns[1].Text));
        Assert.True(results.Select(r => r.Pixels.Data[0]).Distinct().Count() > 20);
    }

    [Fact]
    public void CropBox_WithinImageAndScaleRange()
    {
        var aug = new ImageAugmenter(new AugmentationOptions { RandomResizedCrop = true, MinScale = 0.3, MaxScale = 0.9 });
        for (int s = 0; s < 300; s++)
        {
            var rng = DataRandom.For(5, s, 0, "crop");
            var (top, left, h, w) = aug.CropBox(60, 80, ref rng);
            Assert.InRange(top, 0, 60 - h);
            Assert.InRange(left, 0, 80 - w);
            double scale = (double)h * w / (60 * 80);
            Assert.InRange(scale, 0.25, 0.95);
            Assert.InRange((double)w / h, 0.7, 1.4);
        }
    }

    [Fact]
    public void ResizeBilinear_FullBox_IsIdentity()
    {
        var px = Noise(7, 9, 4);
        Assert.Equal(px.Data, ImageAugmenter.ResizeBilinear(px, 0, 0, 7, 9, 7, 9).Data);
    }

    [Fact]
    public void Options_OutOfRange_Fail()
    {
        Assert.ThrowsAny<FurnaceException>(() => new ImageAugmenter(new AugmentationOptions { MinScale = 0 }));
        Assert.ThrowsAny<FurnaceException>(() => new ImageAugmenter(new AugmentationOptions { MinScale = 0.9, MaxScale = 0.5 }));
        Assert.ThrowsAny<FurnaceException>(() => new ImageAugmenter(new AugmentationOptions { FlipProbability = 1.5 }));
        Assert.ThrowsAny<FurnaceException>(() => new ImageAugmenter(new AugmentationOptions { MinRatio = 2, MaxRatio = 1 }));
    }

    [Fact]
    public void ResizeBilinearAndFlip_MatchPyTorch()
    {
        using var dir = new TempDir();
        var px = Noise(23, 31, 5);
        File.WriteAllBytes(dir.File("in.f32"), px.Data.SelectMany(BitConverter.GetBytes).ToArray());
        (int Top, int Left, int H, int W, int OutH, int OutW)[] boxes = [(3, 5, 11, 17, 24, 24), (0, 0, 23, 31, 16, 20), (10, 2, 13, 9, 23, 31)];
        for (int i = 0; i < boxes.Length; i++)
        {
            var (t, l, h, w, oh, ow) = boxes[i];
            PyTorchOracle.Run("augment_reference.py", dir.File("in.f32"), "3", "23", "31", $"{t}", $"{l}", $"{h}", $"{w}", $"{oh}", $"{ow}", dir.File($"out{i}.f32"));
            byte[] raw = File.ReadAllBytes(dir.File($"out{i}.f32"));
            var expected = new float[raw.Length / 4];
            Buffer.BlockCopy(raw, 0, expected, 0, raw.Length);
            var ours = ImageAugmenter.FlipHorizontal(ImageAugmenter.ResizeBilinear(px, t, l, h, w, oh, ow)).Data;
            Assert.Equal(expected.Length, ours.Length);
            float worst = expected.Zip(ours, (a, b) => MathF.Abs(a - b)).Max();
            Assert.True(worst < 1e-5f, $"box {i}: max |diff| {worst}");
        }
    }
}
