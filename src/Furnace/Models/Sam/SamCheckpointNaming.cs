// Where a DeepSeek-VL hybrid checkpoint keeps the SAM tower and the aligner: DeepSeek's own layout (sam.py /
// projector.py module names under vision_model.vision_tower_high.vision_tower and aligner) or transformers'
// native DeepseekVLHybrid layout (convert_deepseek_vl_hybrid_weights_to_hf.py's key map: the encoder under
// model.high_res_vision_model.vision_encoder with layers / layer_norm1 / patch_embed.projection / neck.conv1…, neck_hd
// as model.high_res_vision_neck, downsamples as model.high_res_vision_proj.conv1/2, the alpha as
// model.high_res_vision_alpha; the aligner's high_up_proj / low_up_proj / layers.1 as
// model.aligner.high_res_vision_proj / vision_proj / proj). Model code asks for sam.py's names; Key maps them.
using Furnace.Formats.Weights;

namespace Furnace.Models.Sam;

public enum SamCheckpointNaming
{
    DeepSeekVl,
    Transformers,
}

public static class SamCheckpointNames
{
    public const string DeepSeekTower = "vision_model.vision_tower_high.vision_tower.";
    public const string DeepSeekAligner = "aligner.";
    private const string HfEncoder = "model.high_res_vision_model.vision_encoder.";

    /// <summary>Transformers' layout when its encoder's pos_embed is there, else DeepSeek's.</summary>
    public static SamCheckpointNaming Detect(WeightLoader root) =>
        root.Contains(HfEncoder + "pos_embed") ? SamCheckpointNaming.Transformers : SamCheckpointNaming.DeepSeekVl;

    /// <summary>The checkpoint key of a tower tensor named as in sam.py relative to ImageEncoderViT ("blocks.3.norm1.weight").</summary>
    public static string Tower(SamCheckpointNaming naming, string name)
    {
        if (naming == SamCheckpointNaming.DeepSeekVl) return DeepSeekTower + name;
        string[] p = name.Split('.');
        return p[0] switch
        {
            "pos_embed" => HfEncoder + name,
            "patch_embed" => HfEncoder + "patch_embed.projection." + p[^1],
            "blocks" when p[2].StartsWith("norm", StringComparison.Ordinal) => $"{HfEncoder}layers.{p[1]}.layer_{p[2]}.{p[3]}",
            "blocks" => $"{HfEncoder}layers.{string.Join('.', p[1..])}",
            "neck" => HfEncoder + Neck(p),
            "neck_hd" => "model.high_res_vision_" + Neck(p),
            "downsamples" => $"model.high_res_vision_proj.conv{int.Parse(p[1]) + 1}.{p[2]}",
            "hd_alpha_downsamples" => "model.high_res_vision_alpha",
            _ => throw new ArgumentException($"'{name}' is not a SAM tower tensor name", nameof(name)),
        };
    }

    /// <summary>The checkpoint key of an aligner tensor named as in projector.py ("high_up_proj.weight", "layers.1.bias").</summary>
    public static string Aligner(SamCheckpointNaming naming, string name)
    {
        if (naming == SamCheckpointNaming.DeepSeekVl) return DeepSeekAligner + name;
        string[] p = name.Split('.');
        return p[0] switch
        {
            "high_up_proj" => "model.aligner.high_res_vision_proj." + p[^1],
            "low_up_proj" => "model.aligner.vision_proj." + p[^1],
            "layers" when p[1] == "1" => "model.aligner.proj." + p[^1],
            _ => throw new FurnaceException($"aligner tensor '{name}' has no name in the transformers DeepseekVLHybrid layout (its aligner has depth 2)"),
        };
    }

    // neck.{0,1,2,3}.x → neck.{conv1, layer_norm1, conv2, layer_norm2}.x
    private static string Neck(string[] p) => "neck." + p[1] switch
    {
        "0" => "conv1",
        "1" => "layer_norm1",
        "2" => "conv2",
        "3" => "layer_norm2",
        _ => throw new ArgumentException($"'{string.Join('.', p)}' is not a neck tensor name"),
    } + "." + p[2];
}
