#!/usr/bin/python3
# Reference for the autograd tape's composed-graph test (AutogradTorchTests): the same small graph in PyTorch
# autograd, float64. Linear(+bias) -> RmsNorm -> q/k/v Linear -> rotary (HF rotate_half, i.e. RopeStyle.HalfSplit)
# -> causal grouped-query scaled-dot-product attention per sequence -> SwiGLU (silu(gate) * up) -> Linear ->
# cross-entropy (mean, ignore_index=-100). Reads <dir>/config.json and <dir>/<name>.npy (float32 inputs), writes
# <dir>/out_loss.npy and <dir>/grad_<name>.npy (float64) for every input.
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

NAMES = ["x", "w_in", "b_in", "g", "wq", "wk", "wv", "wg", "wu", "w_out"]


def rope(x, pos, heads, hd, theta):
    # x (n, heads*hd); pairs (i, i + hd/2) rotated by pos * theta^(-2i/hd)
    n = x.shape[0]
    half = hd // 2
    inv = theta ** (-2.0 * torch.arange(half, dtype=torch.float64) / hd)
    ang = pos[:, None].double() * inv[None, :]
    cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]
    v = x.view(n, heads, hd)
    a, b = v[..., :half], v[..., half:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1).reshape(n, heads * hd)


def main():
    d = sys.argv[1]
    cfg = json.load(open(os.path.join(d, "config.json")))
    t = {n: torch.from_numpy(np.load(os.path.join(d, n + ".npy")).astype(np.float64)).requires_grad_(True) for n in NAMES}
    B, T, H, KV, hd = cfg["batch"], cfg["seq"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    pos = torch.tensor(cfg["positions"])
    targets = torch.tensor(cfg["targets"])

    h = F.linear(t["x"], t["w_in"], t["b_in"])
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + cfg["eps"]) * t["g"]
    q = rope(F.linear(h, t["wq"]), pos, H, hd, cfg["theta"])
    k = rope(F.linear(h, t["wk"]), pos, KV, hd, cfg["theta"])
    v = F.linear(h, t["wv"])
    q = q.view(B, T, H, hd).transpose(1, 2)
    k = k.view(B, T, KV, hd).transpose(1, 2).repeat_interleave(H // KV, dim=1)
    v = v.view(B, T, KV, hd).transpose(1, 2).repeat_interleave(H // KV, dim=1)
    s = q @ k.transpose(-1, -2) / hd ** 0.5
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    s = s.masked_fill(mask, float("-inf"))
    a = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B * T, H * hd)
    m = F.silu(F.linear(a, t["wg"])) * F.linear(a, t["wu"])
    logits = F.linear(m, t["w_out"])
    loss = F.cross_entropy(logits, targets, ignore_index=-100)
    loss.backward()
    np.save(os.path.join(d, "out_loss.npy"), np.array([loss.item()], dtype=np.float64))
    for n in NAMES:
        np.save(os.path.join(d, "grad_" + n + ".npy"), t[n].grad.numpy())


if __name__ == "__main__":
    main()
