#!/usr/bin/python3
# PyTorch peer of `furnace bench train`: the same training step on the same shape, printed as the same JSON line.
# The model mirrors Furnace's LlamaTrainable (src/Furnace/Models/Llama/LlamaTrainable.cs): token embedding, per layer
# RMSNorm -> q/k/v (rotary, half-split as HF Llama) -> causal softmax attention (grouped-query when kv-heads < heads)
# -> o, residual, RMSNorm -> SwiGLU (gate, up, down), residual; final RMSNorm and an untied head. The step mirrors
# Training.DecoderStepBench / Trainer.TrainStep: random tokens, next-token cross-entropy over every position but each
# sequence's last, backward, clip_grad_norm_(1.0), AdamW(lr 1e-4, betas 0.9/0.999, eps 1e-8, no weight decay),
# zero_grad. --lora R freezes the base and trains rank-R adapters (alpha 2R) on every linear but the head, as
# `furnace bench train --lora R` does. --precision bf16 runs forward and loss under torch.autocast(cpu, bfloat16)
# (fp32 master weights, optimizer state and gradients): PyTorch's mixed precision on CPU.
#
# Method (DESIGN.md, as src/Furnace/Benchmarking/Reps.cs): two untimed steps, then --steps timed steps, each started
# once other processes use < 5 % of the machine (/proc/stat minus this process's jiffies, waited for up to
# --idle-wait seconds) and redone (up to 3 times) when they took >= 5 % while it ran; medians and the worst share.
# Run it with bench/run-train.sh, which puts OpenBLAS (SkylakeX kernels) in front of Debian's reference BLAS.
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F


class CpuShare:
    @staticmethod
    def sample():
        with open("/proc/stat") as f:
            cpu = [int(v) for v in f.readline().split()[1:9]]
        total, idle = sum(cpu), cpu[3] + cpu[4]
        with open("/proc/self/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        own = int(rest[11]) + int(rest[12])  # utime, stime: fields 14, 15
        return total - idle, total, own

    @staticmethod
    def others_since(a, b):
        total = b[1] - a[1]
        if total <= 0:
            return 0.0
        return min(max((b[0] - a[0] - (b[2] - a[2])) / total, 0.0), 1.0)

    @staticmethod
    def wait_for_idle(threshold, max_wait):
        deadline = time.monotonic() + max_wait
        while True:
            a = CpuShare.sample()
            time.sleep(0.25)
            share = CpuShare.others_since(a, CpuShare.sample())
            if share < threshold or time.monotonic() >= deadline:
                return share


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat([-x2, x1], dim=-1) * sin


class Linear(torch.nn.Module):
    """A bias-free linear, optionally frozen with a LoRA adapter (y = xWᵀ + (alpha/r)·x Aᵀ Bᵀ, B starts at 0)."""

    def __init__(self, inputs, outputs, lora, gen):
        super().__init__()
        a = 0.5 * math.sqrt(3.0 / inputs)
        self.weight = torch.nn.Parameter((torch.rand(outputs, inputs, generator=gen) * 2 - 1) * a, requires_grad=lora == 0)
        self.lora = lora
        if lora:
            self.A = torch.nn.Parameter((torch.rand(lora, inputs, generator=gen) * 2 - 1) / math.sqrt(inputs))
            self.B = torch.nn.Parameter(torch.zeros(outputs, lora))
            self.scale = 2.0  # alpha = 2r

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.lora:
            y = y + F.linear(F.linear(x, self.A), self.B) * self.scale
        return y


class Decoder(torch.nn.Module):
    def __init__(self, a, gen):
        super().__init__()
        self.a = a
        hd = a.dim // a.heads
        r = a.lora
        self.embed = torch.nn.Parameter(torch.rand(a.vocab, a.dim, generator=gen) * 2 - 1, requires_grad=r == 0)
        self.layers = torch.nn.ModuleList()
        for _ in range(a.layers):
            l = torch.nn.Module()
            l.attn_norm = torch.nn.Parameter(torch.ones(a.dim), requires_grad=r == 0)
            l.q = Linear(a.dim, a.heads * hd, r, gen)
            l.k = Linear(a.dim, a.kv_heads * hd, r, gen)
            l.v = Linear(a.dim, a.kv_heads * hd, r, gen)
            l.o = Linear(a.heads * hd, a.dim, r, gen)
            l.ffn_norm = torch.nn.Parameter(torch.ones(a.dim), requires_grad=r == 0)
            l.gate = Linear(a.dim, a.ffn, r, gen)
            l.up = Linear(a.dim, a.ffn, r, gen)
            l.down = Linear(a.ffn, a.dim, r, gen)
            self.layers.append(l)
        self.norm = torch.nn.Parameter(torch.ones(a.dim), requires_grad=r == 0)
        self.head = Linear(a.dim, a.vocab, 0, gen)
        self.head.weight.requires_grad = r == 0
        inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.outer(torch.arange(a.seq).float(), inv)
        self.register_buffer("cos", torch.cat([ang.cos(), ang.cos()], dim=-1))
        self.register_buffer("sin", torch.cat([ang.sin(), ang.sin()], dim=-1))
        self.register_buffer("causal", torch.full((a.seq, a.seq), float("-inf")).triu(1))

    def forward(self, ids):
        a = self.a
        B, T = ids.shape
        hd = a.dim // a.heads
        x = self.embed[ids]
        for l in self.layers:
            h = rms_norm(x, l.attn_norm, 1e-5)
            q = rope(l.q(h).view(B, T, a.heads, hd).transpose(1, 2), self.cos, self.sin)
            k = rope(l.k(h).view(B, T, a.kv_heads, hd).transpose(1, 2), self.cos, self.sin)
            v = l.v(h).view(B, T, a.kv_heads, hd).transpose(1, 2)
            if a.kv_heads != a.heads:
                k = k.repeat_interleave(a.heads // a.kv_heads, dim=1)
                v = v.repeat_interleave(a.heads // a.kv_heads, dim=1)
            w = (q @ k.transpose(-1, -2)) * hd ** -0.5 + self.causal
            o = (torch.softmax(w.float(), dim=-1).to(v.dtype) @ v).transpose(1, 2).reshape(B, T, a.heads * hd)
            x = x + l.o(o)
            h = rms_norm(x, l.ffn_norm, 1e-5)
            x = x + l.down(F.silu(l.gate(h)) * l.up(h))
        return rms_norm(x, self.norm, 1e-5)


def flops_per_step(a, lora_params):
    # as src/Furnace/Models/Llama/LlamaTrainingFlops.cs
    hd = a.dim // a.heads
    q, kv = a.heads * hd, a.kv_heads * hd
    p = a.layers * (a.dim * q * 2 + a.dim * kv * 2 + 3 * a.dim * a.ffn) + a.vocab * a.dim
    tokens = a.batch * a.seq
    attention = 12.0 * a.layers * q * a.seq * tokens
    return (4.0 * p * tokens + 6.0 * lora_params * tokens if lora_params else 6.0 * p * tokens) + attention


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2]


def main():
    ap = argparse.ArgumentParser()
    for name, default in [("dim", 256), ("layers", 4), ("heads", 8), ("kv-heads", 0), ("ffn", 704), ("vocab", 4096),
                          ("batch", 8), ("seq", 128), ("threads", 2), ("steps", 3), ("lora", 0)]:
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    ap.add_argument("--idle-wait", type=float, default=60)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    a.kv_heads = a.kv_heads or a.heads
    if a.dim % a.heads or a.heads % a.kv_heads or a.steps < 1 or a.seq < 2:
        sys.exit("torch_train_step.py: dim must be a multiple of heads, kv-heads divide heads, steps >= 1, seq >= 2")
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)

    t0 = time.perf_counter()
    model = Decoder(a, gen)
    trained = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trained, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq), generator=gen)
    targets = ids[:, 1:].reshape(-1)
    setup_ms = (time.perf_counter() - t0) * 1000
    lora_params = sum(p.numel() for n, p in model.named_parameters() if n.endswith(".A") or n.endswith(".B"))
    flops = flops_per_step(a, lora_params)
    tokens = a.batch * a.seq

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            hidden = model(ids)[:, :-1].reshape(-1, a.dim)  # the last position of each sequence has no target
            logits = model.head(hidden)
        loss = F.cross_entropy(logits.float(), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=False)
        return loss.item()

    losses = [step(), step()]  # warm-up: the first allocates the AdamW moments
    reps = []
    for _ in range(a.steps):
        for attempt in range(4):
            before = CpuShare.wait_for_idle(0.05, a.idle_wait)
            s0 = CpuShare.sample()
            t = time.perf_counter()
            losses.append(step())
            seconds = time.perf_counter() - t
            during = CpuShare.others_since(s0, CpuShare.sample())
            if during < 0.05:
                break
        reps.append({"ms_per_step": 1000 * seconds, "tokens_per_s": tokens / seconds, "gflops": flops / seconds / 1e9,
                     "others": max(before, during)})

    out = {"engine": "pytorch", "torch": torch.__version__, "dim": a.dim, "layers": a.layers, "heads": a.heads,
           "kv_heads": a.kv_heads, "ffn": a.ffn, "vocab": a.vocab, "batch": a.batch, "seq": a.seq, "tokens_per_step": tokens,
           "threads": a.threads, "precision": a.precision, "mode": "lora" if a.lora else "full", "lora_rank": a.lora,
           "trained_parameters": sum(p.numel() for p in trained), "gflop_per_step": round(flops / 1e9, 6),
           "setup_ms": round(setup_ms, 1), "reps": len(reps)}
    for f in ["ms_per_step", "tokens_per_s", "gflops"]:
        out[f] = round(median([r[f] for r in reps]), 2)
    for f in ["ms_per_step", "tokens_per_s", "gflops"]:
        out[f + "_reps"] = [round(r[f], 2) for r in reps]
    out["other_cpu_pct"] = round(100 * max(r["others"] for r in reps), 1)
    out["loss_first"] = round(losses[0], 4)
    out["loss_last"] = round(losses[-1], 4)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["blas"] = os.environ.get("OPENBLAS_CORETYPE", "") and "openblas-" + os.environ["OPENBLAS_CORETYPE"] or "system"
    if a.json:
        print(json.dumps(out))
    else:
        print(f"pytorch {a.precision} {out['mode']}: {out['ms_per_step']} ms/step, {out['tokens_per_s']} tokens/s, "
              f"{out['gflops']} GFLOP/s; median of {len(reps)} steps, others' CPU {out['other_cpu_pct']} %")


if __name__ == "__main__":
    main()
