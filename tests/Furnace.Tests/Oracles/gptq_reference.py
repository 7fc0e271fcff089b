#!/usr/bin/python3
# GPTQ written from the paper (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative
# Pre-trained Transformers", Algorithm 1), in float64 PyTorch, against a FIXED grid given per (row, group):
#   value(q) = scale * (q - zero) - min  (float32 arithmetic, as ggml decodes), q in [lo, hi],
#   quant(w) = the code of round((w + min) / scale) + zero, clamped (zero when scale is 0).
# Before Algorithm 1, as the reference gptq.py fasterquant: dead columns (diag H = 0) get W[:, j] = 0, H[j, j] = 1;
# optional act-order (columns in the given order, which must sort diag H descending); λ = damp · mean(diag H) on the
# diagonal; H⁻¹ ← Cholesky(H⁻¹)ᵀ (upper).
# Request: a JSON list of case folders; each holds meta.json {rows, cols, group, damp, block, act_order}, w.f32
# (rows, cols), h.f64 (cols, cols), grid.bin (rows, cols/group) records of <f4 scale, f4 min, i4 zero, i4 lo, i4 hi>,
# order.i32 (cols,). Writes codes.i32 (rows, cols), in original column order, into each folder.
import json
import sys

import numpy as np
import torch


def gptq_case(d):
    m = json.load(open(d + "/meta.json"))
    rows, cols, group, B = m["rows"], m["cols"], m["group"], m["block"]
    W = torch.from_numpy(np.fromfile(d + "/w.f32", dtype="<f4").reshape(rows, cols).astype(np.float64))
    H = torch.from_numpy(np.fromfile(d + "/h.f64", dtype="<f8").reshape(cols, cols).copy())
    rec = np.dtype([("scale", "<f4"), ("min", "<f4"), ("zero", "<i4"), ("lo", "<i4"), ("hi", "<i4")])
    grid = np.fromfile(d + "/grid.bin", dtype=rec).reshape(rows, cols // group)
    order = torch.from_numpy(np.fromfile(d + "/order.i32", dtype="<i4").astype(np.int64))

    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    perm = torch.arange(cols)
    if m["act_order"]:
        dg = torch.diag(H)[order]
        assert bool((dg[:-1] >= dg[1:]).all()), "order does not sort diag H descending"
        perm = order
        W = W[:, perm]
        H = H[perm][:, perm]
    H = H + m["damp"] * torch.mean(torch.diag(H)) * torch.eye(cols, dtype=torch.float64)
    Hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(H)), upper=True)

    scale = torch.from_numpy(grid["scale"].astype(np.float64))
    mn = torch.from_numpy(grid["min"].astype(np.float64))
    zero, lo, hi = (torch.from_numpy(grid[k].astype(np.int64)) for k in ("zero", "lo", "hi"))
    sc32, mn32 = grid["scale"], grid["min"]

    codes = torch.zeros(rows, cols, dtype=torch.int64)
    E = torch.zeros(rows, B, dtype=torch.float64)
    for i in range(0, cols, B):
        i2 = min(i + B, cols)
        for j in range(i, i2):
            g = int(perm[j]) // group
            w = W[:, j]
            s = scale[:, g]
            q = torch.where(s != 0, torch.round((w + mn[:, g]) / torch.where(s != 0, s, torch.ones_like(s))) + zero[:, g], zero[:, g].double())
            q = torch.minimum(torch.maximum(q, lo[:, g].double()), hi[:, g].double()).long()
            # the decoded value in float32, as ggml computes it
            v = (sc32[:, g] * (q.numpy() - zero[:, g].numpy()).astype(np.float32)).astype(np.float32) - mn32[:, g]
            v = torch.from_numpy(v.astype(np.float32).astype(np.float64))
            codes[:, int(perm[j])] = q
            E[:, j - i] = (w - v) / Hinv[j, j]
            W[:, j:i2] -= E[:, j - i].unsqueeze(1) * Hinv[j, j:i2].unsqueeze(0)
        W[:, i2:] -= E[:, : i2 - i] @ Hinv[i:i2, i2:]
    codes.numpy().astype("<i4").tofile(d + "/codes.i32")


def main():
    torch.set_num_threads(1)
    for d in json.load(open(sys.argv[1])):
        gptq_case(d)


if __name__ == "__main__":
    main()
