#!/usr/bin/env bash
# Data-parallel training throughput on this machine: `furnace train` (a projector + LoRA stage on the embedded
# furnace-captioner-tiny: ResNet18 grid features -> mlp2x_gelu -> 5 M-parameter Llama) with 1 process and with 2 MPI
# ranks, 1 kernel thread per rank (and 1 process with 2 threads, the same cores), on random-noise images with random
# captions. Prints global samples/s (median over the steps after the first epoch, when the frozen vision features
# are cached), the scaling efficiency, and the prediction of docs/scaling.md's step-time model from the measured
# single-rank step and the measured gradient-sum time (`furnace mpi-check`) at this gradient size.
#   bash bench/run-distributed.sh [STEPS=16] [BATCH=8]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${STEPS:-16}
batch=${BATCH:-8}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
dotnet build src/Furnace.Cli -c Release -nologo -v q >/dev/null
cli=$PWD/src/Furnace.Cli/bin/Release/net10.0/Furnace.Cli.dll
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$work" "$batch" <<'PY'
import json, random, sys
from PIL import Image
work, batch = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
words = "a red blue green small large circle square dog cat on the left right of near".split()
with open(f"{work}/captions.jsonl", "w") as f:
    for i in range(4 * batch):
        img = Image.effect_noise((96, 96), 40 + i).convert("RGB")
        img.save(f"{work}/{i}.png")
        f.write(json.dumps({"image": f"{i}.png", "captions": [" ".join(rng.choice(words) for _ in range(8))]}) + "\n")
PY
cat > "$work/train.json" <<JSON
{"model": {"llava": "$PWD/models/furnace-captioner-tiny"},
 "data": {"train": "captions.jsonl"},
 "stages": [{"name": "tune", "train": ["projector", "lora"], "steps": $steps,
             "lora": {"r": 16, "alpha": 32, "dropout": 0, "target_modules": "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"} }],
 "batch": $batch, "lr": 0.0002, "sample_every": 0, "checkpoint_every": 0}
JSON

# median global samples/s and step seconds over the steps after the first epoch
stats() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"type":"train"' in l]
rows = [r for r in rows if r["epoch"] > 1.0 + 1e-9]
print(f'{statistics.median(r["samples_per_s"] for r in rows):.2f} {statistics.median(r["samples"] / r["samples_per_s"] for r in rows):.4f} {sys.argv[2]}')
PY
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$cli" train --config "$work/train.json" --out "$work/np1" --threads 1 2>"$work/np1.log" >/dev/null
dotnet "$cli" train --config "$work/train.json" --out "$work/np1t2" --threads 2 2>/dev/null >/dev/null
mpirun --oversubscribe --bind-to none -np 2 dotnet "$cli" train --config "$work/train.json" --out "$work/np2" --threads 1 2>/dev/null >/dev/null
params=$(grep -oE '\(([0-9,]+) parameters' "$work/np1.log" | head -1 | tr -dc '0-9')
grad_bytes=$((params * 4))
# the gradient sum at this size, 2 ranks (ordered reduction, median)
# (the first measured size at or above the gradient's, its time scaled down to the gradient's bytes)
mb=1
while (( mb * 1048576 < grad_bytes )); do mb=$((mb * 4)); done
sum_us=$(mpirun --oversubscribe --bind-to none -np 2 dotnet "$cli" mpi-check --max-mb "$mb" 2>/dev/null | awk -F'|' -v b="$grad_bytes" '$2 ~ /ordered/ && $3+0 >= b {print $4 * b / $3; exit}')
read -r s1 t1 _ <<<"$(stats "$work/np1/tune/metrics.jsonl" np1)"
read -r s1t2 _ _ <<<"$(stats "$work/np1t2/tune/metrics.jsonl" np1t2)"
read -r s2 t2 _ <<<"$(stats "$work/np2/tune/metrics.jsonl" np2)"
/usr/bin/python3 - "$s1" "$t1" "$s1t2" "$s2" "$t2" "$params" "$sum_us" "$batch" <<'PY'
import sys
s1, t1, s1t2, s2, t2, params, sum_us, batch = (float(x) for x in sys.argv[1:])
pred_t2 = t1 / 2 + sum_us / 1e6          # compute halves, plus one gradient sum (2 ranks)
print(f"| setup | samples/s | step s | efficiency vs 1 rank x 1 thread |\n|---|---:|---:|---:|")
print(f"| 1 process, 1 thread | {s1:.2f} | {t1:.3f} | 1.00 |")
print(f"| 1 process, 2 threads | {s1t2:.2f} | {batch / s1t2:.3f} | {s1t2 / (2 * s1):.2f} |")
print(f"| 2 MPI ranks x 1 thread | {s2:.2f} | {t2:.3f} | {s2 / (2 * s1):.2f} |")
print(f"| model: t1/2 + gradient sum ({params:.0f} params, {params * 4 / 1e6:.1f} MB, {sum_us:.0f} us) | {batch / pred_t2:.2f} | {pred_t2:.3f} | {t1 / (2 * pred_t2):.2f} |")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
