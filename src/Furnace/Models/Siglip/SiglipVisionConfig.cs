// The validated shape of a SigLIP vision tower in timm's VisionTransformer form (Zhai et al. 2023; timm
// vision_transformer.py as DeepSeek-VL vendors it in deepseek_vl/models/siglip_vit.py): Conv2d patch embedding with
// bias, learned absolute positions for the patches only (no class token), pre-norm blocks with a fused qkv (bias),
// LayerNorm eps 1e-6, exact (erf) GELU in the MLP of int(width · mlp_ratio) units, and a final LayerNorm.
// DeepSeek's create_siglip_vit builds only the first UsedLayers blocks (select_layer) and its forward_features still
// applies the final norm after them; the attention-pool head (attn_pool.*) is not part of the feature path.
using Furnace.Models.Clip;

namespace Furnace.Models.Siglip;

public sealed record SiglipVisionConfig
{
    public required int Width { get; init; }

    /// <summary>Blocks of the full architecture (the model_name table's layers).</summary>
    public required int Layers { get; init; }

    public required int Heads { get; init; }

    /// <summary>Hidden units of the block MLP: int(width · mlp_ratio) as timm's Block computes it.</summary>
    public required int MlpDim { get; init; }

    public required int PatchSize { get; init; }

    public required int ImageSize { get; init; }

    public int Channels { get; init; } = 3;

    public float LayerNormEps { get; init; } = 1e-6f;

    public ClipActivation Activation { get; init; } = ClipActivation.GeluErf;

    /// <summary>
    /// Whether the final LayerNorm follows the kept blocks: true for timm's forward_features (DeepSeek-VL) and HF's
    /// last_hidden_state (post_layernorm); false for LLaVA-style hidden_states[k] selection, which takes the raw block output.
    /// </summary>
    public bool FinalNorm { get; init; } = true;

    /// <summary>DeepSeek's select_layer: &lt;= 0 keeps Layers + select_layer + 1 blocks (-1: all), &gt; 0 keeps that many.</summary>
    public int SelectLayer { get; init; } = -1;

    /// <summary>The blocks the tower runs (and the checkpoint must hold): create_siglip_vit's truncated depth.</summary>
    public int UsedLayers => SelectLayer <= 0 ? Math.Min(Layers, Layers + SelectLayer + 1) : Math.Min(Layers, SelectLayer);

    public int GridSize => ImageSize / PatchSize;

    public int Patches => GridSize * GridSize;

    public int PatchValues => Channels * PatchSize * PatchSize;

    /// <summary>
    /// DeepSeek's SigLIP_MODEL_CONFIG (siglip_vit.py; model_name → width, layers, heads, patch, mlp_ratio); the image
    /// size comes from the tower's own image_size parameter, as create_siglip_vit passes it.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (int Width, int Layers, int Heads, int PatchSize, double MlpRatio)> DeepSeekModels =
        new Dictionary<string, (int, int, int, int, double)>
        {
            ["siglip_so400m_patch14_384"] = (1152, 27, 16, 14, 3.7362),
            ["siglip_so400m_patch14_224"] = (1152, 27, 16, 14, 3.7362),
            ["siglip_large_patch16_384"] = (1024, 24, 16, 16, 4.0),
        };

    /// <summary>
    /// A transformers SiglipVisionConfig (model_type siglip_vision_model, or the vision_config of a SigLIP model):
    /// hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, image_size (224), patch_size (16),
    /// num_channels (3), hidden_act (gelu_pytorch_tanh), layer_norm_eps (1e-6). All layers are kept.
    /// </summary>
    public static SiglipVisionConfig FromHuggingFace(System.Text.Json.JsonElement vision, string source)
    {
        int? Int(string key) => vision.TryGetProperty(key, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.Number
            ? (v.TryGetInt32(out int i) ? i : throw new FurnaceException($"{source}: '{key}' must be an integer")) : null;
        int Need(string key) => Int(key) ?? throw new FurnaceException($"{source}: missing field '{key}'");
        string? act = vision.TryGetProperty("hidden_act", out var a) && a.ValueKind == System.Text.Json.JsonValueKind.String ? a.GetString() : null;
        float eps = vision.TryGetProperty("layer_norm_eps", out var e) && e.ValueKind == System.Text.Json.JsonValueKind.Number ? e.GetSingle() : 1e-6f;
        int layers = Need("num_hidden_layers");
        return new SiglipVisionConfig
        {
            Width = Need("hidden_size"),
            Layers = layers,
            Heads = Need("num_attention_heads"),
            MlpDim = Need("intermediate_size"),
            PatchSize = Int("patch_size") ?? 16,
            ImageSize = Int("image_size") ?? 224,
            Channels = Int("num_channels") ?? 3,
            LayerNormEps = eps,
            Activation = ClipConfig.Activation(act, source, ClipActivation.GeluTanh),
        }.Validated(source);
    }

    /// <summary>timm Block's hidden width: int(dim * mlp_ratio), computed in double as Python does.</summary>
    public static int MlpDimOf(int width, double mlpRatio) => (int)(width * mlpRatio);

    public SiglipVisionConfig Validated(string source)
    {
        void Check(bool ok, string what)
        {
            if (!ok) throw new FurnaceException($"{source}: {what}");
        }
        Check(Width > 0 && Layers > 0 && Heads > 0 && MlpDim > 0 && PatchSize > 0 && ImageSize > 0, $"SigLIP sizes must be positive (width {Width}, layers {Layers}, heads {Heads}, mlp {MlpDim}, patch {PatchSize}, image {ImageSize})");
        Check(Width % Heads == 0, $"width {Width} is not divisible by heads {Heads}");
        Check(ImageSize % PatchSize == 0, $"image_size {ImageSize} is not a multiple of patch_size {PatchSize}");
        Check(UsedLayers >= 1, $"select_layer {SelectLayer} leaves no blocks of {Layers}");
        return this;
    }
}
