#!/usr/bin/python3
# Reference optimisation pieces from PyTorch itself and from HF transformers' schedule formulas.
# Request JSON {"mode": ...}:
#   "adamw": {"params": [[..]..], "groups": [{"params": [i..], "lr": f, "weight_decay": f}..], "betas": [b1, b2],
#             "eps": f, "grads": [[[..] per param] per step]} -> {"params": [[..] per param after the last step]}
#             with torch.optim.AdamW (float32 tensors, one .step() per entry of grads).
#   "clip": {"grads": [[..]..], "max_norm": f} -> {"total_norm": f, "grads": [[..]..]} with torch.nn.utils.clip_grad_norm_.
#   "schedule": {"kind": "cosine"|"linear"|"constant", "warmup": n, "total": n, "min_ratio": f, "steps": n}
#             -> {"values": [lr_lambda(s) for s in range(steps)]}, the lambdas copied from transformers/optimization.py
#             (v4.46: _get_cosine_schedule_with_warmup_lr_lambda, _get_cosine_with_min_lr_schedule_with_warmup_lr_lambda,
#             _get_linear_schedule_with_warmup_lr_lambda, _get_constant_schedule_with_warmup_lr_lambda), driven through
#             torch.optim.lr_scheduler.LambdaLR to read the lr each optimizer step runs at.
import json
import math
import sys
from functools import partial

import torch


def _get_cosine_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps, num_training_steps, num_cycles):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))


def _get_cosine_with_min_lr_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps, num_training_steps, num_cycles, min_lr_rate=0.0):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
    factor = factor * (1 - min_lr_rate) + min_lr_rate
    return max(0, factor)


def _get_linear_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps, num_training_steps):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))


def _get_constant_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1.0, num_warmup_steps))
    return 1.0


def adamw(req):
    params = [torch.tensor(p, dtype=torch.float32, requires_grad=True) for p in req["params"]]
    groups = [{"params": [params[i] for i in g["params"]], "lr": g["lr"], "weight_decay": g["weight_decay"]} for g in req["groups"]]
    opt = torch.optim.AdamW(groups, betas=tuple(req["betas"]), eps=req["eps"])
    for step in req["grads"]:
        for p, g in zip(params, step):
            p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
    return {"params": [p.detach().double().tolist() for p in params]}


def clip(req):
    grads = [torch.tensor(g, dtype=torch.float32) for g in req["grads"]]
    params = []
    for g in grads:
        p = torch.zeros_like(g, requires_grad=True)
        p.grad = g.clone()
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, req["max_norm"])
    return {"total_norm": float(total), "grads": [p.grad.double().tolist() for p in params]}


def schedule(req):
    w, t, kind = req["warmup"], req["total"], req["kind"]
    if kind == "cosine" and req.get("min_ratio", 0) == 0:
        fn = partial(_get_cosine_schedule_with_warmup_lr_lambda, num_warmup_steps=w, num_training_steps=t, num_cycles=0.5)
    elif kind == "cosine":
        fn = partial(_get_cosine_with_min_lr_schedule_with_warmup_lr_lambda, num_warmup_steps=w, num_training_steps=t,
                     num_cycles=0.5, min_lr_rate=req["min_ratio"])
    elif kind == "linear":
        fn = partial(_get_linear_schedule_with_warmup_lr_lambda, num_warmup_steps=w, num_training_steps=t)
    else:
        fn = partial(_get_constant_schedule_with_warmup_lr_lambda, num_warmup_steps=w)
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, fn)
    values = []
    for _ in range(req["steps"]):
        values.append(opt.param_groups[0]["lr"])  # the lr this optimizer step runs at
        opt.step()
        sched.step()
    return {"values": values}


def main():
    with open(sys.argv[1]) as f:
        req = json.load(f)
    out = {"adamw": adamw, "clip": clip, "schedule": schedule}[req["mode"]](req)
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
