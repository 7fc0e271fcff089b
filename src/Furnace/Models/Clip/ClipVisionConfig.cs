// The validated shape of a CLIP vision tower (transformers CLIPVisionConfig; defaults are those of
// configuration_clip.py: hidden 768, intermediate 3072, 12 layers, 12 heads, 3 channels, image 224, patch 32,
// quick_gelu, layer_norm_eps 1e-5). Token sequence per image: CLS, then the (image/patch)^2 patches row-major.
namespace Furnace.Models.Clip;

public sealed record ClipVisionConfig
{
    public int HiddenSize { get; init; } = 768;

    public int IntermediateSize { get; init; } = 3072;

    public int Layers { get; init; } = 12;

    public int Heads { get; init; } = 12;

    public int ImageSize { get; init; } = 224;

    public int PatchSize { get; init; } = 32;

    public int NumChannels { get; init; } = 3;

    public float LayerNormEps { get; init; } = 1e-5f;

    public ClipActivation Activation { get; init; } = ClipActivation.QuickGelu;

    public int HeadDim => HiddenSize / Heads;

    /// <summary>Patches along one side of the image.</summary>
    public int GridSize => ImageSize / PatchSize;

    public int Patches => GridSize * GridSize;

    /// <summary>Tokens per image: CLS + patches (= rows of position_embedding).</summary>
    public int Positions => Patches + 1;

    /// <summary>Values in one flattened patch: channels * patch * patch (columns of the patch-embedding matrix).</summary>
    public int PatchValues => NumChannels * PatchSize * PatchSize;

    public ClipVisionConfig Validated(string source)
    {
        void Need(bool ok, string what)
        {
            if (!ok) throw new FurnaceException($"{source}: vision_config {what}");
        }

        Need(HiddenSize > 0, $"hidden_size {HiddenSize} must be positive");
        Need(Heads > 0 && HiddenSize % Heads == 0, $"hidden_size {HiddenSize} must be a multiple of num_attention_heads {Heads}");
        Need(IntermediateSize > 0, $"intermediate_size {IntermediateSize} must be positive");
        Need(Layers > 0 && Layers <= 1024, $"num_hidden_layers {Layers} is out of range");
        Need(PatchSize > 0 && ImageSize >= PatchSize && ImageSize % PatchSize == 0, $"image_size {ImageSize} must be a positive multiple of patch_size {PatchSize}");
        Need(NumChannels > 0, $"num_channels {NumChannels} must be positive");
        Need(LayerNormEps > 0 && LayerNormEps < 1, $"layer_norm_eps {LayerNormEps} is out of range");
        return this;
    }
}
