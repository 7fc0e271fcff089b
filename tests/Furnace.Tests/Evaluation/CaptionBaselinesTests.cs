// CaptionBaselines: the constant caption is the training caption that scores best on the training images; nearest
// neighbour retrieval by cosine similarity.
using Furnace.Evaluation;

namespace Furnace.Tests.Evaluation;

public sealed class CaptionBaselinesTests
{
    [Fact]
    public void BestConstant_MajorityCaption_Wins()
    {
        var train = new List<(string, IReadOnlyList<string>)>();
        for (int i = 0; i < 30; i++) train.Add(($"img{i}", [i % 3 == 0 ? "a cat on a mat" : "a red apple on a blue background"]));
        var (caption, cider) = CaptionBaselines.BestConstant(train, candidates: 10, sample: 30);
        Assert.Equal("a red apple on a blue background", caption);
        Assert.True(cider > 0);
    }

    [Fact]
    public void Nearest_CosineSimilarity_IgnoresScale()
    {
        float[][] train = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
        float[][] queries = [[0, 10, 1], [0.1f, 0, 5]];
        Assert.Equal([1, 2], CaptionBaselines.Nearest(train, queries));
    }

    [Fact]
    public void MeanPool_Grid_AveragesTokens()
    {
        Assert.Equal([2f, 3f], CaptionBaselines.MeanPool([1, 2, 3, 4], tokens: 2, dim: 2));
    }
}
