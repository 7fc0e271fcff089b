#!/usr/bin/python3
# Reference Llama forward with an UNMERGED LoRA adapter, in plain PyTorch (float64): every adapted linear computes
# y = x·Wᵀ + scale·(x·Aᵀ)·Bᵀ as PEFT's lora.Linear.forward does (dropout off), scale = lora_alpha/r, or
# lora_alpha/sqrt(r) with use_rslora, times an extra multiplier. The decoder follows transformers' modeling_llama.py
# (RMSNorm, rotate_half RoPE, GQA, SiLU MLP, optional q/k/v biases); PEFT and transformers themselves are not used.
# Request JSON: {"model": HF dir, "adapter": PEFT dir or null, "multiplier": 1.0, "input_ids": [...]}
# Result JSON: {"logits": [[vocab floats] per position]}.
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_reference import load_safetensors  # noqa: E402


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def main():
    req = json.load(open(sys.argv[1]))
    model = req["model"]
    c = json.load(open(model + "/config.json"))
    W = load_safetensors(model + "/model.safetensors")
    L, scale = {}, 0.0
    if req.get("adapter"):
        ac = json.load(open(req["adapter"] + "/adapter_config.json"))
        r = ac["r"]
        scale = ac["lora_alpha"] / (math.sqrt(r) if ac.get("use_rslora") else r) * req.get("multiplier", 1.0)
        L = load_safetensors(req["adapter"] + "/adapter_model.safetensors")

    def linear(x, module):
        y = x @ W[module + ".weight"].T
        if module + ".bias" in W:
            y = y + W[module + ".bias"]
        a = L.get("base_model.model." + module + ".lora_A.weight")
        if a is not None:
            b = L["base_model.model." + module + ".lora_B.weight"]
            y = y + scale * ((x @ a.T) @ b.T)
        return y

    ids = torch.tensor(req["input_ids"])
    dim, H = c["hidden_size"], c["num_attention_heads"]
    KV = c.get("num_key_value_heads", H)
    hd = c.get("head_dim") or dim // H
    eps, theta = c["rms_norm_eps"], c.get("rope_theta", 10000.0)
    T = len(ids)
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    emb = torch.cat([torch.outer(torch.arange(T, dtype=torch.float64), inv)] * 2, dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    with torch.no_grad():
        x = W["model.embed_tokens.weight"][ids]
        for i in range(c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            h = rms(x, W[p + "input_layernorm.weight"], eps)
            q = linear(h, p + "self_attn.q_proj").view(T, H, hd).transpose(0, 1)
            k = linear(h, p + "self_attn.k_proj").view(T, KV, hd).transpose(0, 1)
            v = linear(h, p + "self_attn.v_proj").view(T, KV, hd).transpose(0, 1)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(H // KV, dim=0)
            v = v.repeat_interleave(H // KV, dim=0)
            a = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + mask, dim=-1) @ v
            x = x + linear(a.transpose(0, 1).reshape(T, H * hd), p + "self_attn.o_proj")
            h = rms(x, W[p + "post_attention_layernorm.weight"], eps)
            g = F.silu(linear(h, p + "mlp.gate_proj")) * linear(h, p + "mlp.up_proj")
            x = x + linear(g, p + "mlp.down_proj")
        x = rms(x, W["model.norm.weight"], eps)
        head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
        logits = x @ head.T
    json.dump({"logits": logits.tolist()}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
