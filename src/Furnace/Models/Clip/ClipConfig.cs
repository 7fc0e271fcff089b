// The validated shape of a CLIP checkpoint (transformers CLIPConfig, or a vision-only CLIPVisionConfig): the vision
// tower, the text tower when the checkpoint has one, the shared embedding width and the initial logit scale.
// Named presets give the shapes of the OpenAI releases (weights not included).
namespace Furnace.Models.Clip;

public sealed partial record ClipConfig
{
    public ClipArchitecture Architecture { get; init; } = ClipArchitecture.ClipModel;

    public required ClipVisionConfig Vision { get; init; }

    /// <summary>Null for the vision-only architectures.</summary>
    public ClipTextConfig? Text { get; init; }

    /// <summary>Width of the shared image-text embedding (projection_dim); null when the checkpoint has no projection.</summary>
    public int? ProjectionDim { get; init; } = 512;

    /// <summary>logit_scale_init_value: ln(1/0.07). The trained value is the checkpoint's logit_scale tensor.</summary>
    public float LogitScaleInit { get; init; } = 2.6592f;

    public ClipConfig Validated(string source)
    {
        Vision.Validated(source);
        Text?.Validated(source);
        bool needsText = Architecture == ClipArchitecture.ClipModel;
        bool needsProjection = Architecture != ClipArchitecture.VisionModel;
        if (needsText != (Text != null))
            throw new FurnaceException($"{source}: {Architecture} {(needsText ? "needs" : "has no")} a text tower");
        if (needsProjection && ProjectionDim is not > 0)
            throw new FurnaceException($"{source}: projection_dim {ProjectionDim} must be positive");
        return this;
    }

    /// <summary>Named shapes: openai/clip-vit-base-patch32, openai/clip-vit-large-patch14, openai/clip-vit-large-patch14-336, test-tiny.</summary>
    public static ClipConfig Preset(string name) => name switch
    {
        "clip-vit-base-patch32" or "openai/clip-vit-base-patch32" => new()
        {
            Vision = new() { HiddenSize = 768, IntermediateSize = 3072, Layers = 12, Heads = 12, ImageSize = 224, PatchSize = 32 },
            Text = new() { HiddenSize = 512, IntermediateSize = 2048, Layers = 12, Heads = 8 },
            ProjectionDim = 512,
        },
        "clip-vit-large-patch14" or "openai/clip-vit-large-patch14" => new()
        {
            Vision = new() { HiddenSize = 1024, IntermediateSize = 4096, Layers = 24, Heads = 16, ImageSize = 224, PatchSize = 14 },
            Text = new() { HiddenSize = 768, IntermediateSize = 3072, Layers = 12, Heads = 12 },
            ProjectionDim = 768,
        },
        "clip-vit-large-patch14-336" or "openai/clip-vit-large-patch14-336" => new()
        {
            Vision = new() { HiddenSize = 1024, IntermediateSize = 4096, Layers = 24, Heads = 16, ImageSize = 336, PatchSize = 14 },
            Text = new() { HiddenSize = 768, IntermediateSize = 3072, Layers = 12, Heads = 12 },
            ProjectionDim = 768,
        },
        "test-tiny" => new()
        {
            Vision = new() { HiddenSize = 64, IntermediateSize = 128, Layers = 2, Heads = 4, ImageSize = 32, PatchSize = 8 },
            Text = new() { VocabSize = 100, HiddenSize = 48, IntermediateSize = 96, Layers = 2, Heads = 4, MaxPositions = 16, BosTokenId = 98, EosTokenId = 99, PadTokenId = 99 },
            ProjectionDim = 32,
        },
        _ => throw new FurnaceException($"unknown CLIP preset '{name}' (clip-vit-base-patch32, clip-vit-large-patch14, clip-vit-large-patch14-336, test-tiny)"),
    };
}
