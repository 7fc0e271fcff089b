// PtbTokenizer against the 50 vectors produced by Stanford PTBTokenizer 3.4.1 (-preserveLines -lowerCase) and
// coco-caption's punctuation removal.
using Furnace.Evaluation;

namespace Furnace.Tests.Evaluation;

public sealed class PtbTokenizerTests
{
    public static TheoryData<int> VectorIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < MetricFixtures.PtbVectors().Count; i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(VectorIndices))]
    public void TokenizeRaw_Vector_MatchesPtb341(int index)
    {
        var v = MetricFixtures.PtbVectors()[index];
        Assert.Equal(v.PtbRaw, string.Join(' ', PtbTokenizer.TokenizeRaw(v.Input)));
    }

    [Theory]
    [MemberData(nameof(VectorIndices))]
    public void Tokenize_Vector_MatchesCocoCaption(int index)
    {
        var v = MetricFixtures.PtbVectors()[index];
        Assert.Equal(v.CocoTokenized, PtbTokenizer.Tokenize(v.Input));
    }

    [Fact]
    public void Tokenize_NewlineInsideCaption_TreatedAsSpace()
    {
        Assert.Equal("a dog on a couch", PtbTokenizer.Tokenize("A dog\non a couch."));
    }

    [Fact]
    public void TokenizeRaw_AbbreviationBeforeCapital_AddsSentencePeriod()
    {
        Assert.Equal(["cats", ",", "dogs", ",", "etc.", ".", "then", "more"], PtbTokenizer.TokenizeRaw("Cats, dogs, etc. Then more"));
        Assert.Equal(["cats", "etc.", "and", "more"], PtbTokenizer.TokenizeRaw("Cats etc. and more"));
    }

    [Theory]
    [InlineData("A «quoted» word", "a `` quoted '' word")]
    [InlineData("Stars ** and ## here", "stars ** and ## here")]
    [InlineData("A dog., a cat", "a dog. , a cat")]
    [InlineData("A DOG'S BED", "a dog 's bed")]
    [InlineData("Tea in the U.S. Then more", "tea in the u.s. then more")]
    [InlineData("A dog :) and a cat :-(", "a dog :-rrb- and a cat :--lrb-")]
    public void TokenizeRaw_PtbConvention_Applied(string input, string expected)
    {
        Assert.Equal(expected, string.Join(' ', PtbTokenizer.TokenizeRaw(input)));
    }
}
