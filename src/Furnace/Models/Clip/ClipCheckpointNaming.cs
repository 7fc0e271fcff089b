// The two key layouts a CLIP vision tower loads from: Hugging Face transformers' state-dict names
// (vision_model.encoder.layers.{i}.self_attn.q_proj.weight, …) and llama.cpp's mmproj GGUF names
// (v.blk.{i}.attn_q.weight, …; tools/mtmd/clip-impl.h TN_* constants).
namespace Furnace.Models.Clip;

public enum ClipCheckpointNaming
{
    HuggingFace,
    Mmproj,
}
