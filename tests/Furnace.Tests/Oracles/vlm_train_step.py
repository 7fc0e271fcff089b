#!/usr/bin/python3
# Reference training step of a LLaVA model in plain PyTorch (float64 autograd), written from transformers'
# modeling_llava.py (LlavaMultiModalProjector, image features masked_scatter'ed into inputs_embeds at image_token_index)
# and modeling_llama.py / modeling_qwen2.py (RMSNorm, rotate_half RoPE, GQA causal attention, SiLU MLP, optional q/k/v
# biases, tied or separate lm_head; LlamaForCausalLM's shifted cross-entropy with ignore_index -100), with PEFT's LoRA
# Linear (y = W x + b + scale · B A x, no dropout). transformers and peft themselves are not used.
# Request JSON: {"model": dir, "features": npy (rows, feature_dim), "input_ids": [[...]], "labels": [[...]],
#                "trainable": [checkpoint keys], "adapter": PEFT dir or null}
#           or {"mode": "infonce", "images": npy (n, d), "texts": npy (n, d), "logit_scale": float}
# Output directory: loss.npy and one <name>.npy gradient per trainable tensor (LoRA factors under their PEFT keys).
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_reference import load_safetensors  # noqa: E402


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def infonce(req, out):
    a = torch.from_numpy(np.load(req["images"])).double().requires_grad_(True)
    b = torch.from_numpy(np.load(req["texts"])).double().requires_grad_(True)
    t = torch.tensor([req["logit_scale"]], dtype=torch.float64, requires_grad=True)
    logits = t.exp() * F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
    target = torch.arange(a.shape[0])
    loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
    loss.backward()
    np.save(os.path.join(out, "loss.npy"), loss.detach().reshape(1).numpy())
    np.save(os.path.join(out, "images.npy"), a.grad.numpy())
    np.save(os.path.join(out, "texts.npy"), b.grad.numpy())
    np.save(os.path.join(out, "logit_scale.npy"), t.grad.numpy())


def main():
    req = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if req.get("mode") == "infonce":
        return infonce(req, out)
    model = req["model"]
    cfg = json.load(open(model + "/config.json"))
    tc = cfg["text_config"]
    W = load_safetensors(model + "/model.safetensors")
    for name in req["trainable"]:
        W[name].requires_grad_(True)
    lora, scale = {}, 0.0
    if req.get("adapter"):
        ac = json.load(open(req["adapter"] + "/adapter_config.json"))
        r, alpha = ac["r"], ac["lora_alpha"]
        scale = alpha / math.sqrt(r) if ac.get("use_rslora") else alpha / r
        for key, t in load_safetensors(req["adapter"] + "/adapter_model.safetensors").items():
            t.requires_grad_(True)
            path = key[len("base_model.model."):].rsplit(".lora_", 1)[0]
            lora.setdefault(path, {})["A" if ".lora_A." in key else "B"] = (key, t)

    def lin(x, path):
        y = x @ W[path + ".weight"].T
        if path + ".bias" in W:
            y = y + W[path + ".bias"]
        if path in lora:
            y = y + scale * (x @ lora[path]["A"][1].T) @ lora[path]["B"][1].T
        return y

    feats = torch.from_numpy(np.load(req["features"])).double()
    h = lin(feats, "multi_modal_projector.linear_1")
    if "multi_modal_projector.linear_2.weight" in W:
        h = lin(F.gelu(h), "multi_modal_projector.linear_2")
    ids = torch.tensor(req["input_ids"])
    labels = torch.tensor(req["labels"])
    B, T = ids.shape
    image = ids == cfg["image_token_index"]
    E = W["language_model.model.embed_tokens.weight"]
    x = E[torch.where(image, torch.zeros_like(ids), ids)]
    assert int(image.sum()) == h.shape[0], "image slots and feature rows differ"
    x = x.masked_scatter(image.unsqueeze(-1).expand_as(x), h)

    dim, H, KV = tc["hidden_size"], tc["num_attention_heads"], tc["num_key_value_heads"]
    hd = tc.get("head_dim") or dim // H
    eps, theta = tc["rms_norm_eps"], tc.get("rope_theta", 10000.0)
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for i in range(tc["num_hidden_layers"]):
        p = f"language_model.model.layers.{i}."
        a = rms(x, W[p + "input_layernorm.weight"], eps)
        q = lin(a, p + "self_attn.q_proj").view(B, T, H, hd).transpose(1, 2)
        k = lin(a, p + "self_attn.k_proj").view(B, T, KV, hd).transpose(1, 2)
        v = lin(a, p + "self_attn.v_proj").view(B, T, KV, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + mask, dim=-1) @ v
        x = x + lin(att.transpose(1, 2).reshape(B, T, H * hd), p + "self_attn.o_proj")
        a = rms(x, W[p + "post_attention_layernorm.weight"], eps)
        x = x + lin(F.silu(lin(a, p + "mlp.gate_proj")) * lin(a, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms(x, W["language_model.model.norm.weight"], eps)
    head = W["language_model.lm_head.weight"] if "language_model.lm_head.weight" in W else E
    logits = x @ head.T
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100)
    loss.backward()
    np.save(os.path.join(out, "loss.npy"), loss.detach().reshape(1).numpy())
    for name in req["trainable"]:
        np.save(os.path.join(out, name + ".npy"), W[name].grad.numpy())
    for parts in lora.values():
        for key, t in parts.values():
            np.save(os.path.join(out, key + ".npy"), t.grad.numpy())


if __name__ == "__main__":
    main()
