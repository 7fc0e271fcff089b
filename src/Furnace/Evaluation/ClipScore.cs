// CLIPScore and RefCLIPScore (Hessel et al. 2021, "CLIPScore: A Reference-free Evaluation Metric for Image
// Captioning"), as the official jmhessel/clipscore clipscore.py (commit d200b56) computes them:
//   every text (candidate and reference alike) is "A photo depicts " + caption, CLIP-tokenized with truncation to
//   the context (clip.tokenize(truncate=True): the last kept token becomes the end token);
//   embeddings are L2-normalized;  CLIP-S(c, v) = w · max(cos(v, c), 0) with w = 2.5;
//   RefCLIP-S(c, R, v) = harmonic mean of CLIP-S(c, v) and max(max_r cos(c, r), 0)  (no w on the text side);
//   corpus scores are the mean of the per-image scores.
// Two deliberate choices where the code and the paper differ: the text-text side is clipped at 0 (paper, eq. 2; the
// code takes the raw max, which equals it whenever a similarity is positive, as with real CLIP weights), and the
// harmonic mean of two zeros is 0 (the code divides 0 by 0).
using Furnace.Formats.Images;
using Furnace.Formats.Tokenizers;
using Furnace.Models.Clip;
using Furnace.Tensors;

namespace Furnace.Evaluation;

public static class ClipScore
{
    /// <summary>The rescaling weight w of CLIP-S.</summary>
    public const double W = 2.5;

    /// <summary>Prepended to every caption, candidate and reference (clipscore.py's CLIPCapDataset prefix).</summary>
    public const string Prefix = "A photo depicts ";

    /// <summary>CLIP-S from an image and a candidate embedding (unnormalized, as the towers return them).</summary>
    public static double FromEmbeddings(ReadOnlySpan<float> image, ReadOnlySpan<float> candidate) =>
        W * Math.Max(Cosine(image, candidate), 0);

    /// <summary>RefCLIP-S from CLIP-S and the candidate's and references' text embeddings (references, e).</summary>
    public static double RefFromEmbeddings(double clipScore, ReadOnlySpan<float> candidate, ReadOnlySpan<float> references)
    {
        int e = candidate.Length;
        if (e == 0 || references.Length == 0 || references.Length % e != 0)
            throw new ArgumentException($"references must be a non-empty (n, {e}) block of embeddings", nameof(references));
        double best = double.NegativeInfinity;
        for (int r = 0; r < references.Length / e; r++) best = Math.Max(best, Cosine(candidate, references.Slice(r * e, e)));
        return HarmonicMean(clipScore, Math.Max(best, 0));
    }

    /// <summary>2ab / (a + b), and 0 when both are 0.</summary>
    public static double HarmonicMean(double a, double b) => a + b == 0 ? 0 : 2 * a * b / (a + b);

    /// <summary>The token ids CLIPScore feeds the text tower: the prefixed caption, truncated to the context.</summary>
    public static int[] Tokenize(ClipModel model, string caption)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(caption);
        ClipTokenizer tok = model.Tokenizer
            ?? throw new FurnaceException("this CLIP checkpoint has no tokenizer (tokenizer.json or vocab.json + merges.txt); CLIPScore needs one");
        int[] ids = tok.Encode(Prefix + caption);
        int context = model.Text.Config.MaxPositions;
        if (ids.Length > context)
        {
            // the tokenizer's model_max_length may exceed the tower's positions; truncate as clip.tokenize does
            ids = ids[..context];
            ids[^1] = tok.EosId;
        }
        return ids;
    }

    // images per vision-tower pass: one GEMM over all their tokens instead of one per image
    private const int ImageBatch = 8;

    /// <summary>
    /// Scores one candidate per image. <paramref name="images"/> are image file paths, decoded and preprocessed with
    /// <paramref name="preprocessor"/>; <paramref name="references"/>, when given, adds RefCLIP-S.
    /// </summary>
    public static ClipScoreResult Compute(
        ClipModel model,
        ImagePreprocessor preprocessor,
        IReadOnlyList<string> images,
        IReadOnlyList<string> candidates,
        IReadOnlyList<IReadOnlyList<string>>? references,
        KernelContext ctx)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(preprocessor);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(candidates);
        if (images.Count != candidates.Count)
            throw new ArgumentException($"{images.Count} images but {candidates.Count} candidates; need one of each");
        if (references is not null) ScorerInput.Check(candidates, references);
        if (images.Count == 0) throw new ArgumentException("no images to score");

        int e = model.Text.EmbeddingDim;
        var clip = new double[images.Count];
        var refClip = references is null ? null : new double[images.Count];
        float[] embeds = [];
        int imageDim = 0;
        for (int i = 0; i < images.Count; i++)
        {
            int slot = i % ImageBatch;
            if (slot == 0) // the next ImageBatch images go through the vision tower in one batched pass
            {
                int n = Math.Min(ImageBatch, images.Count - i);
                float[]? pixels = null;
                for (int j = 0; j < n; j++)
                {
                    float[] one = preprocessor.Preprocess(ImageDecoder.Load(images[i + j])).Data;
                    pixels ??= new float[(long)n * one.Length];
                    one.CopyTo(pixels, (long)j * one.Length);
                }
                embeds = model.Vision.EncodeImages(pixels, n, ctx);
                imageDim = embeds.Length / n;
            }
            ReadOnlySpan<float> image = embeds.AsSpan(slot * imageDim, imageDim);
            if (image.Length != e)
                throw new FurnaceException($"{images[i]}: the image embedding has {image.Length} values, the text embedding {e}");
            float[] candidate = model.Text.EncodeText(Tokenize(model, candidates[i]), ctx);
            clip[i] = FromEmbeddings(image, candidate);
            if (refClip is not null)
            {
                float[] refs = model.Text.EncodeTexts(references![i].Select(r => Tokenize(model, r)).ToList(), ctx);
                refClip[i] = RefFromEmbeddings(clip[i], candidate, refs);
            }
        }
        return new ClipScoreResult(new MetricScore(clip.Average(), clip), refClip is null ? null : new MetricScore(refClip.Average(), refClip));
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"embeddings of {a.Length} and {b.Length} values");
        double dot = 0, na = 0, nb = 0;
        for (int k = 0; k < a.Length; k++)
        {
            dot += (double)a[k] * b[k];
            na += (double)a[k] * a[k];
            nb += (double)b[k] * b[k];
        }
        return na == 0 || nb == 0 ? 0 : dot / (Math.Sqrt(na) * Math.Sqrt(nb));
    }
}
