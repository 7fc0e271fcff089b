// A LLaVA-style vision-language model (Liu et al. 2023, "Visual Instruction Tuning"; transformers
// modeling_llava.py LlavaForConditionalGeneration): vision encoder -> feature select -> projector -> features spliced
// at the <image> placeholders into the decoder's input embeddings -> the decoder generates (the loops: Furnace.Generation's
// VlmGeneration and Captioner).
// Loads one HF directory (vision_tower.*, multi_modal_projector.*, language_model.* in the safetensors, with
// tokenizer.json and preprocessor_config.json; or vision_config model_type onnx_resnet18: the frozen ResNet18 next to
// the binary as the tower, no vision_tower.* keys, see OnnxVisionSpec), or composes parts: any IVisionEncoder, a projector safetensors file
// and a decoder (GGUF file or HF directory) of any architecture behind IDecoder: Llama family or DeepSeek-V2/V3 (MLA + MoE).
using Furnace.Formats.ChatTemplates;
using Furnace.Formats.Images;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Tokenizers;
using Furnace.Formats.Weights;
using Furnace.Models.Clip;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Models.Projectors;
using Furnace.Tensors;

namespace Furnace.Models.Vlm;

public sealed class LlavaModel : IDisposable
{
    public const string ImagePlaceholder = "<image>";

    private readonly IDisposable[] _owned;

    public LlavaModel(IVisionEncoder vision, Projector projector, IDecoder decoder, Tokenizer tokenizer, ChatTemplate? template,
        int imageTokenIndex, string source, params IDisposable[] owned)
    {
        if (projector.InDim != vision.FeatureDim)
            throw new FurnaceException($"{source}: the projector takes {projector.InDim}-d features but the vision encoder gives {vision.FeatureDim}-d");
        if (projector.OutDim != decoder.Dim)
            throw new FurnaceException($"{source}: the projector gives {projector.OutDim}-d rows but the decoder's hidden size is {decoder.Dim}");
        if (tokenizer.VocabSize > decoder.VocabSize)
            throw new FurnaceException($"{source}: the tokenizer has {tokenizer.VocabSize} tokens but the decoder only {decoder.VocabSize}");
        Vision = vision;
        Projector = projector;
        Decoder = decoder;
        Tokenizer = tokenizer;
        Template = template;
        ImageTokenIndex = imageTokenIndex;
        Source = source;
        _owned = owned;
    }

    public IVisionEncoder Vision { get; }

    public Projector Projector { get; }

    /// <summary>The decoder, whatever its architecture (Llama family or DeepSeek-V2/V3): inference goes through this.</summary>
    public IDecoder Decoder { get; }

    /// <summary>The decoder as a Llama-family model, for what only those support (training, LoRA, GPTQ calibration).</summary>
    public LlamaModel LlamaDecoder => Decoder as LlamaModel
        ?? throw new FurnaceException($"{Source}: this needs a Llama-family decoder, but the model's decoder is '{Decoder.Architecture}' (supported there: caption, ask, eval --model, serve)");

    public Tokenizer Tokenizer { get; }

    /// <summary>The decoder's recognised chat template; null uses LLaVA-1.5's "USER: ... ASSISTANT:" format.</summary>
    public ChatTemplate? Template { get; }

    /// <summary>The id written at image slots of InputIds (config.json image_token_index).</summary>
    public int ImageTokenIndex { get; }

    public string Source { get; }

    public int TokensPerImage => Vision.TokensPerImage;

    /// <summary>The family's own prompt format (DeepSeek-VL's "deepseek" conversation), used instead of Template; null for LLaVA.</summary>
    public IVlmPromptFormat? PromptFormat { get; init; }

    /// <summary>The placeholder token of rendered prompts: PromptFormat's, else "&lt;image&gt;".</summary>
    public string ImageTag => PromptFormat?.ImageTag ?? ImagePlaceholder;

    /// <summary>A LLaVA directory (config.json with model_type llava) or a DeepSeek-VL one (model_type multi_modality).</summary>
    public static LlavaModel Load(string dir) => Load(dir, null);

    /// <summary>As Load, with a LoRA adapter merged into the decoder at load when given (see LoraMerge).</summary>
    public static LlavaModel Load(string dir, LoraAdapter? lora, float loraScale = 1f)
    {
        if (!Directory.Exists(dir)) throw new FurnaceException($"{dir}: not a LLaVA model directory");
        if (DeepSeekVl.DeepSeekVlConfig.IsDeepSeekVl(dir)) return DeepSeekVl.DeepSeekVlLoader.Load(dir, lora, loraScale);
        LlavaConfig c = LlavaConfig.FromHuggingFace(dir);
        string tj = Path.Combine(dir, "tokenizer.json");
        if (!File.Exists(tj)) throw new FurnaceException($"{dir}: no tokenizer.json");
        Tokenizer tokenizer = Tokenizer.FromHuggingFace(tj);
        ITensorSource source = SafeTensorsCheckpoint.Open(dir);
        PackedWeights? merged = null;
        OnnxVisionEncoder? onnxVision = null;
        try
        {
            var vb = new WeightLoader(source);
            if (!vb.Contains("language_model.model.embed_tokens.weight") && vb.Contains("model.language_model.embed_tokens.weight"))
                throw new FurnaceException($"{dir}: the transformers >= 4.52 key layout (model.language_model.*) is not supported yet; save with the language_model.model.* layout");
            var projector = Projector.Load(vb.Prefix("multi_modal_projector"), c.Projector, c.VisionHiddenSize, c.Text.Dim);
            var weights = LlamaWeights.Load(vb.Prefix("language_model"), c.Text, CheckpointNaming.HuggingFace);
            IVisionEncoder vision;
            if (c.OnnxVision is { } onnx)
            {
                // the frozen ResNet18 next to the binary (vision_config model_type onnx_resnet18; see OnnxVisionSpec)
                onnxVision = onnx.Open();
                vision = onnxVision;
            }
            else
            {
                var tower = new ClipVisionTower(c.Vision!, ClipVisionWeights.Load(vb.Prefix("vision_tower"), c.Vision!, null));
                vision = new ClipVisionEncoder(tower, ClipVisionEncoder.PreprocessorFor(dir, c.Vision!.ImageSize), c.VisionFeatureLayer, c.FeatureStrategy);
            }
            if (lora != null)
            {
                merged = new PackedWeights();
                weights = LoraMerge.Apply(weights, c.Text, lora, merged, ggufRowOrder: false, loraScale, source: dir);
            }
            var decoder = new LlamaModel(c.Text, weights, RopeStyle.HalfSplit, packed: merged);
            return new LlavaModel(vision, projector, decoder, tokenizer, ChatTemplate.Detect(tokenizer.ChatTemplateSource), c.ImageTokenIndex, dir,
                merged == null ? [source, .. Owned(vision)] : [decoder, source, .. Owned(vision)]); // the vision encoder frees its pre-packed tower copies
        }
        catch
        {
            onnxVision?.Dispose();
            merged?.Dispose();
            source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Composition from parts: a vision encoder (owned), a projector safetensors file (keys multi_modal_projector.linear_1/2.*,
    /// [model.]mm_projector.0/2.* or bare linear_1/2.*; kind null infers it from the presence of the second layer)
    /// and a decoder (GGUF file or HF directory, with its tokenizer).
    /// </summary>
    public static LlavaModel Compose(IVisionEncoder vision, string projectorPath, ProjectorKind? kind, string decoderPath) =>
        Compose(vision, projectorPath, kind, decoderPath, null);

    /// <summary>As Compose, with a LoRA adapter merged into the decoder at load when given.</summary>
    public static LlavaModel Compose(IVisionEncoder vision, string projectorPath, ProjectorKind? kind, string decoderPath, LoraAdapter? lora, float loraScale = 1f)
    {
        LanguageModel? lm = null;
        ITensorSource? projSource = null;
        try
        {
            if (!File.Exists(projectorPath)) throw new FurnaceException($"{projectorPath}: no such projector file (a .safetensors file)");
            projSource = SafeTensorsCheckpoint.Open(projectorPath);
            var root = new WeightLoader(projSource);
            string? prefix = new[] { "multi_modal_projector", "model.mm_projector", "mm_projector", "" }
                .FirstOrDefault(p => root.Contains(Join(p, "linear_1.weight")) || root.Contains(Join(p, "0.weight")));
            if (prefix == null)
                throw new FurnaceException($"{projectorPath}: no projector weights (multi_modal_projector.linear_1.weight, mm_projector.0.weight or linear_1.weight)");
            var vb = prefix.Length == 0 ? root : root.Prefix(prefix);
            bool two = vb.Contains("linear_2.weight") || vb.Contains("2.weight");
            ProjectorKind k = kind ?? (two ? ProjectorKind.Mlp2xGelu : ProjectorKind.Linear);
            lm = LanguageModel.Open(decoderPath, lora, loraScale);
            var projector = Projector.Load(vb, k, vision.FeatureDim, lm.Decoder.Dim);
            int imageToken = lm.Tokenizer.TokenId(ImagePlaceholder) ?? lm.Decoder.VocabSize;
            return new LlavaModel(vision, projector, lm.Decoder, lm.Tokenizer, lm.Template, imageToken, decoderPath, vision, projSource, lm);
        }
        catch
        {
            lm?.Dispose();
            projSource?.Dispose();
            vision.Dispose();
            throw;
        }
    }

    private static IDisposable[] Owned(IDisposable? d) => d == null ? [] : [d];

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Projected image features (images, TokensPerImage, decoder dim): the rows spliced at the placeholders.</summary>
    public float[] ProjectImages(IReadOnlyList<RgbImage> images, KernelContext ctx)
    {
        float[] features = Vision.Encode(images, ctx);
        int rows = images.Count * Vision.TokensPerImage;
        var projected = new float[rows * Projector.OutDim];
        Projector.Forward(projected, features, rows, ctx);
        return projected;
    }

    /// <summary>
    /// The user turn rendered for the decoder: through its chat template, or LLaVA-1.5's "USER: {text} ASSISTANT:"
    /// when it has none we recognise. Placeholders stay in the text.
    /// </summary>
    public string RenderChat(string userText, string? system = null)
    {
        if (PromptFormat != null)
            return PromptFormat.Render(system == null ? [new ChatMessage("user", userText)] : [new ChatMessage("system", system), new ChatMessage("user", userText)]);
        if (Template == null)
            return (string.IsNullOrEmpty(system) ? "" : system + " ") + "USER: " + userText + " ASSISTANT:";
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(system)) messages.Add(new ChatMessage("system", system));
        messages.Add(new ChatMessage("user", userText));
        return Template.Render(messages, addGenerationPrompt: true);
    }

    /// <summary>Whether encoding a rendered prompt must add BOS itself (the tokenizer wants one and the template does not render it).</summary>
    public bool AddsBos => Template is not { RendersBos: true } && Tokenizer.AddBos && Tokenizer.BosId != null;

    /// <summary>
    /// The token ids of the text around each &lt;image&gt; placeholder of a rendered prompt (placeholders + 1 segments,
    /// BOS at the start when the tokenizer adds one and the template does not render it), tokenized as the HF
    /// processor does: the one tokenization shared by inference prompts and training samples. atStart false
    /// tokenizes a continuation (a later turn of a conversation): no BOS.
    /// </summary>
    public List<int[]> TokenizeSegments(string rendered, bool atStart = true)
    {
        bool bos = atStart && AddsBos;
        string tag = ImageTag;
        string[] parts = rendered.Split(tag);
        var segments = new List<int[]>();
        int? known = Tokenizer.TokenId(tag);
        if (known is int imageId)
        {
            // the tokenizer has <image> as a special token (llava-hf): tokenize as the HF processor does, then split at it
            int[] ids = Tokenizer.Encode(rendered, addSpecial: bos, parseSpecial: true);
            var current = new List<int>();
            foreach (int id in ids)
            {
                if (id == imageId)
                {
                    segments.Add(current.ToArray());
                    current.Clear();
                }
                else current.Add(id);
            }
            segments.Add(current.ToArray());
            if (segments.Count != parts.Length)
                throw new FurnaceException($"the tokenizer found {segments.Count - 1} {tag} tokens where the text has {parts.Length - 1}");
        }
        else
        {
            for (int i = 0; i < parts.Length; i++)
            {
                int[] ids = parts[i].Length == 0 ? [] : Tokenizer.Encode(parts[i], addSpecial: false, parseSpecial: true);
                if (i == 0 && bos) ids = [Tokenizer.BosId!.Value, .. ids];
                segments.Add(ids);
            }
        }
        return segments;
    }

    /// <summary>
    /// Splices a rendered prompt: one &lt;image&gt; placeholder per image, in order (an error when the counts differ),
    /// each replaced by that image's TokensPerImage projected rows; text between them is tokenized (specials parsed).
    /// </summary>
    public LlavaPrompt BuildPrompt(string rendered, IReadOnlyList<RgbImage> images, KernelContext ctx) =>
        BuildPrompt(rendered, images.Count, () => images.Count > 0 ? ProjectImages(images, ctx) : []);

    /// <summary>
    /// As BuildPrompt, with the images already projected (imageCount, TokensPerImage, dim): how a batched engine
    /// encodes the images of several requests in one pass.
    /// </summary>
    public LlavaPrompt BuildPrompt(string rendered, int imageCount, float[] projected)
    {
        int floats = imageCount * Vision.TokensPerImage * Decoder.Dim;
        if (projected.Length != floats) throw new ArgumentException($"projected features hold {projected.Length} floats, need {floats}");
        return BuildPrompt(rendered, imageCount, () => projected);
    }

    private LlavaPrompt BuildPrompt(string rendered, int imageCount, Func<float[]> project)
    {
        List<int[]> segments = TokenizeSegments(rendered);
        int placeholders = segments.Count - 1;
        if (placeholders != imageCount)
            throw new FurnaceException($"the prompt has {placeholders} {ImageTag} placeholder{(placeholders == 1 ? "" : "s")} but {imageCount} image{(imageCount == 1 ? " was" : "s were")} given; put one {ImageTag} where each image goes");

        int dim = Decoder.Dim, per = Vision.TokensPerImage;
        float[] projected = project();
        int positions = segments.Sum(s => s.Length) + imageCount * per;
        var inputIds = new int[positions];
        var embeddings = new float[(long)positions * dim];
        var text = new List<int>();
        int at = 0;
        for (int i = 0; i < segments.Count; i++)
        {
            int[] seg = segments[i];
            seg.CopyTo(inputIds, at);
            Decoder.Embed(seg, embeddings.AsSpan(at * dim, seg.Length * dim));
            text.AddRange(seg);
            at += seg.Length;
            if (i == segments.Count - 1) break;
            inputIds.AsSpan(at, per).Fill(ImageTokenIndex);
            projected.AsSpan(i * per * dim, per * dim).CopyTo(embeddings.AsSpan(at * dim, per * dim));
            at += per;
        }
        if (positions == 0) throw new FurnaceException("the prompt is empty");
        return new LlavaPrompt(inputIds, embeddings, text.ToArray(), imageCount);
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
    }
}
