// Which transformers class a CLIP checkpoint was saved from: it decides which towers and projections exist.
namespace Furnace.Models.Clip;

public enum ClipArchitecture
{
    /// <summary>CLIPModel: both towers, both projections, logit_scale.</summary>
    ClipModel,

    /// <summary>CLIPVisionModel: the vision tower alone, no projection (LLaVA's vision_tower).</summary>
    VisionModel,

    /// <summary>CLIPVisionModelWithProjection: the vision tower and visual_projection.</summary>
    VisionModelWithProjection,
}
