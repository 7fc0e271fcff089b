// Per-layer tensor names of a DeepSeek-V2/V3 checkpoint: llama.cpp's deepseek2 GGUF suffix (after "blk.N.") ->
// the Hugging Face suffix (after "model.layers.N."), as llama.cpp's convert_hf_to_gguf.py maps them. The routed
// experts (ffn_*_exps stacks <-> mlp.experts.E.*_proj) and MLA's kv_b split are not one-to-one and are handled by
// their callers.
namespace Furnace.Models.DeepSeek;

public static class DeepSeekTensorNames
{
    /// <summary>The Hugging Face name of a one-to-one layer tensor, or null.</summary>
    public static string? HfLayerName(string ggufSuffix) => ggufSuffix switch
    {
        "attn_norm.weight" => "input_layernorm.weight",
        "attn_q.weight" => "self_attn.q_proj.weight",
        "attn_k.weight" => "self_attn.k_proj.weight",   // plain attention (arch deepseek; rows permuted, see DeepSeekHfToGguf)
        "attn_v.weight" => "self_attn.v_proj.weight",
        "attn_q_a.weight" => "self_attn.q_a_proj.weight",
        "attn_q_a_norm.weight" => "self_attn.q_a_layernorm.weight",
        "attn_q_b.weight" => "self_attn.q_b_proj.weight",
        "attn_kv_a_mqa.weight" => "self_attn.kv_a_proj_with_mqa.weight",
        "attn_kv_a_norm.weight" => "self_attn.kv_a_layernorm.weight",
        "attn_output.weight" => "self_attn.o_proj.weight",
        "ffn_norm.weight" => "post_attention_layernorm.weight",
        "ffn_gate.weight" => "mlp.gate_proj.weight",
        "ffn_up.weight" => "mlp.up_proj.weight",
        "ffn_down.weight" => "mlp.down_proj.weight",
        "ffn_gate_inp.weight" => "mlp.gate.weight",
        "exp_probs_b.bias" => "mlp.gate.e_score_correction_bias",
        "ffn_gate_shexp.weight" => "mlp.shared_experts.gate_proj.weight",
        "ffn_up_shexp.weight" => "mlp.shared_experts.up_proj.weight",
        "ffn_down_shexp.weight" => "mlp.shared_experts.down_proj.weight",
        _ => null,
    };
}
