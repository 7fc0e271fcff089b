#!/usr/bin/env bash
# Side-by-side decoder benchmark: Furnace vs llama.cpp (LLamaSharp 0.30.0 CPU backend) on the same random-weight
# GGUF files (shapes bench-768 and tinyllama-1.1b in f32/q8_0/q4_0), 2 threads, prompt 128, gen 64,
# interleaved child processes, medians. Prints a markdown table (copy it into bench/README.md).
# Run it on an otherwise idle machine: both engines spin their threads, and load from other processes skews ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/Furnace.Cli -c Release -nologo -v q >/dev/null
dotnet build bench/Furnace.Bench.Llm -c Release -nologo -v q >/dev/null
exec bench/Furnace.Bench.Llm/bin/Release/net10.0/Furnace.Bench.Llm compare \
  --furnace src/Furnace.Cli/bin/Release/net10.0/furnace "$@"
