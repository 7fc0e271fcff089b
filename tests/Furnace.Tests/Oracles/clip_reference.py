#!/usr/bin/python3
# Reference CLIP forward in plain PyTorch (float64), written from transformers' modeling_clip.py semantics
# (CLIPVisionEmbeddings, CLIPTextEmbeddings, CLIPAttention, CLIPMLP, CLIPEncoderLayer, CLIPVisionTransformer,
# CLIPTextTransformer, CLIPModel.forward); transformers itself is not used. Reads a Hugging Face CLIP directory
# (config.json + model.safetensors, parsed here by hand) and a request JSON:
#   {"model": dir, "pixels": raw little-endian f32 file (images, C, H, W), "images": n, "texts": [[ids], ...]}
# and writes a JSON result: every vision hidden state, image/text embeddings, logits_per_image and probabilities.
# Texts are run as one padded batch with an attention mask, as CLIPProcessor(padding=True) feeds them.
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[base + b:base + e]
        dtype = info["dtype"]
        if dtype == "BF16":
            arr = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, {"F32": np.float32, "F16": np.float16, "I64": np.int64}[dtype])
        t = torch.from_numpy(arr.reshape(info["shape"]).copy())
        out[name] = t.double() if t.is_floating_point() else t
    return out


def act(name, x):
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    if name == "gelu":
        return F.gelu(x)
    return F.gelu(x, approximate="tanh")


def layer_norm(x, W, prefix, eps):
    return F.layer_norm(x, (x.shape[-1],), W[prefix + ".weight"], W[prefix + ".bias"], eps)


def encoder_layer(x, W, p, cfg, mask):
    heads, eps = cfg["num_attention_heads"], cfg.get("layer_norm_eps", 1e-5)
    B, T, D = x.shape
    hd = D // heads
    r = x
    h = layer_norm(x, W, p + "layer_norm1", eps)
    def proj(name):
        return F.linear(h, W[p + "self_attn." + name + ".weight"], W[p + "self_attn." + name + ".bias"])
    q = (proj("q_proj") * hd ** -0.5).view(B, T, heads, hd).transpose(1, 2)
    k = proj("k_proj").view(B, T, heads, hd).transpose(1, 2)
    v = proj("v_proj").view(B, T, heads, hd).transpose(1, 2)
    w = q @ k.transpose(-1, -2)
    if mask is not None:
        w = w + mask
    o = (torch.softmax(w, dim=-1) @ v).transpose(1, 2).reshape(B, T, D)
    x = r + F.linear(o, W[p + "self_attn.out_proj.weight"], W[p + "self_attn.out_proj.bias"])
    r = x
    h = layer_norm(x, W, p + "layer_norm2", eps)
    h = act(cfg.get("hidden_act", "quick_gelu"), F.linear(h, W[p + "mlp.fc1.weight"], W[p + "mlp.fc1.bias"]))
    return r + F.linear(h, W[p + "mlp.fc2.weight"], W[p + "mlp.fc2.bias"])


def vision(W, cfg, pixels):
    p, eps = cfg["patch_size"], cfg.get("layer_norm_eps", 1e-5)
    x = F.conv2d(pixels, W["vision_model.embeddings.patch_embedding.weight"], stride=p).flatten(2).transpose(1, 2)
    cls = W["vision_model.embeddings.class_embedding"].expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], dim=1) + W["vision_model.embeddings.position_embedding.weight"].unsqueeze(0)
    x = layer_norm(x, W, "vision_model.pre_layrnorm", eps)
    hidden = [x]
    for i in range(cfg["num_hidden_layers"]):
        x = encoder_layer(x, W, f"vision_model.encoder.layers.{i}.", cfg, None)
        hidden.append(x)
    pooled = layer_norm(x[:, 0], W, "vision_model.post_layernorm", eps)
    return hidden, pooled @ W["visual_projection.weight"].T


def text(W, cfg, texts):
    pad = cfg.get("pad_token_id", 1)
    T = max(len(t) for t in texts)
    ids = torch.tensor([t + [pad] * (T - len(t)) for t in texts])
    keep = torch.tensor([[1] * len(t) + [0] * (T - len(t)) for t in texts], dtype=torch.float64)
    x = W["text_model.embeddings.token_embedding.weight"][ids] + W["text_model.embeddings.position_embedding.weight"][:T].unsqueeze(0)
    neg = torch.finfo(torch.float64).min
    causal = torch.full((T, T), neg, dtype=torch.float64).triu(1)
    mask = causal[None, None] + ((1.0 - keep) * neg)[:, None, None, :]
    for i in range(cfg["num_hidden_layers"]):
        x = encoder_layer(x, W, f"text_model.encoder.layers.{i}.", cfg, mask)
    x = layer_norm(x, W, "text_model.final_layer_norm", cfg.get("layer_norm_eps", 1e-5))
    eos = cfg.get("eos_token_id", 49407)
    at = ids.argmax(dim=-1) if eos == 2 else (ids == eos).int().argmax(dim=-1)
    pooled = x[torch.arange(len(texts)), at]
    return pooled @ W["text_projection.weight"].T


def main():
    req = json.load(open(sys.argv[1]))
    model = req["model"]
    cfg = json.load(open(model + "/config.json"))
    W = load_safetensors(model + "/model.safetensors")
    vc = cfg.get("vision_config", cfg)
    n, c, s = req["images"], vc.get("num_channels", 3), vc["image_size"]
    pixels = torch.from_numpy(np.fromfile(req["pixels"], dtype="<f4").reshape(n, c, s, s).copy()).double()
    out = {}
    with torch.no_grad():
        hidden, image_embeds = vision(W, vc, pixels)
        out["hidden_states"] = [h.tolist() for h in hidden]
        out["image_embeds"] = image_embeds.tolist()
        if req.get("texts"):
            text_embeds = text(W, cfg["text_config"], req["texts"])
            out["text_embeds"] = text_embeds.tolist()
            ie = image_embeds / image_embeds.norm(p=2, dim=-1, keepdim=True)
            te = text_embeds / text_embeds.norm(p=2, dim=-1, keepdim=True)
            logits_per_image = (te @ ie.T * W["logit_scale"].exp()).T
            out["logits_per_image"] = logits_per_image.tolist()
            out["probs"] = logits_per_image.softmax(dim=1).tolist()
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
