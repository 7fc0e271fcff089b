#!/usr/bin/env bash
# Side-by-side ViT image-encode benchmark: `furnace bench vision` against ONNX Runtime (the torch.onnx export of the
# same random weights, bench/clip_onnx_export.py, run through its own InferenceSession) and llama.cpp's mtmd clip
# encoder (LLamaSharp 0.30.0 CPU backend, same mmproj file), shapes ViT-B/32 @224, ViT-L/14 @336 and SigLIP-L/16
# @384, 2 threads, engines alternating process by process, each process 1 untimed + --runs timed encodes on an idle
# machine. Prints markdown tables (copy them into bench/README.md); every child's JSON line goes to
# bench/results/vision-*.jsonl. Needs Debian's python3-torch for the export. Run it on an otherwise idle machine.
# Smoke test:  bash bench/run-vision.sh --shapes tiny --runs 1 --rounds 1 --idle-wait 0
set -euo pipefail
cd "$(dirname "$0")/.."
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "PyTorch is missing for /usr/bin/python3 (apt-get install python3-torch): the ONNX export needs it" >&2; exit 1; }
dotnet build src/Furnace.Cli -c Release -nologo -v q >/dev/null
dotnet build bench/Furnace.Bench.Vision -c Release -nologo -v q >/dev/null
mkdir -p bench/results
jsonl="bench/results/vision-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
echo "JSON lines: $jsonl" >&2
exec bench/Furnace.Bench.Vision/bin/Release/net10.0/Furnace.Bench.Vision compare \
  --furnace src/Furnace.Cli/bin/Release/net10.0/furnace --jsonl "$jsonl" "$@"
