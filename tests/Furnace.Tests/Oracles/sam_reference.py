#!/usr/bin/python3
# Reference forward of DeepSeek-VL's high-resolution tower and hybrid aligner in plain PyTorch (float64), written
# from deepseek-ai/DeepSeek-VL deepseek_vl/models/sam.py (ImageEncoderViT with sam_hd, Block, Attention,
# window_partition / window_unpartition, get_rel_pos, add_decomposed_rel_pos, LayerNorm2d, SAM_MODEL_CONFIG),
# clip_encoder.py (CLIPVisionTower.image_norm, HybridVisionTower's "b c h w -> b (h w) c") and projector.py
# (MlpProjector low_high_hybrid_split_mlp_gelu); their package itself is not used. Parameters are read from the
# checkpoint as stored (a rel_pos table of another length is interpolated by get_rel_pos, as in their code).
# Sizes: the model_name table, then the explicit high_res_cfg keys Furnace also honours (width, layers, heads,
# patch_size, window_size, global_attn_indexes, out_chans, downsample_channels, mlp_ratio) — DeepSeek's
# create_sam_vit ignores those keys; the tiny test checkpoints need them.
# Usage: sam_reference.py REQUEST.json RESULT.json, with REQUEST either
#   {"mode": "tower", "model": dir, "pixels": f32 file (3, S, S), "low": f32 file (tokens, input_dim)}
#     -> {"trunk": (g·g·width) after the blocks, "high": (tokens·channels), "aligned": (tokens·n_embed), shapes}
#   {"mode": "conv2d", "x": f32 file (C, H, W), "weight": f32 file (O, C, k, k), "bias": f32 file or null,
#    "shape": [C, H, W], "out": O, "kernel": k, "stride": s, "padding": p}
#     -> {"y": F.conv2d output as (OH·OW, O), channels-last}
#   {"mode": "resize_aa", "x": f32 file (3, S, S), "size": S, "low": L}
#     -> {"y": HybridVisionTower's low view, torchvision Resize(L, antialias=True) on a float tensor, which is
#         F.interpolate(size=(L, L), mode="bilinear", align_corners=False, antialias=True)}
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

SAM_MODEL_CONFIG = {
    "sam_vit_b": dict(width=768, layers=12, heads=12, global_attn_indexes=[2, 5, 8, 11], downsample_channels=[]),
    "sam_b_downsample": dict(width=768, layers=12, heads=12, global_attn_indexes=[2, 5, 8, 11], downsample_channels=[512, 1024]),
    "sam_vit_l": dict(width=1024, layers=24, heads=16, global_attn_indexes=[5, 11, 17, 23], downsample_channels=[]),
    "sam_vit_h": dict(width=1280, layers=32, heads=16, global_attn_indexes=[7, 15, 23, 31], downsample_channels=[]),
}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[8 + n + b:8 + n + e]
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, {"F32": np.float32, "F16": np.float16}[info["dtype"]])
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy()).double()
    return out


def read_f32(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(shape).copy()).double()


def sam_config(p):
    c = dict(patch_size=16, window_size=14, out_chans=256, mlp_ratio=4.0, **SAM_MODEL_CONFIG[p["model_name"]])
    c["image_size"] = p.get("image_size", 1024)
    for key in ["width", "layers", "heads", "patch_size", "window_size", "global_attn_indexes", "out_chans", "downsample_channels", "mlp_ratio"]:
        if p.get(key) is not None:
            c[key] = p[key]
    return c


def window_partition(x, ws):
    B, H, W, C = x.shape
    ph, pw = (ws - H % ws) % ws, (ws - W % ws) % ws
    if ph or pw:
        x = F.pad(x, (0, 0, 0, pw, 0, ph))
    Hp, Wp = H + ph, W + pw
    x = x.view(B, Hp // ws, ws, Wp // ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws, ws, C)
    return x, (Hp, Wp)


def window_unpartition(x, ws, pad_hw, hw):
    Hp, Wp = pad_hw
    H, W = hw
    B = x.shape[0] // (Hp * Wp // ws // ws)
    x = x.view(B, Hp // ws, Wp // ws, ws, ws, -1).permute(0, 1, 3, 2, 4, 5).reshape(B, Hp, Wp, -1)
    return x[:, :H, :W, :]


def get_rel_pos(q_size, k_size, rel_pos):
    dist = int(2 * max(q_size, k_size) - 1)
    if rel_pos.shape[0] != dist:
        resized = F.interpolate(rel_pos.reshape(1, rel_pos.shape[0], -1).permute(0, 2, 1), size=dist, mode="linear")
        resized = resized.reshape(-1, dist).permute(1, 0)
    else:
        resized = rel_pos
    q_coords = torch.arange(q_size)[:, None] * max(k_size / q_size, 1.0)
    k_coords = torch.arange(k_size)[None, :] * max(q_size / k_size, 1.0)
    rel = (q_coords - k_coords) + (k_size - 1) * max(q_size / k_size, 1.0)
    return resized[rel.long()]


def attention(x, W, pre, heads):
    B, H, Wd, _ = x.shape
    qkv = F.linear(x, W[pre + "qkv.weight"], W[pre + "qkv.bias"]).reshape(B, H * Wd, 3, heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.reshape(3, B * heads, H * Wd, -1).unbind(0)
    scale = q.shape[-1] ** -0.5
    attn = (q * scale) @ k.transpose(-2, -1)
    Rh = get_rel_pos(H, H, W[pre + "rel_pos_h"])
    Rw = get_rel_pos(Wd, Wd, W[pre + "rel_pos_w"])
    r_q = q.reshape(B * heads, H, Wd, -1)
    rel_h = torch.einsum("bhwc,hkc->bhwk", r_q, Rh)
    rel_w = torch.einsum("bhwc,wkc->bhwk", r_q, Rw)
    attn = (attn.view(B * heads, H, Wd, H, Wd) + rel_h[:, :, :, :, None] + rel_w[:, :, :, None, :]).view(B * heads, H * Wd, H * Wd)
    attn = attn.softmax(dim=-1)
    out = (attn @ v).view(B, heads, H, Wd, -1).permute(0, 2, 3, 1, 4).reshape(B, H, Wd, -1)
    return F.linear(out, W[pre + "proj.weight"], W[pre + "proj.bias"])


def block(x, W, pre, c, window):
    eps, width = 1e-6, c["width"]
    shortcut = x
    x = F.layer_norm(x, (width,), W[pre + "norm1.weight"], W[pre + "norm1.bias"], eps)
    if window > 0:
        H, Wd = x.shape[1], x.shape[2]
        x, pad_hw = window_partition(x, window)
    x = attention(x, W, pre + "attn.", c["heads"])
    if window > 0:
        x = window_unpartition(x, window, pad_hw, (H, Wd))
    x = shortcut + x
    h = F.layer_norm(x, (width,), W[pre + "norm2.weight"], W[pre + "norm2.bias"], eps)
    h = F.linear(F.gelu(F.linear(h, W[pre + "mlp.lin1.weight"], W[pre + "mlp.lin1.bias"])), W[pre + "mlp.lin2.weight"], W[pre + "mlp.lin2.bias"])
    return x + h


def layer_norm_2d(x, w, b, eps=1e-6):
    u = x.mean(1, keepdim=True)
    s = (x - u).pow(2).mean(1, keepdim=True)
    x = (x - u) / torch.sqrt(s + eps)
    return w[:, None, None] * x + b[:, None, None]


def neck(x, W, pre):
    x = F.conv2d(x, W[pre + ".0.weight"])
    x = layer_norm_2d(x, W[pre + ".1.weight"], W[pre + ".1.bias"])
    x = F.conv2d(x, W[pre + ".2.weight"], padding=1)
    return layer_norm_2d(x, W[pre + ".3.weight"], W[pre + ".3.bias"])


def downsamples(x, W, c):
    for j in range(len(c["downsample_channels"])):
        x = F.conv2d(x, W[f"downsamples.{j}.weight"], stride=2, padding=1)
    return x


def sam_tower(pixels, W, c, p):
    x = pixels[None]
    if p.get("pixel_mean") is not None:
        mean, std = torch.tensor(p["pixel_mean"]).double(), torch.tensor(p["pixel_std"]).double()
        x = (x - mean[None, :, None, None]) / std[None, :, None, None]
    x = F.conv2d(x, W["patch_embed.proj.weight"], W["patch_embed.proj.bias"], stride=c["patch_size"]).permute(0, 2, 3, 1)
    x = x + W["pos_embed"]
    global_features = []
    for i in range(c["layers"]):
        window = 0 if i in c["global_attn_indexes"] else c["window_size"]
        x = block(x, W, f"blocks.{i}.", c, window)
        if window == 0:
            global_features.append(x)
    trunk = x
    y = neck(x.permute(0, 3, 1, 2), W, "neck")
    y = downsamples(F.interpolate(y, size=(96, 96), mode="bilinear", align_corners=False), W, c)
    hd = neck(global_features[0].permute(0, 3, 1, 2), W, "neck_hd")
    hd = downsamples(F.interpolate(hd, size=(96, 96), mode="bilinear", align_corners=False), W, c)
    y = y + hd * W["hd_alpha_downsamples"]
    return trunk[0], y.flatten(2).transpose(1, 2)[0]  # b c h w -> b (h w) c


def aligner(high, low, W, p):
    x = torch.cat([F.linear(high, W["high_up_proj.weight"], W["high_up_proj.bias"]),
                   F.linear(low, W["low_up_proj.weight"], W["low_up_proj.bias"])], dim=-1)
    for k in range(1, p.get("depth", 1)):
        x = F.linear(F.gelu(x), W[f"layers.{2 * k - 1}.weight"], W[f"layers.{2 * k - 1}.bias"])
    return x


def flat(t):
    return t.reshape(-1).tolist()


def main():
    req = json.load(open(sys.argv[1]))
    if req["mode"] == "conv2d":
        C, H, Wd = req["shape"]
        k, o = req["kernel"], req["out"]
        x = read_f32(req["x"], (1, C, H, Wd))
        w = read_f32(req["weight"], (o, C, k, k))
        b = read_f32(req["bias"], (o,)) if req.get("bias") else None
        y = F.conv2d(x, w, b, stride=req["stride"], padding=req["padding"])
        result = {"y": flat(y[0].permute(1, 2, 0))}
    elif req["mode"] == "resize_aa":
        S, L = req["size"], req["low"]
        x = read_f32(req["x"], (1, 3, S, S))
        result = {"y": flat(F.interpolate(x, size=(L, L), mode="bilinear", align_corners=False, antialias=True)[0])}
    else:
        cfg = json.load(open(req["model"] + "/config.json"))
        hp = cfg["vision_config"]["params"]["high_res_cfg"]
        ap = cfg["aligner_config"]["params"]
        assert ap["projector_type"] == "low_high_hybrid_split_mlp_gelu"
        c = sam_config(hp)
        allw = load_safetensors(req["model"] + "/model.safetensors")
        prefix = "vision_model.vision_tower_high.vision_tower."
        W = {k[len(prefix):]: v for k, v in allw.items() if k.startswith(prefix)}
        A = {k[len("aligner."):]: v for k, v in allw.items() if k.startswith("aligner.")}
        S = c["image_size"]
        trunk, high = sam_tower(read_f32(req["pixels"], (3, S, S)), W, c, hp)
        low = read_f32(req["low"], (high.shape[0], ap["input_dim"]))
        aligned = aligner(high, low, A, ap)
        result = {"trunk": flat(trunk), "high": flat(high), "high_shape": list(high.shape), "aligned": flat(aligned), "aligned_shape": list(aligned.shape)}
    with open(sys.argv[2], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
