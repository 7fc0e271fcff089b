// Which tokens of a vision hidden state a VLM keeps (LLaVA's vision_feature_select_strategy).
namespace Furnace.Models.Clip;

public enum VisionFeatureStrategy
{
    /// <summary>"default": the patch tokens only; CLS is dropped.</summary>
    Default,

    /// <summary>"full": CLS followed by the patch tokens.</summary>
    Full,
}
