// A CLIP checkpoint (transformers modeling_clip.py CLIPModel): both towers, their projections and the learned
// temperature. Similarity mirrors CLIPModel.forward: embeddings are L2-normalized, logits_per_image =
// image_embeds @ text_embeds^T * logit_scale.exp(), probabilities = softmax over texts per image.
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Tokenizers;
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Clip;

public sealed class ClipModel : IDisposable
{
    private readonly ITensorSource? _owned;

    public ClipModel(ClipConfig config, ClipVisionTower vision, ClipTextTower text, float logitScale, ClipTokenizer? tokenizer = null, ITensorSource? owned = null)
    {
        Config = config;
        Vision = vision;
        Text = text;
        LogitScale = logitScale;
        Tokenizer = tokenizer;
        _owned = owned;
    }

    public ClipConfig Config { get; }

    public ClipVisionTower Vision { get; }

    public ClipTextTower Text { get; }

    /// <summary>The logit_scale parameter (log of the temperature's inverse); similarities are scaled by its exp.</summary>
    public float LogitScale { get; }

    /// <summary>The tokenizer found beside the weights (tokenizer.json or vocab.json + merges.txt), if any.</summary>
    public ClipTokenizer? Tokenizer { get; }

    /// <summary>Loads a CLIPModel directory: config.json, model.safetensors (or shards), and the tokenizer when present.</summary>
    public static ClipModel Load(string dir)
    {
        ClipConfig c = ClipConfig.FromHuggingFace(dir);
        if (c.Architecture != ClipArchitecture.ClipModel)
            throw new FurnaceException($"{dir}: a {c.Architecture} checkpoint has no text tower; load it with ClipVisionTower.Load");
        ClipTokenizer? tokenizer = null;
        if (File.Exists(Path.Combine(dir, "tokenizer.json")) || File.Exists(Path.Combine(dir, "vocab.json")))
            tokenizer = ClipTokenizer.FromHuggingFace(dir);
        ITensorSource source = SafeTensorsCheckpoint.Open(dir);
        try
        {
            var vb = new WeightLoader(source);
            int projection = c.ProjectionDim!.Value;
            var vision = new ClipVisionTower(c.Vision, ClipVisionWeights.Load(vb, c.Vision, projection));
            var text = new ClipTextTower(c.Text!, ClipTextWeights.Load(vb, c.Text!, projection));
            float logitScale = vb.Floats("logit_scale")[0];
            return new ClipModel(c, vision, text, logitScale, tokenizer, source);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Vision.Dispose(); // frees the tower's pre-packed matrices (its weights belong to _owned)
        _owned?.Dispose();
    }

    /// <summary>Scores images (images, C, H, W) against token sequences.</summary>
    public ClipSimilarity Similarity(ReadOnlySpan<float> pixels, int images, IReadOnlyList<int[]> texts, KernelContext ctx)
    {
        if (texts.Count == 0) throw new FurnaceException("no texts to compare the image with");
        float[] imageEmbeds = Vision.EncodeImages(pixels, images, ctx);
        float[] textEmbeds = Text.EncodeTexts(texts, ctx);
        return Score(imageEmbeds, images, textEmbeds, texts.Count);
    }

    /// <summary>Scores images against texts tokenized with the checkpoint's tokenizer.</summary>
    public ClipSimilarity Similarity(ReadOnlySpan<float> pixels, int images, IReadOnlyList<string> texts, KernelContext ctx)
    {
        ClipTokenizer tok = Tokenizer ?? throw new FurnaceException("this CLIP checkpoint has no tokenizer (tokenizer.json or vocab.json + merges.txt); pass token ids");
        return Similarity(pixels, images, texts.Select(t => tok.Encode(t)).ToList(), ctx);
    }

    /// <summary>CLIPModel.forward's logits and softmax from unnormalized embeddings (images, e) and (texts, e).</summary>
    public ClipSimilarity Score(float[] imageEmbeds, int images, float[] textEmbeds, int texts)
    {
        int e = Text.EmbeddingDim;
        if (imageEmbeds.Length != images * e || textEmbeds.Length != texts * e)
            throw new ArgumentException($"embeddings must be ({images}, {e}) and ({texts}, {e})");
        double scale = Math.Exp(LogitScale);
        var logits = new float[images * texts];
        var probs = new float[images * texts];
        for (int i = 0; i < images; i++)
        {
            ReadOnlySpan<float> a = imageEmbeds.AsSpan(i * e, e);
            for (int j = 0; j < texts; j++)
            {
                ReadOnlySpan<float> b = textEmbeds.AsSpan(j * e, e);
                double dot = 0, na = 0, nb = 0;
                for (int k = 0; k < e; k++)
                {
                    dot += (double)a[k] * b[k];
                    na += (double)a[k] * a[k];
                    nb += (double)b[k] * b[k];
                }
                logits[i * texts + j] = (float)(dot / (Math.Sqrt(na) * Math.Sqrt(nb)) * scale);
            }
            logits.AsSpan(i * texts, texts).CopyTo(probs.AsSpan(i * texts, texts));
            Ops.Softmax(probs.AsSpan(i * texts, texts));
        }
        return new ClipSimilarity(images, texts, logits, probs);
    }
}
