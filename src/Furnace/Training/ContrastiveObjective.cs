// The objective of a `furnace train` contrastive stage (objective "contrastive"): CLIP's symmetric InfoNCE over
// ContrastiveProjectors, with both towers frozen (LiT's locked setting, here locked twice):
//   image side: the LLaVA model's vision features (TokensPerImage, FeatureDim) of the image, mean-pooled over the
//               image tokens → (FeatureDim); cached per image, or — with data.augment — encoded from the loader's
//               augmented pixels every step
//   text side:  the decoder's input token embeddings of the caption (the sample's answer turns, tokenized without
//               special tokens), mean-pooled → (Dim); cached per caption. A bag of embeddings, not a contextual text
//               encoder: the simplest frozen text feature every LLaVA has (CLIP's own text tower is not used).
// Row i of both sides is pair i of the batch. Also counts in-batch retrieval top-1 (image→text and text→image,
// averaged) separately for training and validation passes, read and reset with TakeAccuracy.
using Furnace.Data;
using Furnace.Formats.Images;
using Furnace.Models.Projectors;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;
using Furnace.Training.Losses;

namespace Furnace.Training;

public sealed class ContrastiveObjective : ITrainingObjective<Data.TrainingBatch>
{
    private readonly LlavaTrainable _model;
    private readonly KernelContext _ctx;
    private readonly Dictionary<string, float[]> _images = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float[]> _texts = new(StringComparer.Ordinal);
    private long _trainHits, _trainTotal, _valHits, _valTotal;

    public ContrastiveObjective(LlavaTrainable model, ContrastiveProjectors pair, KernelContext ctx)
    {
        if (pair.Image.InDim != model.FeatureDim) throw new ArgumentException($"image projector takes {pair.Image.InDim}-d features, the vision tower gives {model.FeatureDim}");
        if (pair.Text.InDim != model.Model.Decoder.Dim) throw new ArgumentException($"text projector takes {pair.Text.InDim}-d features, the decoder's embeddings are {model.Model.Decoder.Dim}");
        _model = model;
        Pair = pair;
        _ctx = ctx;
    }

    public ContrastiveProjectors Pair { get; }

    public Tensor Loss(Tape tape, Data.TrainingBatch batch)
    {
        int n = batch.Count;
        if (n < 2) throw new FurnaceException($"a contrastive batch needs at least 2 pairs, got {n}");
        int di = Pair.Image.InDim, dt = Pair.Text.InDim;
        var image = new float[n * di];
        var text = new float[n * dt];
        for (int k = 0; k < n; k++)
        {
            var example = batch.Examples[k];
            ImageFeature(example, batch.Pixels[k]).CopyTo(image.AsSpan(k * di, di));
            TextFeature(example).CopyTo(text.AsSpan(k * dt, dt));
        }
        var (a, b) = Pair.Embed(tape, image, text, n);
        int hits = RetrievalHits(a.Data, b.Data, n, Pair.SharedDim);
        if (tape.Enabled) (_trainHits, _trainTotal) = (_trainHits + hits, _trainTotal + 2 * n);
        else (_valHits, _valTotal) = (_valHits + hits, _valTotal + 2 * n);
        return InfoNce.Loss(tape, a, b, Pair.LogitScale);
    }

    public BatchCounts Count(Data.TrainingBatch batch) => new(batch.Count, 0);

    /// <summary>Top-1 retrieval accuracy over the pairs seen since the last call (validation = recording off), and how
    /// many retrievals (2 per pair) it counts; resets the count.</summary>
    public (double Accuracy, long Retrievals) TakeAccuracy(bool validation)
    {
        var (hits, total) = validation ? (_valHits, _valTotal) : (_trainHits, _trainTotal);
        if (validation) (_valHits, _valTotal) = (0, 0);
        else (_trainHits, _trainTotal) = (0, 0);
        return (total == 0 ? double.NaN : (double)hits / total, total);
    }

    /// <summary>How many of the 2n in-batch retrievals (each image's best text, each text's best image, by cosine
    /// similarity of the (n, d) embeddings a and b) hit their own pair.</summary>
    public static int RetrievalHits(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int n, int d)
    {
        var sim = new double[n * n];
        var na = new double[n];
        var nb = new double[n];
        for (int i = 0; i < n; i++)
        {
            double sa = 0, sb = 0;
            for (int x = 0; x < d; x++)
            {
                sa += (double)a[i * d + x] * a[i * d + x];
                sb += (double)b[i * d + x] * b[i * d + x];
            }
            na[i] = Math.Sqrt(sa) + 1e-12;
            nb[i] = Math.Sqrt(sb) + 1e-12;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int x = 0; x < d; x++) s += (double)a[i * d + x] * b[j * d + x];
                sim[i * n + j] = s / (na[i] * nb[j]);
            }
        int hits = 0;
        for (int i = 0; i < n; i++)
        {
            int bestText = 0, bestImage = 0;
            for (int j = 1; j < n; j++)
            {
                if (sim[i * n + j] > sim[i * n + bestText]) bestText = j;
                if (sim[j * n + i] > sim[bestImage * n + i]) bestImage = j;
            }
            if (bestText == i) hits++;
            if (bestImage == i) hits++;
        }
        return hits;
    }

    /// <summary>The caption of a sample: its answer turns, joined by spaces.</summary>
    public static string CaptionOf(TrainingExample example) =>
        string.Join(' ', example.Turns.Where(t => t.Role == TrainingRole.Assistant).Select(t => t.Text.Trim())).Trim();

    // mean-pooled vision features (FeatureDim) of the sample's image
    private float[] ImageFeature(TrainingExample example, PixelValues? pixels)
    {
        string path = example.ImagePath ?? throw new FurnaceException($"sample {example.Id}: has no image, but a contrastive stage pairs images with captions");
        if (pixels != null) return MeanRows(_model.EncodePixels([pixels], _ctx), _model.FeatureDim);
        if (_images.TryGetValue(path, out var f)) return f;
        RgbImage image;
        try
        {
            image = ImageDecoder.Load(path);
        }
        catch (FurnaceException e)
        {
            throw new FurnaceException($"{path}: {e.Message}");
        }
        f = MeanRows(_model.EncodeImages([image], _ctx), _model.FeatureDim);
        _images[path] = f;
        return f;
    }

    // mean-pooled decoder token embeddings (Dim) of the sample's caption
    private float[] TextFeature(TrainingExample example)
    {
        string caption = CaptionOf(example);
        if (_texts.TryGetValue(caption, out var f)) return f;
        int[] ids = _model.Model.Tokenizer.Encode(caption, addSpecial: false);
        if (ids.Length == 0) throw new FurnaceException($"sample {example.Id}: has an empty caption");
        int dim = _model.Model.Decoder.Dim;
        var rows = new float[ids.Length * dim];
        _model.Model.Decoder.Embed(ids, rows);
        f = MeanRows(rows, dim);
        _texts[caption] = f;
        return f;
    }

    private static float[] MeanRows(float[] rows, int dim)
    {
        int count = rows.Length / dim;
        var mean = new double[dim];
        for (int r = 0; r < count; r++)
            for (int x = 0; x < dim; x++) mean[x] += rows[r * dim + x];
        var f = new float[dim];
        for (int x = 0; x < dim; x++) f[x] = (float)(mean[x] / count);
        return f;
    }
}
