// A DeepSeek-VL2 directory (model_type deepseek_vl_v2) joined into one model (modeling_deepseek_vl_v2.py
// DeepseekVLV2ForCausalLM.prepare_inputs_embeds at DeepSeek-VL2 ef9f91e): the SigLIP tower at vision.* on every view
// (global view and tiles), the downsample_mlp_gelu projector at projector.layers.*, the 2D tile layout with
// image_newline / view_seperator, spliced at the prompt's image slots into the DeepSeek decoder at language.*.
// The tower follows deepseek_vl2_reference.py: all blocks, final norm, tanh GELU, attn_pool.* unused.
using Furnace.Formats.ChatTemplates;
using Furnace.Formats.Images;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.Clip;
using Furnace.Models.DeepSeek;
using Furnace.Models.Siglip;
using Furnace.Tensors;

namespace Furnace.Models.DeepSeekVl2;

/// <summary>A prompt's ids and its input embeddings (ids' rows, image slots replaced by the assembled image rows).</summary>
public sealed record DeepSeekVl2Embedded(DeepSeekVl2Prompt Prompt, float[] ImageRows, float[] Embeddings);

public sealed class DeepSeekVl2Model : IDisposable
{
    private readonly ITensorSource _source;

    private DeepSeekVl2Model(DeepSeekVl2Config config, DeepSeekVl2Processor processor, SiglipVisionTower tower,
        DeepSeekVl2Projector projector, DeepSeekVl2ImageLayout layout, DeepSeekModel decoder, ITensorSource source, string dir)
    {
        Config = config;
        Processor = processor;
        Tower = tower;
        Projector = projector;
        Layout = layout;
        Decoder = decoder;
        _source = source;
        Source = dir;
    }

    public DeepSeekVl2Config Config { get; }

    public DeepSeekVl2Processor Processor { get; }

    public SiglipVisionTower Tower { get; }

    public DeepSeekVl2Projector Projector { get; }

    public DeepSeekVl2ImageLayout Layout { get; }

    public DeepSeekModel Decoder { get; }

    public string Source { get; }

    /// <summary>config.json, processor_config.json, tokenizer.json and the safetensors of a DeepSeek-VL2 directory.</summary>
    public static DeepSeekVl2Model Load(string dir)
    {
        if (!Directory.Exists(dir)) throw new FurnaceException($"{dir}: not a DeepSeek-VL2 model directory");
        DeepSeekVl2Config c = DeepSeekVl2Config.Load(dir);
        DeepSeekVl2Processor processor = DeepSeekVl2Processor.Load(dir);
        if (processor.Tokenizer.VocabSize > c.Language.VocabSize)
            throw new FurnaceException($"{dir}: the tokenizer has {processor.Tokenizer.VocabSize} tokens but the language model only {c.Language.VocabSize}");
        DeepSeekVl2VisionConfig v = c.Vision;
        var towerConfig = new SiglipVisionConfig
        {
            Width = v.Width, Layers = v.Layers, Heads = v.Heads, MlpDim = v.MlpDim, PatchSize = v.PatchSize, ImageSize = v.ImageSize,
            Activation = ClipActivation.GeluTanh,
        };
        ITensorSource source = SafeTensorsCheckpoint.Open(dir);
        PackedWeights packed = new();
        try
        {
            var vb = new WeightLoader(source);
            var tower = SiglipVisionTower.Load(vb.Prefix("vision"), towerConfig);
            var projector = DeepSeekVl2Projector.Load(vb.Prefix("projector"), c.Projector);
            var layout = DeepSeekVl2ImageLayout.Load(vb, c.Language.Dim, c.GlobalViewPos);
            var decoder = new DeepSeekModel(c.Language, DeepSeekWeights.LoadHf(vb.Prefix("language"), c.Language, packed), null, packed);
            return new DeepSeekVl2Model(c, processor, tower, projector, layout, decoder, source, dir);
        }
        catch
        {
            packed.Dispose();
            source.Dispose();
            throw;
        }
    }

    /// <summary>The assembled rows of every image (the slots' rows in prompt order) for views already processed.</summary>
    public float[] ImageRows(IReadOnlyList<DeepSeekVl2ImageViews> images, KernelContext ctx)
    {
        int size = Config.Vision.ImageSize, gridSide = Config.Vision.GridSide;
        int views = images.Sum(i => i.Views.Length), per = 3 * size * size;
        var pixels = new float[(long)views * per];
        int at = 0;
        foreach (var image in images)
            foreach (PixelValues view in image.Views)
            {
                view.Data.AsSpan(0, per).CopyTo(pixels.AsSpan(at * per, per));
                at++;
            }
        float[] features = Tower.Encode(pixels, views, ctx);
        int side = DeepSeekVl2Tiling.TokensPerSide(gridSide, Config.Projector.DownsampleRatio);
        var projected = new float[(long)views * side * side * Projector.OutDim];
        Projector.Forward(projected, features, views, gridSide, ctx);
        return Layout.AssembleAll(projected, side, images.Select(i => i.Grid).ToArray());
    }

    /// <summary>The conversation's ids and input embeddings, the images filling its &lt;image&gt; placeholders in order.</summary>
    public DeepSeekVl2Embedded Embed(IReadOnlyList<ChatMessage> messages, IReadOnlyList<RgbImage> images, KernelContext ctx) =>
        Embed(Processor.Prepare(messages, images), ctx);

    public DeepSeekVl2Embedded Embed(DeepSeekVl2Inputs inputs, KernelContext ctx)
    {
        int dim = Decoder.Dim;
        DeepSeekVl2Prompt prompt = inputs.Prompt;
        float[] rows = inputs.Images.Length == 0 ? [] : ImageRows(inputs.Images, ctx);
        var embeddings = new float[(long)prompt.Positions * dim];
        Decoder.Embed(prompt.InputIds, embeddings);
        DeepSeekVl2ImageLayout.Splice(embeddings, prompt.ImageMask, rows, dim);
        return new DeepSeekVl2Embedded(prompt, rows, embeddings);
    }

    /// <summary>Greedy decoding: maxTokens ids after the prompt (argmax each step; the reference's loop), or fewer when
    /// stopAtEos ends at the tokenizer's EOS (not included).</summary>
    public int[] Greedy(DeepSeekVl2Embedded embedded, int maxTokens, KernelContext ctx, bool stopAtEos = false)
    {
        IDecoder decoder = Decoder;
        int vocab = decoder.VocabSize;
        IDecoderState state = decoder.NewDecoderState(embedded.Prompt.Positions + maxTokens + 1, 1);
        decoder.ForwardEmbeddings(embedded.Embeddings, state, ctx);
        int? eos = stopAtEos ? Processor.Tokenizer.EosId : null;
        var tokens = new List<int>();
        for (int i = 0; i < maxTokens; i++)
        {
            ReadOnlySpan<float> logits = state.Logits.AsSpan(0, vocab);
            int best = 0;
            for (int k = 1; k < vocab; k++) if (logits[k] > logits[best]) best = k;
            if (best == eos) break;
            tokens.Add(best);
            if (i == maxTokens - 1) break;
            decoder.Forward([best], state, ctx);
        }
        return tokens.ToArray();
    }

    /// <summary>One question about the images answered greedily (the CLI's caption and ask): the decoded text.</summary>
    public string Answer(string question, IReadOnlyList<RgbImage> images, int maxTokens, KernelContext ctx)
    {
        var embedded = Embed(Processor.Ask(question, images), ctx);
        return Processor.Tokenizer.Decode(Greedy(embedded, maxTokens, ctx, stopAtEos: true), skipSpecial: true).Trim();
    }

    public void Dispose()
    {
        Tower.Dispose();
        Decoder.Dispose();
        _source.Dispose();
    }
}
