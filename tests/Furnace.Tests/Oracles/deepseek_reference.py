#!/usr/bin/python3
# Reference DeepSeek-V2 / V3 forward in plain PyTorch (float64) over a Hugging Face directory, written from the
# semantics of transformers' modeling_deepseek_v2.py / modeling_deepseek_v3.py and deepseek-ai's modeling_deepseek.py
# (DeepSeek-V2-Lite / DeepSeek-V3 repositories); transformers itself is not used. Covered:
#   MLA: q = q_proj(x) or q_b_proj(rms(q_a_proj(x))), split (nope, pe) per head; kv_a_proj_with_mqa -> (c_kv, k_pe),
#        kv_b_proj(rms(c_kv)) -> per head (k_nope, v); k_pe shared by all heads.
#   RoPE: the DeepSeek code de-interleaves q_pe/k_pe (view(d/2, 2).transpose) and then applies rotate_half, i.e.
#        rotates adjacent pairs (x[2i], x[2i+1]) of the checkpoint's layout.
#   YaRN: inv_freq blended between interpolated (1/factor) and extrapolated frequencies by a linear ramp between
#        floor/ceil of the correction dims of beta_fast/beta_slow over original_max_position_embeddings; cos/sin times
#        get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim); softmax scale = q_head_dim^-0.5 *
#        get_mscale(factor, mscale_all_dim)^2 with get_mscale(s, m) = 0.1 m ln s + 1 (1 when s <= 1).
#   MoE gate: softmax (V2) or sigmoid (V3) of the router logits; V2 "greedy" top-k, V2 "group_limited_greedy" (a
#        group's score = its MAX), V3 "noaux_tc" (choice by scores + e_score_correction_bias; a group's score = the sum
#        of its top two); masked groups filled with 0.0; weights = the unbiased scores of the chosen; V2: normalised
#        when norm_topk_prob else times routed_scaling_factor; V3: normalised when norm_topk_prob, then always times
#        routed_scaling_factor. Plus shared experts (one MLP of width moe_intermediate_size * n_shared_experts).
#   Dense MLP in the first first_k_dense_replace layers.
#   LoRA (optional "adapter": a PEFT directory, "multiplier"): every linear the adapter names computes
#        x·Wᵀ + scale·(x·Aᵀ)·Bᵀ as PEFT's lora.Linear.forward (dropout off), scale = lora_alpha/r (or /sqrt(r) with
#        use_rslora) times the multiplier, unmerged; kv_b_proj included (before the per-head k/v split).
#   Plain attention (no MLA): DeepseekForCausalLM (deepseek-ai/deepseek-moe-16b-base's modeling_deepseek.py,
#        DeepseekAttention) and DeepseekV2 configs with use_mla false (DeepSeek-VL2's modeling_deepseek.py picks
#        transformers 4.38's LlamaAttention): head_dim = hidden_size / num_attention_heads, q/k/v_proj, RoPE over the
#        whole head with rotate_half on the checkpoint's rows (no de-interleave), keys/values repeated over
#        num_attention_heads / num_key_value_heads query heads, softmax scale head_dim^-0.5, o_proj. DeepseekForCausalLM's
#        MoEGate: softmax, greedy top-k, normalised when norm_topk_prob, never scaled by routed_scaling_factor.
# Request JSON: {"model": dir, "input_ids": [...], "adapter": dir or absent, "multiplier": 1.0}. Result: "logits" (T, vocab) of every position, and
# "group_choice_differs": how many (layer, token) routings keep other groups when a group scores as the sum of its
# top two (llama.cpp) instead of by the rule above.
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_reference import load_safetensors  # noqa: E402


LORA, SCALE = {}, 0.0


def lin(x, W, key):
    # F.linear(x, W[key]) plus the adapter's low-rank term when it adapts this module (key = module + ".weight")
    y = F.linear(x, W[key])
    a = LORA.get("base_model.model." + key[:-len(".weight")] + ".lora_A.weight")
    if a is not None:
        b = LORA["base_model.model." + key[:-len(".weight")] + ".lora_B.weight"]
        y = y + SCALE * ((x @ a.T) @ b.T)
    return y


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def get_mscale(scale, m):
    return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0


def rope_tables(cfg, T):
    """cos, sin (T, rope) in rotate_half order, and the softmax scale."""
    d = cfg["qk_rope_head_dim"]
    base = cfg.get("rope_theta", 10000.0)
    extra = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    scale = (cfg["qk_nope_head_dim"] + d) ** -0.5
    mul = 1.0
    rs = cfg.get("rope_scaling")
    if rs:
        factor, orig = rs["factor"], rs["original_max_position_embeddings"]
        bf, bs = rs.get("beta_fast", 32), rs.get("beta_slow", 1)

        def corr(rot):
            return (d * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

        low, high = max(math.floor(corr(bf)), 0), min(math.ceil(corr(bs)), d - 1)
        if low == high:
            high += 0.001
        ramp = ((torch.arange(d // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
        keep = 1.0 - ramp  # 1 where extrapolated (high-frequency) dims keep their frequency
        inv = (extra / factor) * (1 - keep) + extra * keep
        mul = get_mscale(factor, rs.get("mscale", 1)) / get_mscale(factor, rs.get("mscale_all_dim", 0))
        m = get_mscale(factor, rs.get("mscale_all_dim", 0))
        scale = scale * m * m
    else:
        inv = extra
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos() * mul, emb.sin() * mul, scale


def deinterleave(x):
    # (..., d) pairs (x0, x1), (x2, x3) ... -> (x0, x2, ..., x1, x3, ...)
    *lead, d = x.shape
    return x.view(*lead, d // 2, 2).transpose(-1, -2).reshape(*lead, d)


def attention(W, p, cfg, x, cos, sin, scale):
    T = x.shape[0]
    h, nope, rope, vd = cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    eps = cfg.get("rms_norm_eps", 1e-6)
    if cfg.get("q_lora_rank"):
        q = lin(rms(lin(x, W, p + "q_a_proj.weight"), W[p + "q_a_layernorm.weight"], eps), W, p + "q_b_proj.weight")
    else:
        q = lin(x, W, p + "q_proj.weight")
    q = q.view(T, h, nope + rope).transpose(0, 1)  # (h, T, nope + rope)
    q_nope, q_pe = q[..., :nope], q[..., nope:]
    ckv = lin(x, W, p + "kv_a_proj_with_mqa.weight")
    c, k_pe = ckv[:, :-rope], ckv[:, -rope:].unsqueeze(0)  # (T, kvLora), (1, T, rope)
    kv = lin(rms(c, W[p + "kv_a_layernorm.weight"], eps), W, p + "kv_b_proj.weight").view(T, h, nope + vd).transpose(0, 1)
    k_nope, v = kv[..., :nope], kv[..., nope:]
    q_pe, k_pe = deinterleave(q_pe), deinterleave(k_pe)
    q_pe = q_pe * cos + rotate_half(q_pe) * sin
    k_pe = k_pe * cos + rotate_half(k_pe) * sin
    qs = torch.cat([q_nope, q_pe], dim=-1)
    ks = torch.cat([k_nope, k_pe.expand(h, T, rope)], dim=-1)
    att = (qs @ ks.transpose(-1, -2)) * scale
    att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
    o = (att @ v).transpose(0, 1).reshape(T, h * vd)
    return lin(o, W, p + "o_proj.weight")


def is_plain(cfg):
    return cfg.get("model_type") == "deepseek" or cfg.get("use_mla") is False


def plain_tables(cfg, T):
    """cos, sin (T, head_dim) of rotate_half rope over the whole head, and the softmax scale."""
    d = cfg["hidden_size"] // cfg["num_attention_heads"]
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin(), d ** -0.5


def plain_attention(W, p, cfg, x, cos, sin, scale):
    T = x.shape[0]
    h = cfg["num_attention_heads"]
    kvh = cfg.get("num_key_value_heads") or h
    d = cfg["hidden_size"] // h
    q = F.linear(x, W[p + "q_proj.weight"]).view(T, h, d).transpose(0, 1)
    k = F.linear(x, W[p + "k_proj.weight"]).view(T, kvh, d).transpose(0, 1)
    v = F.linear(x, W[p + "v_proj.weight"]).view(T, kvh, d).transpose(0, 1)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    k, v = k.repeat_interleave(h // kvh, dim=0), v.repeat_interleave(h // kvh, dim=0)
    att = (q @ k.transpose(-1, -2)) * scale
    att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
    return F.linear((att @ v).transpose(0, 1).reshape(T, h * d), W[p + "o_proj.weight"])


def mlp(W, p, x):
    return lin(F.silu(lin(x, W, p + "gate_proj.weight")) * lin(x, W, p + "up_proj.weight"), W, p + "down_proj.weight")


def moe(W, p, cfg, x, v3, stats):
    T, E, k = x.shape[0], cfg["n_routed_experts"], cfg["num_experts_per_tok"]
    logits = F.linear(x, W[p + "gate.weight"])
    scores = logits.sigmoid() if cfg.get("scoring_func", "softmax") == "sigmoid" else logits.softmax(-1)
    method = cfg.get("topk_method", "greedy")
    choice = scores + W[p + "gate.e_score_correction_bias"] if method == "noaux_tc" else scores
    if method in ("group_limited_greedy", "noaux_tc"):
        G, used = cfg["n_group"], cfg["topk_group"]
        grouped = choice.view(T, G, E // G)
        gs = grouped.max(-1).values if method == "group_limited_greedy" else grouped.topk(2, -1).values.sum(-1)
        gidx = gs.topk(used, -1).indices
        sum2 = grouped.topk(2, -1).values.sum(-1).topk(used, -1).indices
        stats[0] += int(sum(set(a.tolist()) != set(b.tolist()) for a, b in zip(gidx, sum2)))
        mask = torch.zeros(T, G, dtype=torch.bool)
        mask.scatter_(1, gidx, True)
        mask = mask.unsqueeze(-1).expand(T, G, E // G).reshape(T, E)
        idx = choice.masked_fill(~mask, 0.0).topk(k, -1).indices
    else:
        idx = choice.topk(k, -1).indices
    wts = scores.gather(1, idx)
    rsf = 1.0 if cfg.get("model_type") == "deepseek" else cfg.get("routed_scaling_factor", 1.0)
    if k > 1 and cfg.get("norm_topk_prob", False):
        wts = wts / (wts.sum(-1, keepdim=True) + 1e-20)
        if v3:
            wts = wts * rsf
    else:
        wts = wts * rsf
    y = torch.zeros_like(x)
    for t in range(T):
        for j in range(k):
            y[t] += wts[t, j] * mlp(W, f"{p}experts.{int(idx[t, j])}.", x[t:t + 1])[0]
    if cfg.get("n_shared_experts"):
        y = y + mlp(W, p + "shared_experts.", x)
    return y


def logits_from_embeds(W, cfg, x, v3, stats):
    """(T, vocab) logits of every position from the input embeddings x (T, dim); DeepSeek-VL2's reference feeds its
    spliced image rows through here."""
    eps = cfg.get("rms_norm_eps", 1e-6)
    plain = is_plain(cfg)
    cos, sin, scale = plain_tables(cfg, x.shape[0]) if plain else rope_tables(cfg, x.shape[0])
    attn = plain_attention if plain else attention
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        x = x + attn(W, p + "self_attn.", cfg, rms(x, W[p + "input_layernorm.weight"], eps), cos, sin, scale)
        hn = rms(x, W[p + "post_attention_layernorm.weight"], eps)
        dense = i < cfg.get("first_k_dense_replace", 0)
        x = x + (mlp(W, p + "mlp.", hn) if dense else moe(W, p + "mlp.", cfg, hn, v3, stats))
    x = rms(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else W["lm_head.weight"]
    return F.linear(x, head)


def main():
    req = json.load(open(sys.argv[1]))
    d = req["model"]
    cfg = json.load(open(os.path.join(d, "config.json")))
    W = load_safetensors(os.path.join(d, "model.safetensors"))
    global LORA, SCALE
    if req.get("adapter"):
        ac = json.load(open(os.path.join(req["adapter"], "adapter_config.json")))
        r = ac["r"]
        SCALE = ac["lora_alpha"] / (math.sqrt(r) if ac.get("use_rslora") else r) * req.get("multiplier", 1.0)
        LORA = load_safetensors(os.path.join(req["adapter"], "adapter_model.safetensors"))
    v3 = cfg.get("model_type") == "deepseek_v3"
    ids = torch.tensor(req["input_ids"])
    stats = [0]
    logits = logits_from_embeds(W, cfg, W["model.embed_tokens.weight"][ids], v3, stats)
    json.dump({"logits": logits.tolist(), "group_choice_differs": stats[0]}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
