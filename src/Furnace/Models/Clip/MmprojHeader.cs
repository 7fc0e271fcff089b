// The metadata of a llama.cpp mmproj GGUF (general.architecture = clip) for a CLIP ViT vision tower, with the key
// names of llama.cpp's tools/mtmd/clip-impl.h (KEY_*) and convert_image_encoder_to_gguf.py:
//   clip.has_vision_encoder, clip.has_llava_projector, clip.projector_type ("mlp" for LLaVA's mlp2x_gelu),
//   clip.vision.{image_size, patch_size, embedding_length, feed_forward_length, projection_dim, block_count,
//   attention.head_count, attention.layer_norm_epsilon, image_mean, image_std, feature_layer}, clip.use_gelu/use_silu.
// block_count is the number of encoder layers stored: a LLaVA file keeps only those up to its feature layer
// (hidden_states[-2] -> num_hidden_layers - 1 layers) and drops post_layernorm, as llama.cpp's converter does.
using Furnace.Formats.Gguf;

namespace Furnace.Models.Clip;

public sealed record MmprojHeader
{
    public const string Architecture = "clip";

    public required ClipVisionConfig Vision { get; init; }

    /// <summary>clip.projector_type: "mlp" (LLaVA mlp2x_gelu: mm.0, GELU, mm.2), or null for a bare vision tower.</summary>
    public string? ProjectorType { get; init; }

    /// <summary>clip.vision.projection_dim: width of what the file produces (the projector's output, else visual_projection's).</summary>
    public int ProjectionDim { get; init; }

    /// <summary>clip.vision.feature_layer: non-negative hidden-state indices (0 = embeddings after pre_ln); empty when unset.</summary>
    public int[] FeatureLayers { get; init; } = [];

    public float[] ImageMean { get; init; } = [0.48145466f, 0.4578275f, 0.40821073f];

    public float[] ImageStd { get; init; } = [0.26862954f, 0.26130258f, 0.27577711f];

    public string Name { get; init; } = "furnace";

    public static MmprojHeader Read(GgufFile f)
    {
        string file = f.Path;
        if (f.Architecture != Architecture)
            throw new FurnaceFormatException(file, $"general.architecture is '{f.Architecture}', not '{Architecture}' (an mmproj file)");
        if (f.Metadata.TryGetValue("clip.has_vision_encoder", out var hv) && hv.Value is false)
            throw new FurnaceFormatException(file, "clip.has_vision_encoder is false: no vision tower in this file");
        int U(string key) => (int)(f.GetInt(key) ?? throw new FurnaceFormatException(file, $"missing metadata key '{key}'"));
        bool B(string key) => f.Metadata.TryGetValue(key, out var v) && v.Value is true;
        if (B("clip.use_silu")) throw new FurnaceFormatException(file, "clip.use_silu = true: a SiLU vision MLP is not a CLIP tower");
        var vision = new ClipVisionConfig
        {
            HiddenSize = U("clip.vision.embedding_length"),
            IntermediateSize = U("clip.vision.feed_forward_length"),
            Layers = U("clip.vision.block_count"),
            Heads = U("clip.vision.attention.head_count"),
            ImageSize = U("clip.vision.image_size"),
            PatchSize = U("clip.vision.patch_size"),
            LayerNormEps = (float)(f.GetFloat("clip.vision.attention.layer_norm_epsilon") ?? throw new FurnaceFormatException(file, "missing metadata key 'clip.vision.attention.layer_norm_epsilon'")),
            // use_gelu: transformers' hidden_act "gelu" (erf); otherwise OpenAI CLIP's quick_gelu
            Activation = B("clip.use_gelu") ? ClipActivation.GeluErf : ClipActivation.QuickGelu,
        }.Validated(file);
        string? projector = f.GetString("clip.projector_type");
        if (projector is not (null or "mlp"))
            throw new FurnaceFormatException(file, $"clip.projector_type '{projector}' is not supported (mlp)");
        int[] layers = f.Metadata.TryGetValue("clip.vision.feature_layer", out var fl) ? ToInts(fl.Value) : [];
        return new MmprojHeader
        {
            Vision = vision,
            ProjectorType = projector,
            ProjectionDim = (int)(f.GetInt("clip.vision.projection_dim") ?? 0),
            FeatureLayers = layers,
            ImageMean = f.GetArray<float>("clip.vision.image_mean") ?? [0.48145466f, 0.4578275f, 0.40821073f],
            ImageStd = f.GetArray<float>("clip.vision.image_std") ?? [0.26862954f, 0.26130258f, 0.27577711f],
            Name = f.GetString("general.name") ?? "",
        };
    }

    public void Write(GgufWriter w, uint fileType)
    {
        ClipVisionConfig v = Vision;
        w.Add("general.architecture", Architecture);
        w.Add("general.name", Name);
        w.Add("general.description", ProjectorType == null ? "vision-only CLIP model (Furnace)" : "image encoder for LLaVA (Furnace)");
        w.Add("general.file_type", fileType);
        w.Add("clip.has_text_encoder", GgufValue.Of(false));
        w.Add("clip.has_vision_encoder", GgufValue.Of(true));
        w.Add("clip.has_llava_projector", GgufValue.Of(ProjectorType != null));
        if (ProjectorType != null) w.Add("clip.projector_type", ProjectorType);
        w.Add("clip.vision.image_size", (uint)v.ImageSize);
        w.Add("clip.vision.patch_size", (uint)v.PatchSize);
        w.Add("clip.vision.embedding_length", (uint)v.HiddenSize);
        w.Add("clip.vision.feed_forward_length", (uint)v.IntermediateSize);
        w.Add("clip.vision.projection_dim", (uint)ProjectionDim);
        w.Add("clip.vision.attention.head_count", (uint)v.Heads);
        w.Add("clip.vision.attention.layer_norm_epsilon", v.LayerNormEps);
        w.Add("clip.vision.block_count", (uint)v.Layers);
        if (FeatureLayers.Length > 0) w.Add("clip.vision.feature_layer", GgufValue.Of(FeatureLayers));
        w.Add("clip.vision.image_mean", GgufValue.Of(ImageMean));
        w.Add("clip.vision.image_std", GgufValue.Of(ImageStd));
        w.Add("clip.use_gelu", GgufValue.Of(v.Activation != ClipActivation.QuickGelu));
        w.Add("clip.use_silu", GgufValue.Of(false));
    }

    private static int[] ToInts(object? value) => value switch
    {
        int[] a => a,
        uint[] a => a.Select(x => (int)x).ToArray(),
        long[] a => a.Select(x => (int)x).ToArray(),
        _ => [],
    };
}
