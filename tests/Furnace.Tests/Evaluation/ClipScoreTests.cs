// CLIPScore and RefCLIPScore on a tiny random CLIP checkpoint and real COCO photos (evaluation use): the scores
// against a hand computation from our ClipModel's embeddings (plain arithmetic in the test), the "A photo depicts "
// prefix on candidates and references, clipping at 0, truncation to the 77-token context, and input errors.
using Furnace.Evaluation;
using Furnace.Formats.Images;
using Furnace.Models.Clip;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Evaluation;

public sealed class ClipScoreTests : IDisposable
{
    private static readonly string[] Candidates = ["a dog runs on the grass", "two people ride a bus", "a plate of food"];

    private static readonly string[][] References =
    [
        ["a dog on a lawn", "a brown dog running"],
        ["people on a bus", "a red bus in the street", "two people ride a bus"],
        ["a sandwich on a plate"],
    ];

    private readonly TempDir _dir = new();
    private readonly ClipModel _model;
    private readonly ImagePreprocessor _preprocessor;
    private readonly KernelContext _ctx = new(1);
    private readonly string[] _images = SharedPaths.CocoPhotos().Take(3).ToArray();

    public ClipScoreTests()
    {
        TinyClipCheckpoint.Write(_dir.Path);
        _model = ClipModel.Load(_dir.Path);
        _preprocessor = ImagePreprocessor.Load(_dir.Path);
    }

    public void Dispose()
    {
        _ctx.Dispose();
        _model.Dispose();
        _dir.Dispose();
    }

    private float[] Image(int i) => _model.Vision.EncodeImage(_preprocessor.Preprocess(ImageDecoder.Load(_images[i])).Data, _ctx);

    private float[] Text(string text) => _model.Text.EncodeText(_model.Tokenizer!.Encode(text), _ctx);

    private static double Cos(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int k = 0; k < a.Length; k++)
        {
            dot += (double)a[k] * b[k];
            na += (double)a[k] * a[k];
            nb += (double)b[k] * b[k];
        }
        return dot / Math.Sqrt(na) / Math.Sqrt(nb);
    }

    [Fact]
    public void Compute_EqualsHandComputationFromEmbeddings()
    {
        var result = ClipScore.Compute(_model, _preprocessor, _images, Candidates, References, _ctx);

        var clip = new double[3];
        var refClip = new double[3];
        for (int i = 0; i < 3; i++)
        {
            float[] c = Text("A photo depicts " + Candidates[i]);
            clip[i] = 2.5 * Math.Max(Cos(Image(i), c), 0);
            double textSide = Math.Max(References[i].Max(r => Cos(c, Text("A photo depicts " + r))), 0);
            refClip[i] = clip[i] + textSide == 0 ? 0 : 2 * clip[i] * textSide / (clip[i] + textSide);
            Assert.Equal(clip[i], result.ClipScore.PerImage[i], 1e-6);
            Assert.Equal(refClip[i], result.RefClipScore!.PerImage[i], 1e-6);
        }
        Assert.Equal(clip.Average(), result.ClipScore.Corpus, 1e-6);
        Assert.Equal(refClip.Average(), result.RefClipScore!.Corpus, 1e-6);
        Assert.Contains(clip, s => s > 0); // the comparison is not all zeros
    }

    [Fact]
    public void Compute_MoreImagesThanOneTowerBatch_SameScoresAsOneAtATime()
    {
        // 10 images: one batched vision pass of 8, then one of 2; each image's score must not depend on its batch
        string[] images = Enumerable.Range(0, 10).Select(i => _images[i % 3]).ToArray();
        string[] candidates = Enumerable.Range(0, 10).Select(i => Candidates[i % 3]).ToArray();
        var result = ClipScore.Compute(_model, _preprocessor, images, candidates, null, _ctx);
        for (int i = 0; i < 10; i++)
            Assert.Equal(2.5 * Math.Max(Cos(Image(i % 3), Text("A photo depicts " + Candidates[i % 3])), 0), result.ClipScore.PerImage[i], 1e-6);
    }

    [Fact]
    public void Compute_PrefixesCandidatesAndReferences()
    {
        var result = ClipScore.Compute(_model, _preprocessor, _images[1..2], [Candidates[1]], [References[1]], _ctx);
        double withPrefix = 2.5 * Math.Max(Cos(Image(1), Text("A photo depicts " + Candidates[1])), 0);
        double without = 2.5 * Math.Max(Cos(Image(1), Text(Candidates[1])), 0);
        Assert.Equal(withPrefix, result.ClipScore.Corpus, 1e-6);
        Assert.NotEqual(without, result.ClipScore.Corpus, 1e-4);

        // the candidate is one of the references: both carry the prefix, so their cosine is exactly 1
        double clip = result.ClipScore.Corpus;
        Assert.Equal(2 * clip / (clip + 1), result.RefClipScore!.Corpus, 1e-6);
    }

    [Fact]
    public void Tokenize_PrefixAndTruncationToTheContext()
    {
        int[] ids = ClipScore.Tokenize(_model, "dog");
        // <start> a</w> p h o t o</w> d e p i c t s</w> d o g</w> <end>
        Assert.Equal(98, ids[0]);
        Assert.Equal(26, ids[1]);
        Assert.Equal(99, ids[^1]);
        Assert.Equal(1 + 1 + 5 + 7 + 3 + 1, ids.Length);

        int[] longIds = ClipScore.Tokenize(_model, string.Join(' ', Enumerable.Repeat("dog", 40)));
        Assert.Equal(77, longIds.Length);
        Assert.Equal(99, longIds[^1]);
        int[] untruncated = _model.Tokenizer!.Encode("A photo depicts " + string.Join(' ', Enumerable.Repeat("dog", 40)), truncate: false);
        Assert.Equal(untruncated[..76], longIds[..76]);
    }

    [Fact]
    public void Formula_ClipsNegativeSimilaritiesAtZero()
    {
        float[] v = Image(0);
        float[] negated = v.Select(x => -x).ToArray();
        Assert.Equal(2.5, ClipScore.FromEmbeddings(v, v), 1e-12);
        Assert.Equal(0, ClipScore.FromEmbeddings(v, negated));

        // text side: every reference points away from the candidate -> 0, and the harmonic mean with it is 0
        Assert.Equal(0, ClipScore.RefFromEmbeddings(1.7, v, [.. negated, .. negated]));
        Assert.Equal(0, ClipScore.RefFromEmbeddings(0, v, negated));
        // the best reference counts: cos 1 with the second one
        Assert.Equal(2 * 1.7 / 2.7, ClipScore.RefFromEmbeddings(1.7, v, [.. negated, .. v]), 1e-12);
    }

    [Fact]
    public void Compute_WithoutReferences_HasNoRefClipScore()
    {
        var result = ClipScore.Compute(_model, _preprocessor, _images[..2], Candidates[..2], null, _ctx);
        Assert.Null(result.RefClipScore);
        Assert.Equal(2, result.ClipScore.PerImage.Count);
        Assert.Throws<ArgumentException>(() => ClipScore.Compute(_model, _preprocessor, _images[..2], Candidates, null, _ctx));
    }
}
