// The validated shape of SAM's ViTDet image encoder as DeepSeek-VL builds it (deepseek-ai/DeepSeek-VL
// deepseek_vl/models/sam.py, create_sam_vit + ImageEncoderViT + SAM_MODEL_CONFIG; the DeepSeek-VL 7B high-resolution
// tower is `sam_b_downsample` at 1024 px):
//   patch 16, mlp_ratio 4, LayerNorm eps 1e-6 (blocks and LayerNorm2d), qkv bias, relative positions on,
//   window 14 except the global_attn_indexes blocks, neck out_chans = prompt_embed_dim 256,
//   the neck output resized bilinearly to 96×96 (a constant of their forward), then stride-2 3×3 convolutions
//   through downsample_channels, and the sam_hd branch (neck_hd on the first global block's output, through the
//   same downsamples, scaled by hd_alpha_downsamples) always on.
// Sizes come from the model_name table; explicit keys of the tower's params (width, layers, heads, patch_size,
// window_size, global_attn_indexes, out_chans, downsample_channels, mlp_ratio) override it. DeepSeek's own code reads
// only model_name and image_size from params (the rest reach create_sam_vit as ignored kwargs); the overrides exist
// for other sizes, and the weights' shapes are checked against the result either way (SamVitWeights).
using System.Text.Json;

namespace Furnace.Models.Sam;

public sealed record SamVitConfig
{
    public string ModelName { get; init; } = "sam_b_downsample";

    public int ImageSize { get; init; } = 1024;

    public int PatchSize { get; init; } = 16;

    public int Width { get; init; } = 768;

    public int Layers { get; init; } = 12;

    public int Heads { get; init; } = 12;

    public float MlpRatio { get; init; } = 4f;

    /// <summary>Window side of the windowed blocks (create_sam_vit passes 14).</summary>
    public int WindowSize { get; init; } = 14;

    public int[] GlobalAttnIndexes { get; init; } = [2, 5, 8, 11];

    /// <summary>Neck channels (SAMViTCfg.prompt_embed_dim).</summary>
    public int OutChans { get; init; } = 256;

    public int[] DownsampleChannels { get; init; } = [512, 1024];

    /// <summary>Side the neck output is resized to before the downsamples (F.interpolate size (96, 96) in sam.py).</summary>
    public int NeckResize { get; init; } = 96;

    public float LayerNormEps { get; init; } = 1e-6f;

    /// <summary>CLIPVisionTower's image_norm (torchvision Normalize) before the tower; null: none.</summary>
    public float[]? PixelMean { get; init; }

    public float[]? PixelStd { get; init; }

    public int HeadDim => Width / Heads;

    public int MlpDim => (int)(Width * MlpRatio);

    /// <summary>Patches along one side: image_size // patch_size.</summary>
    public int Grid => ImageSize / PatchSize;

    /// <summary>Side of the output map: the neck resize halved once per downsample (96 → 48 → 24).</summary>
    public int OutputSide => DownsampleChannels.Aggregate(NeckResize, (side, _) => (side - 1) / 2 + 1);

    /// <summary>Output tokens (rows of the (tokens, channels) features HybridVisionTower hands the aligner).</summary>
    public int OutputTokens => OutputSide * OutputSide;

    public int OutputChannels => DownsampleChannels.Length > 0 ? DownsampleChannels[^1] : OutChans;

    public bool IsGlobal(int block) => GlobalAttnIndexes.Contains(block);

    /// <summary>Window side of block i: 0 for a global block.</summary>
    public int WindowOf(int block) => IsGlobal(block) ? 0 : WindowSize;

    /// <summary>The first global block, whose output feeds the sam_hd branch.</summary>
    public int FirstGlobal => Enumerable.Range(0, Layers).First(IsGlobal);

    /// <summary>DeepSeek-VL's SAM_MODEL_CONFIG, by model_name.</summary>
    public static SamVitConfig FromModelName(string name, int imageSize = 1024) => name switch
    {
        "sam_vit_b" => new SamVitConfig { ModelName = name, ImageSize = imageSize, DownsampleChannels = [] },
        "sam_b_downsample" => new SamVitConfig { ModelName = name, ImageSize = imageSize },
        "sam_vit_l" => new SamVitConfig { ModelName = name, ImageSize = imageSize, Width = 1024, Layers = 24, Heads = 16, GlobalAttnIndexes = [5, 11, 17, 23], DownsampleChannels = [] },
        "sam_vit_h" => new SamVitConfig { ModelName = name, ImageSize = imageSize, Width = 1280, Layers = 32, Heads = 16, GlobalAttnIndexes = [7, 15, 23, 31], DownsampleChannels = [] },
        _ => throw new FurnaceException($"unknown SAM tower model_name '{name}' (known: sam_vit_b, sam_b_downsample, sam_vit_l, sam_vit_h)"),
    };

    /// <summary>
    /// The tower of a CLIPVisionTower params object (vision_config.params.high_res_cfg of a HybridVisionTower):
    /// model_name, image_size (default 1024), pixel_mean / pixel_std, and the explicit size overrides.
    /// </summary>
    public static SamVitConfig FromParams(JsonElement p, string source)
    {
        string where = $"{source}: high_res_cfg";
        if (p.ValueKind != JsonValueKind.Object) throw new FurnaceException($"{where} is not an object");
        string name = p.TryGetProperty("model_name", out var n) && n.ValueKind == JsonValueKind.String
            ? n.GetString()! : throw new FurnaceException($"{where}.model_name is missing");
        SamVitConfig c;
        try
        {
            c = FromModelName(name, Int(p, "image_size", where) ?? 1024);
        }
        catch (FurnaceException e)
        {
            throw new FurnaceException($"{where}.model_name: {e.Message}");
        }
        c = c with
        {
            Width = Int(p, "width", where) ?? c.Width,
            Layers = Int(p, "layers", where) ?? c.Layers,
            Heads = Int(p, "heads", where) ?? c.Heads,
            PatchSize = Int(p, "patch_size", where) ?? c.PatchSize,
            WindowSize = Int(p, "window_size", where) ?? c.WindowSize,
            OutChans = Int(p, "out_chans", where) ?? Int(p, "prompt_embed_dim", where) ?? c.OutChans,
            MlpRatio = p.TryGetProperty("mlp_ratio", out var m) ? Number(m, $"{where}.mlp_ratio") : c.MlpRatio,
            GlobalAttnIndexes = Ints(p, "global_attn_indexes", where) ?? c.GlobalAttnIndexes,
            DownsampleChannels = Ints(p, "downsample_channels", where) ?? c.DownsampleChannels,
            PixelMean = Floats(p, "pixel_mean", where),
            PixelStd = Floats(p, "pixel_std", where),
        };
        return c.Validated(where);
    }

    public SamVitConfig Validated(string where)
    {
        void Need(bool ok, string what)
        {
            if (!ok) throw new FurnaceException($"{where}: {what}");
        }

        Need(Width > 0 && Heads > 0 && Width % Heads == 0, $"width {Width} must be a positive multiple of heads {Heads}");
        Need(Layers > 0 && Layers <= 1024, $"layers {Layers} is out of range");
        Need(PatchSize > 0 && ImageSize >= PatchSize && ImageSize % PatchSize == 0, $"image_size {ImageSize} must be a positive multiple of patch_size {PatchSize}");
        Need(WindowSize > 0, $"window_size {WindowSize} must be positive");
        Need(MlpRatio > 0 && MlpDim > 0, $"mlp_ratio {MlpRatio} must be positive");
        Need(OutChans > 0 && NeckResize > 0, $"out_chans {OutChans} must be positive");
        Need(GlobalAttnIndexes.All(i => i >= 0 && i < Layers), $"global_attn_indexes [{string.Join(", ", GlobalAttnIndexes)}] must lie in [0, {Layers})");
        Need(GlobalAttnIndexes.Length > 0, "global_attn_indexes is empty, but the sam_hd branch reads the first global block");
        Need(DownsampleChannels.All(ch => ch > 0), $"downsample_channels [{string.Join(", ", DownsampleChannels)}] must be positive");
        Need(PixelMean is null == PixelStd is null, "pixel_mean and pixel_std must be given together");
        Need(PixelMean is null || PixelMean.Length == 3 && PixelStd!.Length == 3 && PixelStd.All(s => s > 0), "pixel_mean and pixel_std need 3 values, std positive");
        return this;
    }

    private static int? Int(JsonElement p, string key, string where)
    {
        if (!p.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw new FurnaceException($"{where}.{key} must be an integer");
    }

    private static float Number(JsonElement v, string what) =>
        v.ValueKind == JsonValueKind.Number ? v.GetSingle() : throw new FurnaceException($"{what} must be a number");

    private static int[]? Ints(JsonElement p, string key, string where)
    {
        if (!p.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw new FurnaceException($"{where}.{key} must be a list of integers");
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int i) ? i
            : throw new FurnaceException($"{where}.{key} must be a list of integers")).ToArray();
    }

    private static float[]? Floats(JsonElement p, string key, string where)
    {
        if (!p.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw new FurnaceException($"{where}.{key} must be a list of numbers");
        return v.EnumerateArray().Select(e => Number(e, $"{where}.{key}")).ToArray();
    }
}
