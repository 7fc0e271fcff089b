#!/usr/bin/env bash
# Load test of `furnace serve` with continuous batching: a random-weight LLaVA (CLIP ViT-B/32 + mlp2x_gelu +
# bench-768 f32 decoder) on loopback, 8 concurrent streamed image requests for 30 s, --max-batch 1 vs 8, every
# answer checked against its own request's greedy output. Prints a markdown table (copy it into bench/README.md).
# `bench/run-serve.sh --quick` is a seconds-long smoke run on the tiny test LLaVA. Run the full one on an otherwise
# idle machine: the server and the clients share the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Furnace.Cli -c Release -nologo -v q >/dev/null
dotnet build bench/Furnace.Bench.Serve -c Release -nologo -v q >/dev/null
exec bench/Furnace.Bench.Serve/bin/Release/net10.0/Furnace.Bench.Serve \
  --furnace src/Furnace.Cli/bin/Release/net10.0/furnace "$@"
