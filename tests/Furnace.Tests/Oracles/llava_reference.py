#!/usr/bin/python3
# Reference LLaVA forward in plain PyTorch (float64), written from transformers' modeling_llava.py semantics
# (LlavaForConditionalGeneration: get_image_features = vision hidden_states[vision_feature_layer], CLS dropped for the
# "default" strategy, LlavaMultiModalProjector linear_1 -> GELU(erf) -> linear_2; image features scattered in order
# into inputs_embeds where input_ids == image_token_index) and modeling_llama.py (RMSNorm, rotate_half RoPE, GQA,
# SiLU MLP); transformers itself is not used. The CLIP encoder layer comes from clip_reference.py. Request JSON:
#   {"model": dir, "pixels": raw f32 file (images, C, H, W), "images": n, "input_ids": [...], "max_tokens": k}
# Result: "features" (images * tokens, dim) projected image features and "tokens", the greedy continuation
# (recomputed over the whole sequence each step, no KV cache, end-of-sequence ignored).
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_reference import encoder_layer, layer_norm, load_safetensors  # noqa: E402


def image_features(W, cfg, pixels):
    vc = cfg["vision_config"]
    p, eps = vc["patch_size"], vc.get("layer_norm_eps", 1e-5)
    pre = "vision_tower.vision_model."
    x = F.conv2d(pixels, W[pre + "embeddings.patch_embedding.weight"], stride=p).flatten(2).transpose(1, 2)
    cls = W[pre + "embeddings.class_embedding"].expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], dim=1) + W[pre + "embeddings.position_embedding.weight"].unsqueeze(0)
    x = layer_norm(x, W, pre + "pre_layrnorm", eps)
    hidden = [x]
    for i in range(vc["num_hidden_layers"]):
        x = encoder_layer(x, W, f"{pre}encoder.layers.{i}.", vc, None)
        hidden.append(x)
    h = hidden[cfg.get("vision_feature_layer", -2)]
    if cfg.get("vision_feature_select_strategy", "default") == "default":
        h = h[:, 1:]
    h = F.linear(h, W["multi_modal_projector.linear_1.weight"], W["multi_modal_projector.linear_1.bias"])
    h = F.gelu(h)
    return F.linear(h, W["multi_modal_projector.linear_2.weight"], W["multi_modal_projector.linear_2.bias"])


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def rope_cos_sin(tc, hd, T):
    """The rotate_half RoPE tables of positions 0..T-1, each (T, hd) in float64."""
    theta = tc.get("rope_theta", 10000.0)
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def llama_last_logits(W, tc, x):
    T, dim = x.shape
    H, KV = tc["num_attention_heads"], tc["num_key_value_heads"]
    hd = tc.get("head_dim") or dim // H
    eps = tc["rms_norm_eps"]
    cos, sin = rope_cos_sin(tc, hd, T)
    mask = torch.full((T, T), float("-inf"), dtype=torch.float64).triu(1)
    for i in range(tc["num_hidden_layers"]):
        p = f"language_model.model.layers.{i}."
        h = rms(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(T, H, hd).transpose(0, 1)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(T, KV, hd).transpose(0, 1)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(T, KV, hd).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=0)
        v = v.repeat_interleave(H // KV, dim=0)
        a = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5 + mask, dim=-1) @ v
        x = x + a.transpose(0, 1).reshape(T, H * hd) @ W[p + "self_attn.o_proj.weight"].T
        h = rms(x, W[p + "post_attention_layernorm.weight"], eps)
        g = F.silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)
        x = x + g @ W[p + "mlp.down_proj.weight"].T
    x = rms(x, W["language_model.model.norm.weight"], eps)
    head = W.get("language_model.lm_head.weight", W["language_model.model.embed_tokens.weight"])
    return x[-1] @ head.T


def main():
    req = json.load(open(sys.argv[1]))
    model = req["model"]
    cfg = json.load(open(model + "/config.json"))
    W = load_safetensors(model + "/model.safetensors")
    vc, tc = cfg["vision_config"], cfg["text_config"]
    n, s = req["images"], vc["image_size"]
    pixels = torch.from_numpy(np.fromfile(req["pixels"], dtype="<f4").reshape(n, vc.get("num_channels", 3), s, s).copy()).double()
    with torch.no_grad():
        feats = image_features(W, cfg, pixels).reshape(-1, tc["hidden_size"])
        ids = torch.tensor(req["input_ids"])
        image = ids == cfg["image_token_index"]
        E = W["language_model.model.embed_tokens.weight"]
        x = E[torch.where(image, torch.zeros_like(ids), ids)]
        assert int(image.sum()) == feats.shape[0], "image slots and feature rows differ"
        x[image] = feats
        tokens = []
        for _ in range(req["max_tokens"]):
            nxt = int(llama_last_logits(W, tc, x).argmax())
            tokens.append(nxt)
            x = torch.cat([x, E[nxt].unsqueeze(0)], dim=0)
    json.dump({"features": feats.tolist(), "tokens": tokens}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
