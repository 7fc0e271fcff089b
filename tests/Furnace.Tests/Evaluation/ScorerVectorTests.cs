// Bleu, RougeL and CiderD against coco-caption's own outputs on small_test_vectors_bleu_rouge_cider.json
// (corpus and per-image values, and the BLEU statistics line it prints), to 1e-6.
using System.Text.RegularExpressions;
using Furnace.Evaluation;

namespace Furnace.Tests.Evaluation;

public sealed partial class ScorerVectorTests
{
    private const double Tolerance = 1e-6;

    public static TheoryData<int> VectorIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < MetricFixtures.ScorerVectors().Count; i++) data.Add(i);
        return data;
    }

    // coco-caption iterates gts.keys(); per-image arrays follow that order.
    private static (List<string> Candidates, List<IReadOnlyList<string>> References) Inputs(ScorerVector v)
    {
        var candidates = new List<string>();
        var references = new List<IReadOnlyList<string>>();
        foreach (var (id, refs) in v.Gts)
        {
            candidates.Add(Assert.Single(v.Res[id]));
            references.Add(refs);
        }
        return (candidates, references);
    }

    [Theory]
    [MemberData(nameof(VectorIndices))]
    public void BleuCompute_Vector_MatchesCocoCaption(int index)
    {
        var v = MetricFixtures.ScorerVectors()[index];
        var (candidates, references) = Inputs(v);
        var bleu = Bleu.Compute(candidates, references);
        for (int n = 0; n < 4; n++)
        {
            Assert.Equal(v.Bleu[n], bleu.Corpus[n], Tolerance);
            for (int img = 0; img < candidates.Count; img++)
                Assert.Equal(v.BleuPerImage[n][img], bleu.PerImage[img][n], Tolerance);
        }
    }

    [Theory]
    [MemberData(nameof(VectorIndices))]
    public void BleuCompute_Vector_StatisticsMatchVerboseLine(int index)
    {
        var v = MetricFixtures.ScorerVectors()[index];
        var (candidates, references) = Inputs(v);
        var bleu = Bleu.Compute(candidates, references);
        var m = VerboseLine().Match(v.BleuVerbose);
        Assert.True(m.Success, v.BleuVerbose);
        Assert.Equal(long.Parse(m.Groups["testlen"].Value), bleu.TestLength);
        Assert.Equal(long.Parse(m.Groups["reflen"].Value), bleu.ReferenceLength);
        Assert.Equal(ParseList(m.Groups["guess"].Value), bleu.Guess);
        Assert.Equal(ParseList(m.Groups["correct"].Value), bleu.Correct);
    }

    [Theory]
    [MemberData(nameof(VectorIndices))]
    public void RougeLCompute_Vector_MatchesCocoCaption(int index)
    {
        var v = MetricFixtures.ScorerVectors()[index];
        var (candidates, references) = Inputs(v);
        var rouge = RougeL.Compute(candidates, references);
        Assert.Equal(v.RougeL, rouge.Corpus, Tolerance);
        for (int img = 0; img < candidates.Count; img++) Assert.Equal(v.RougeLPerImage[img], rouge.PerImage[img], Tolerance);
    }

    [Theory]
    [MemberData(nameof(VectorIndices))]
    public void CiderDCompute_Vector_MatchesCocoCaption(int index)
    {
        var v = MetricFixtures.ScorerVectors()[index];
        var (candidates, references) = Inputs(v);
        var cider = CiderD.Compute(candidates, references);
        Assert.Equal(v.Cider, cider.Corpus, Tolerance);
        for (int img = 0; img < candidates.Count; img++) Assert.Equal(v.CiderPerImage[img], cider.PerImage[img], Tolerance);
    }

    [Fact]
    public void BleuCompute_EqualDistanceReferences_TakesShorterLength()
    {
        // Candidate of 4 words, references of 3 and 5: both 1 away; coco-caption picks 3.
        var bleu = Bleu.Compute(["a b c d"], [["a b c", "a b c d e"]]);
        Assert.Equal(3, bleu.ReferenceLength);
    }

    [Fact]
    public void RougeLCompute_EmptyCandidate_ScoresZero()
    {
        var rouge = RougeL.Compute([""], [["a dog"]]);
        Assert.Equal(0.0, rouge.Corpus);
    }

    [Fact]
    public void CiderDCompute_SingleImage_ScoresZero()
    {
        // log(1 image) = 0 makes every idf weight 0 (nlg-eval's "CIDEr always 0" note).
        var cider = CiderD.Compute(["a dog on a couch"], [["a dog on a couch", "a dog sleeping"]]);
        Assert.Equal(0.0, cider.Corpus);
    }

    [Fact]
    public void BleuCompute_MismatchedInputs_Throws()
    {
        Assert.Throws<ArgumentException>(() => Bleu.Compute(["a"], []));
        Assert.Throws<ArgumentException>(() => Bleu.Compute(["a"], [[]]));
    }

    private static long[] ParseList(string s) => s.Split(',').Select(x => long.Parse(x.Trim())).ToArray();

    [GeneratedRegex(@"'testlen': (?<testlen>\d+), 'reflen': (?<reflen>\d+), 'guess': \[(?<guess>[\d, ]+)\], 'correct': \[(?<correct>[\d, ]+)\]")]
    private static partial Regex VerboseLine();
}
