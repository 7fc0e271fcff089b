// A LLaVA model as a training graph (Liu et al. 2023 §4.2; HF LlavaForConditionalGeneration.forward with labels):
//   features = vision(images)                     frozen, outside the tape (IVisionEncoder.Encode; cacheable)
//   x = embed(text ids) with projector(features) spliced in at the image slots, in order
//   loss = CE(lm_head(decoder(x))[t], labels[t + 1]) over answer tokens  (Furnace.Training's VlmTraining.Loss)
// This class holds the forward passes; the loss, optimiser groups and sample builder over it live in Training
// (VlmTraining), the greedy loop in Generation (VlmGeneration). The projector is a float parameter set; the decoder
// is frozen, LoRA-adapted or fully trainable (LlamaTrainable).
// Trained weights go back into the HF LLaVA directory layout LlavaModel.Load reads (Export), the adapter into PEFT's
// layout (SaveAdapter), the projector alone into a projector file (SaveProjector).
using Furnace.Formats.SafeTensors;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Models.Projectors;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;

namespace Furnace.Models.Vlm;

public sealed class LlavaTrainable : IDisposable
{
    /// <summary>Checkpoint key prefix of the decoder inside a LLaVA model.</summary>
    public const string LanguagePrefix = "language_model.";

    private readonly bool _ownsModel;

    public LlavaTrainable(LlavaModel model, ProjectorTrainable projector, LlamaTrainable language, LoraAdapter? adapter = null,
        string? sourceDir = null, bool ownsModel = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (projector.InDim != model.Vision.FeatureDim)
            throw new FurnaceException($"the projector takes {projector.InDim}-d features but the vision encoder gives {model.Vision.FeatureDim}-d");
        if (projector.OutDim != language.Config.Dim)
            throw new FurnaceException($"the projector gives {projector.OutDim}-d rows but the decoder's hidden size is {language.Config.Dim}");
        Model = model;
        Projector = projector;
        Language = language;
        Adapter = adapter;
        SourceDir = sourceDir;
        _ownsModel = ownsModel;
    }

    /// <summary>The inference model: vision encoder, tokenizer, chat template, and the decoder weights the graph reads.</summary>
    public LlavaModel Model { get; }

    public ProjectorTrainable Projector { get; }

    public LlamaTrainable Language { get; }

    /// <summary>The LoRA adapter being trained (its factors are the LoRA parameters), or null.</summary>
    public LoraAdapter? Adapter { get; }

    /// <summary>The HF LLaVA directory the model was loaded from (Export copies the untouched tensors from it), or null.</summary>
    public string? SourceDir { get; }

    public int TokensPerImage => Model.TokensPerImage;

    public int FeatureDim => Model.Vision.FeatureDim;

    public int ImageTokenIndex => Model.ImageTokenIndex;

    /// <summary>Loads an HF LLaVA directory for training (the trainable owns the loaded model).</summary>
    public static LlavaTrainable Load(string dir, LlavaTrainingOptions options)
    {
        var model = LlavaModel.Load(dir);
        try
        {
            // training renders LLaVA-format conversations and exports the LLaVA layout: not DeepSeek-VL's prompt or files
            if (model.PromptFormat != null)
                throw new FurnaceException($"{dir}: training a DeepSeek-VL directory is not supported yet (LLaVA directories train)");
            return FromModel(model, options, dir, ownsModel: true);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A training graph over a loaded (or composed) model; sourceDir enables Export in the LLaVA layout.</summary>
    public static LlavaTrainable FromModel(LlavaModel model, LlavaTrainingOptions options, string? sourceDir = null, bool ownsModel = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ProjectorKind kind = options.ProjectorKind ?? model.Projector.Kind;
        ProjectorTrainable projector = options.FreshProjector || kind != model.Projector.Kind
            ? ProjectorTrainable.Initial(kind, model.Vision.FeatureDim, model.Decoder.Dim, options.Seed)
            : ProjectorTrainable.From(model.Projector, options.TrainProjector);
        if (!options.TrainProjector && projector.Parameters.Any(p => p.RequiresGrad))
            projector = new ProjectorTrainable(kind, Frozen(projector.W1)!, Frozen(projector.B1), Frozen(projector.W2), Frozen(projector.B2));
        LoraAdapter? adapter = null;
        LlamaTrainable language;
        if (options.Language == LlamaTraining.Lora)
        {
            adapter = options.Adapter ?? LoraAdapter.Create(options.Lora ?? throw new FurnaceException("LoRA training needs a LoRA config (rank, alpha, target modules)"),
                model.LlamaDecoder.Config, options.Seed, LanguagePrefix);
            language = LlamaTrainable.WithLora(model.LlamaDecoder, adapter, LanguagePrefix);
        }
        else language = LlamaTrainable.Create(model.LlamaDecoder, options.Language, LanguagePrefix);
        return new LlavaTrainable(model, projector, language, adapter, sourceDir, ownsModel);

        static Tensor? Frozen(Tensor? t) => t == null ? null : new Tensor(t.Shape, t.Data, requiresGrad: false, t.Name);
    }

    /// <summary>Every parameter that requires a gradient: projector, then LoRA factors, then full decoder weights.</summary>
    public IReadOnlyList<Tensor> Parameters =>
        Projector.Parameters.Where(p => p.RequiresGrad).Concat(Language.LoraParameters).Concat(Language.Parameters).ToList();

    /// <summary>Frozen vision features (images, TokensPerImage, FeatureDim) of the images, outside the tape.</summary>
    public float[] EncodeImages(IReadOnlyList<Formats.Images.RgbImage> images, KernelContext ctx) => Model.Vision.Encode(images, ctx);

    /// <summary>
    /// Frozen vision features of already preprocessed pixels (3, S, S) each, e.g. Furnace.Data's TrainingLoader
    /// output; only for a CLIP vision tower (other encoders preprocess images themselves: use EncodeImages).
    /// </summary>
    public float[] EncodePixels(IReadOnlyList<Formats.Images.PixelValues> pixels, KernelContext ctx)
    {
        if (Model.Vision is not ClipVisionEncoder clip) throw new FurnaceException("preprocessed pixels can only be encoded by a CLIP vision tower; pass images");
        if (pixels.Count == 0) throw new FurnaceException("no images to encode");
        int s = clip.Tower.Config.ImageSize, per = 3 * s * s;
        var all = new float[pixels.Count * per];
        for (int i = 0; i < pixels.Count; i++)
        {
            if (pixels[i].Width != s || pixels[i].Height != s)
                throw new FurnaceException($"pixels of {pixels[i].Width}x{pixels[i].Height} given but the vision tower takes {s}x{s}");
            pixels[i].Data.CopyTo(all.AsSpan(i * per, per));
        }
        return clip.Tower.HiddenStates(all, pixels.Count, clip.Layer, clip.Strategy, ctx);
    }

    /// <summary>
    /// Decoder input embeddings (ids, dim): token embeddings with the projected image rows spliced in. inputIds hold
    /// the image token index at image slots; imageFeatures are the frozen features (images * TokensPerImage, FeatureDim)
    /// of the images, in slot order.
    /// </summary>
    public Tensor InputEmbeddings(Tape tape, int[] inputIds, float[] imageFeatures, int images)
    {
        int per = TokensPerImage, n = inputIds.Length;
        var text = new List<int>(n);
        int slots = 0;
        foreach (int id in inputIds)
        {
            if (id == ImageTokenIndex) slots++;
            else text.Add(id);
        }
        if (slots != images * per)
            throw new FurnaceException($"the batch has {slots} image slots but {images} image{(images == 1 ? "" : "s")} of {per} rows");
        if (imageFeatures.Length != (long)slots * FeatureDim)
            throw new FurnaceException($"the batch holds {imageFeatures.Length} feature values, {slots} image rows of {FeatureDim} need {(long)slots * FeatureDim}");
        if (slots == 0) return Language.Embed(tape, text.ToArray());
        Tensor projected = Projector.Forward(tape, new Tensor([slots, FeatureDim], imageFeatures));
        if (text.Count == 0) return projected;
        Tensor embedded = Language.Embed(tape, text.ToArray());

        // runs of text rows and image rows, in position order
        var parts = new List<Tensor>();
        int t = 0, im = 0;
        for (int i = 0; i < n;)
        {
            bool image = inputIds[i] == ImageTokenIndex;
            int j = i;
            while (j < n && (inputIds[j] == ImageTokenIndex) == image) j++;
            int len = j - i;
            parts.Add(image ? tape.SliceRows(projected, im, len) : tape.SliceRows(embedded, t, len));
            if (image) im += len;
            else t += len;
            i = j;
        }
        return parts.Count == 1 ? parts[0] : tape.ConcatRows(parts);
    }

    /// <summary>Final normed hidden states (batch*seq, dim) of batch sequences of seq ids each (right-padded; see
    /// InputEmbeddings for the ids and features); dropoutRng drives LoRA dropout (null: none).</summary>
    public Tensor Hidden(Tape tape, int[] inputIds, int batch, int seq, float[] imageFeatures, int images, Random? dropoutRng = null) =>
        Language.Hidden(tape, InputEmbeddings(tape, inputIds, imageFeatures, images), batch, seq, dropoutRng);

    /// <summary>Logits of every position (batch*seq, vocab).</summary>
    public Tensor Logits(Tape tape, int[] inputIds, int batch, int seq, float[] imageFeatures, int images, Random? dropoutRng = null) =>
        Language.Logits(tape, Hidden(tape, inputIds, batch, seq, imageFeatures, images, dropoutRng));

    /// <summary>The LoRA adapter in PEFT's layout (adapter_config.json + adapter_model.safetensors).</summary>
    public void SaveAdapter(string dir) =>
        (Adapter ?? throw new FurnaceException("this model has no LoRA adapter to save (train with LoRA)")).Save(dir);

    /// <summary>The projector alone (multi_modal_projector.* keys), for `--projector` composition.</summary>
    public void SaveProjector(string path) => Projector.Save(path);

    /// <summary>
    /// Writes the trained model as an HF LLaVA directory (config.json, tokenizer and processor files copied, one
    /// model.safetensors): vision tower tensors copied unchanged in their dtype, the projector replaced, the decoder
    /// unchanged (frozen), merged with the LoRA update, or replaced by the trained weights (float32 where changed).
    /// </summary>
    public void Export(string dir)
    {
        if (SourceDir == null) throw new FurnaceException("only a model loaded from a LLaVA directory can be exported as one; save the projector and adapter instead");
        if (Projector.Kind != ProjectorKind.Mlp2xGelu)
            throw new FurnaceException("the LLaVA config format only describes mlp2x_gelu projectors; save a linear projector with SaveProjector");
        if (Path.GetFullPath(dir) == Path.GetFullPath(SourceDir)) throw new FurnaceException($"{dir}: export into a new directory, not the source");
        Directory.CreateDirectory(dir);
        bool lmChanged = Language.Mode != LlamaTraining.Frozen;
        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        using (var source = SafeTensorsCheckpoint.Open(SourceDir))
        {
            foreach (var e in source.Entries)
            {
                if (e.Name.StartsWith(ProjectorTrainable.DefaultPrefix, StringComparison.Ordinal)) continue;
                if (lmChanged && e.Name.StartsWith(LanguagePrefix, StringComparison.Ordinal)) continue;
                long bytes = e.ElementCount * DTypes.BlockBytes(e.Type) / DTypes.BlockSize(e.Type);
                w.AddRaw(e.Name, SafeTensorsDTypes.FromDType(e.Type), e.Shape, e.File.Span(e.Offset, checked((int)bytes)).ToArray());
            }
            Projector.AddTo(w);
            if (lmChanged)
            {
                foreach (var (key, shape, values) in Language.MergedTensors()) w.Add(LanguagePrefix + key, shape, values);
            }
            w.Write(Path.Combine(dir, SafeTensorsCheckpoint.SingleFileName));
        }
        foreach (string file in Directory.GetFiles(SourceDir))
        {
            string name = Path.GetFileName(file);
            if (name.EndsWith(".safetensors", StringComparison.Ordinal) || name == "model.safetensors.index.json") continue;
            File.Copy(file, Path.Combine(dir, name), overwrite: true);
        }
    }

    public void Dispose()
    {
        if (_ownsModel) Model.Dispose();
    }
}
