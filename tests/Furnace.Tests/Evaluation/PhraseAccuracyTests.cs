// PhraseAccuracy on scenes-style captions: counts in order before the comma, colour sets against the fullest
// reference, relation phrases in either of the two equivalent orders.
using Furnace.Evaluation;

namespace Furnace.Tests.Evaluation;

public sealed class PhraseAccuracyTests
{
    private static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Refs = new Dictionary<string, IReadOnlyList<string>>
    {
        ["a"] = ["two red apples to the left of a dog, on a plain blue background", "a dog to the right of two red apples"],
        ["b"] = ["a pizza in the top left corner, on a grassy background", "a pizza in the top left corner"],
    };

    [Fact]
    public void Compute_SwappedButEquivalentRelation_IsCorrect()
    {
        var p = PhraseAccuracy.Compute(Refs, new Dictionary<string, string> { ["a"] = "a dog to the right of two red apples, on a plain blue background" });
        Assert.Equal((1.0, 1.0, 1.0), (p.Count, p.Colour, p.Position));
    }

    [Fact]
    public void Compute_WrongCountAndSide_AreWrong()
    {
        var p = PhraseAccuracy.Compute(Refs, new Dictionary<string, string> { ["a"] = "three red apples to the right of a dog, on a plain blue background" });
        Assert.Equal((0.0, 1.0, 0.0), (p.Count, p.Colour, p.Position));
    }

    [Fact]
    public void Compute_BackgroundColourLeftOut_IsWrong()
    {
        var p = PhraseAccuracy.Compute(Refs, new Dictionary<string, string> { ["a"] = "two red apples to the left of a dog" });
        Assert.Equal(0.0, p.Colour);
        Assert.Equal(1.0, p.Count);
    }

    [Fact]
    public void Compute_ReferencesWithoutColour_AreNotScoredForColour()
    {
        var p = PhraseAccuracy.Compute(Refs, new Dictionary<string, string> { ["b"] = "a pizza in the top left corner, on a grassy background" });
        Assert.Equal((0, 1, 1), (p.ColourImages, p.CountImages, p.PositionImages));
        Assert.Null(p.Colour);
        Assert.Equal(1.0, p.Position);
    }

    [Fact]
    public void PositionsOf_CornerPhrase_IsNotAlsoReadAsSide()
    {
        Assert.Equal(["pizza in the top left corner"], PhraseAccuracy.PositionsOf("a pizza in the top left corner"));
        Assert.Equal(["apple to the left of"], PhraseAccuracy.PositionsOf("two red apples to the left of a dog"));
        Assert.Equal([2, 1], PhraseAccuracy.CountsOf("two trains above a ticket, against a cloudy sky"));
    }
}
