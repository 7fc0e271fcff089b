# Packs the linears of a float Hugging Face Llama checkpoint as a GPTQ or AWQ checkpoint, and writes the reference
# f32 dequantization computed from the PACKED tensors by an independent unpacker: the oracle for
# Furnace.Formats.Quantized.
# Formats, written from their public descriptions (facts, not code, carry over):
#   GPTQ (AutoGPTQ qlinear_cuda_old / qlinear_exllama pack(); GPTQModel v2): qweight int32 (in*bits/32, out), codes
#     packed along the input dimension, word k holds input rows k*(32/bits) + j at bit bits*j; qzeros int32
#     (groups, out*bits/32) packed the same way along the output dimension, the v1 "gptq" format storing zero - 1;
#     scales f16 (groups, out); g_idx int32 (in,); sym uses zero 2^(bits-1); desc_act permutes the group order.
#   AWQ GEMM (AutoAWQ gemm.py / packing_utils.py): qweight int32 (in, out/8) packed along the output dimension with
#     nibble i of word c holding output column 8c + [0,2,4,6,1,3,5,7][i]; qzeros likewise; scales f16 (groups, out).
# Usage: hf_quant_pack.py SRC_DIR OUT_DIR DEQ_DIR METHOD BITS GROUP DESC_ACT SYM FORMAT COARSE SEED
#   OUT_DIR: the quantized checkpoint (config.json with quantization_config, model.safetensors) and reference.safetensors
#   (f32 W (out, in) per "<module>.weight"); DEQ_DIR: the same model unquantized, its linears = the reference weights.
import json, os, shutil, struct, sys
import numpy as np
import torch

LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ST_DTYPES = {"F32": np.float32, "F16": np.float16, "I32": np.int32}


def read_st(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        out[k] = np.frombuffer(data[b:e], dtype=ST_DTYPES[v["dtype"]]).reshape(v["shape"]).copy()
    return out


def write_st(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k])
        dt = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int32): "I32"}[a.dtype]
        raw = a.tobytes()
        header[k] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def coarsen(s):
    # scales with at most 7 significant bits, so that scale*zero (zero < 16) is exact in f16: exercises the Q4_1 path
    m, e = np.frexp(s.astype(np.float64))
    return np.ldexp(np.round(m * 128) / 128, e)


def as_int32(u):
    return u.astype(np.uint32).view(np.int32)


def gptq_pack(w, bits, group, desc_act, sym, v1, coarse, rng):
    out_f, in_f = w.shape
    maxq = 2 ** bits - 1
    gs = in_f if group == -1 else group
    groups = (in_f + gs - 1) // gs
    order = rng.permutation(in_f) if desc_act else np.arange(in_f)
    g_idx = np.empty(in_f, dtype=np.int32)
    g_idx[order] = np.arange(in_f) // gs   # column order[j] is the j-th quantized, in group j // gs
    scales = np.zeros((groups, out_f), np.float32)
    zeros = np.zeros((groups, out_f), np.int64)
    for g in range(groups):
        cols = np.nonzero(g_idx == g)[0]
        x = w[:, cols].astype(np.float64)
        xmin = np.minimum(x.min(1), 0)
        xmax = np.maximum(x.max(1), 0)
        if sym:
            xmax = np.maximum(-xmin, xmax)
            xmin = np.where(xmin < 0, -xmax, xmin)
        span = np.where(xmax - xmin == 0, 1.0, xmax - xmin)
        s = span / maxq
        if coarse:
            s = coarsen(s)
        s = s.astype(np.float16).astype(np.float64)
        z = np.full(out_f, (maxq + 1) // 2) if sym else np.round(-xmin / s)
        if v1 and not sym:
            z = np.clip(z, 1, maxq)  # v1 stores zero - 1 and cannot hold zero 0
        scales[g], zeros[g] = s, np.clip(z, 0, maxq)
    q = np.clip(np.round(w / scales[g_idx].T) + zeros[g_idx].T, 0, maxq).astype(np.uint32)   # (out, in)

    per = 32 // bits
    intw = q.T  # (in, out)
    qweight = np.zeros((in_f // per, out_f), np.uint32)
    for j in range(per):
        qweight |= intw[j::per] << np.uint32(bits * j)
    stored = ((zeros - (1 if v1 else 0)) & maxq).astype(np.uint32)
    qzeros = np.zeros((groups, out_f // per), np.uint32)
    for j in range(per):
        qzeros |= stored[:, j::per] << np.uint32(bits * j)
    packed = {"qweight": as_int32(qweight), "qzeros": as_int32(qzeros), "scales": scales.astype(np.float16), "g_idx": g_idx}

    # reference: unpack with torch shifts (arithmetic right shift of int32, then the mask), as AutoGPTQ's dequant does
    qw = torch.from_numpy(packed["qweight"]).long()
    qz = torch.from_numpy(packed["qzeros"]).long()
    shifts = torch.arange(0, 32, bits)
    codes = ((qw.unsqueeze(1) >> shifts.view(1, -1, 1)) & maxq).reshape(in_f, out_f)
    zs = ((qz.unsqueeze(2) >> shifts.view(1, 1, -1)) & maxq).reshape(groups, out_f) + (1 if v1 else 0)
    gi = torch.from_numpy(g_idx).long()
    sc = torch.from_numpy(packed["scales"]).float()
    ref = (sc[gi] * (codes - zs[gi]).float()).t().contiguous().numpy()
    assert np.array_equal(codes.t().numpy(), q.astype(np.int64)) and np.array_equal(zs.numpy(), zeros)
    return packed, ref


AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]
AWQ_REVERSE = [0, 4, 1, 5, 2, 6, 3, 7]


def awq_pack(w, group, coarse):
    out_f, in_f = w.shape
    groups = in_f // group
    x = w.reshape(out_f, groups, group).astype(np.float64)
    mx, mn = x.max(2), x.min(2)
    s = np.maximum(mx - mn, 1e-5) / 15
    if coarse:
        s = coarsen(s)
    s = s.astype(np.float16).astype(np.float64)           # (out, groups)
    z = np.clip(-np.round(mn / s), 0, 15)
    q = np.clip(np.round(x / s[:, :, None]) + z[:, :, None], 0, 15).reshape(out_f, in_f).astype(np.uint32)
    intw = q.T  # (in, out)
    qweight = np.zeros((in_f, out_f // 8), np.uint32)
    zt = z.T.astype(np.uint32)  # (groups, out)
    qzeros = np.zeros((groups, out_f // 8), np.uint32)
    for c in range(out_f // 8):
        for i in range(8):
            qweight[:, c] |= intw[:, c * 8 + AWQ_ORDER[i]] << np.uint32(4 * i)
            qzeros[:, c] |= zt[:, c * 8 + AWQ_ORDER[i]] << np.uint32(4 * i)
    packed = {"qweight": as_int32(qweight), "qzeros": as_int32(qzeros), "scales": s.T.astype(np.float16)}

    # reference: AutoAWQ's unpack (shifts 0,4,..,28) then the reverse order, zeros likewise, (q - z) * s
    shifts = torch.arange(0, 32, 4)
    qw = torch.from_numpy(packed["qweight"]).long()
    qz = torch.from_numpy(packed["qzeros"]).long()
    iw = ((qw[:, :, None] >> shifts[None, None, :]) & 15).view(in_f, -1)
    iz = ((qz[:, :, None] >> shifts[None, None, :]) & 15).view(groups, -1)
    rev = torch.arange(out_f).view(-1, 8)[:, AWQ_REVERSE].reshape(-1)
    iw, iz = iw[:, rev], iz[:, rev]
    gi = torch.arange(in_f) // group
    sc = torch.from_numpy(packed["scales"]).float()
    ref = ((iw - iz[gi]).float() * sc[gi]).t().contiguous().numpy()
    assert np.array_equal(iw.t().numpy(), q.astype(np.int64))
    return packed, ref


def main():
    src, out, deq, method, bits, group, desc_act, sym, fmt, coarse, seed = sys.argv[1:12]
    bits, group, seed = int(bits), int(group), int(seed)
    desc_act, sym, coarse = desc_act == "true", sym == "true", coarse == "true"
    rng = np.random.default_rng(seed)
    tensors = read_st(os.path.join(src, "model.safetensors"))
    quant, ref, plain = {}, {}, {}
    for name, w in tensors.items():
        module = name[: -len(".weight")] if name.endswith(".weight") else None
        if module and module.split(".")[-1] in LINEARS:
            if method == "gptq":
                packed, r = gptq_pack(w, bits, group, desc_act, sym, fmt == "gptq", coarse, rng)
            else:
                packed, r = awq_pack(w, group, coarse)
            for k, v in packed.items():
                quant[module + "." + k] = v
            ref[name] = r.astype(np.float32)
            plain[name] = r.astype(np.float32)
        else:
            quant[name] = w
            plain[name] = w
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    for d in (out, deq):
        os.makedirs(d, exist_ok=True)
        for extra in ("tokenizer.json", "tokenizer_config.json"):
            if os.path.exists(os.path.join(src, extra)):
                shutil.copy(os.path.join(src, extra), d)
    with open(os.path.join(deq, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if method == "gptq":
        qc = {"quant_method": "gptq", "bits": bits, "group_size": group, "desc_act": desc_act, "sym": sym,
              "checkpoint_format": fmt, "true_sequential": True, "damp_percent": 0.01}
    else:
        qc = {"quant_method": "awq", "bits": bits, "group_size": group, "zero_point": True, "version": "gemm"}
    config["quantization_config"] = qc
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_st(os.path.join(out, "model.safetensors"), quant)
    write_st(os.path.join(out, "reference.safetensors"), ref)
    write_st(os.path.join(deq, "model.safetensors"), plain)


main()
