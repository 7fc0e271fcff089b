#!/usr/bin/env bash
# Side-by-side training-step benchmark: `furnace bench train` (f32) against PyTorch (Debian's python3-torch, fp32 and
# bf16 autocast) running the same step on the same shape (bench/torch_train_step.py), PyTorch on OpenBLAS's SkylakeX
# kernels (bench/torch-env.sh: downloaded and unpacked into a cache folder, never installed). Engines alternate
# process by process; each process runs 2 untimed + --steps timed steps, waiting for an idle machine before each.
# Prints a markdown table (copy it into bench/README.md); every child's JSON line goes to bench/results/train-*.jsonl.
# Run it on an otherwise idle machine.   Smoke test:  bash bench/run-train.sh --shapes tiny --modes full --steps 1 --rounds 1 --idle-wait 0
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/torch-env.sh
dotnet build src/Furnace.Cli -c Release -nologo -v q >/dev/null
dotnet build bench/Furnace.Bench.Training -c Release -nologo -v q >/dev/null
mkdir -p bench/results
jsonl="bench/results/train-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
echo "JSON lines: $jsonl" >&2
exec bench/Furnace.Bench.Training/bin/Release/net10.0/Furnace.Bench.Training compare \
  --furnace src/Furnace.Cli/bin/Release/net10.0/furnace --jsonl "$jsonl" "$@"
