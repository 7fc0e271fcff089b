#!/usr/bin/env bash
# The default model's quantization table (issue "Quantization people actually use", item 7): for F32 and each recipe,
# RTN and GPTQ, the decoder's size, caption perplexity and CIDEr-D on the held-out scenes, latency per image and peak
# memory (`furnace eval --compare`). GPTQ calibrates on TRAINING scenes (captions.jsonl), never on eval.jsonl.
# Usage: scripts/quant-table.sh SCENES_DIR OUT [N_SCENES] [MODEL_DIR]
#   SCENES_DIR: `furnace data build scenes --out DIR --limit 10000 --seed 1 --objects 100` (the recipe's build)
set -euo pipefail
scenes=$1 out=$2 n=${3:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
model=${4:-$root/models/furnace-captioner-tiny}
furnace=${FURNACE:-$root/furnace}
resnet=${RESNET:-$root/src/Furnace.Cli/bin/Release/net10.0/models/resnet18}
mkdir -p "$out"
eval_set=$scenes/eval.jsonl
calib=$out/calibration.jsonl
head -n 256 "$scenes/captions.jsonl" | sed "s#\"image\": *\"\([^/\"][^\"]*\)\"#\"image\":\"$scenes/\1\"#" > "$calib"
variants=(F32:rtn Q8_0:rtn Q6_K:rtn Q5_K_M:rtn Q4_K_M:rtn Q4_0:rtn Q4_0:gptq Q3_K_M:rtn Q3_K_M:gptq Q2_K:rtn Q2_K:gptq)
echo "| decoder | method | file MB | caption PPL (held-out) | PPL gap to F32 |" > "$out/ppl.md"
echo "|---|---|---:|---:|---:|" >> "$out/ppl.md"
f32ppl=""
reports=()
for v in "${variants[@]}"; do
  type=${v%%:*} method=${v##*:} name=${v/:/-}
  gguf=$out/decoder.$name.gguf
  if [ "$method" = gptq ]; then
    "$furnace" quantize --in "$model" --out "$gguf" --type "$type" --method gptq --calibration "$calib" --calib-samples 256 --force >/dev/null
  else
    "$furnace" quantize --in "$model" --out "$gguf" --type "$type" --force >/dev/null
  fi
  ppl=$("$furnace" perplexity --model "$gguf" --vision "$resnet" --projector "$model/model.safetensors" --data "$eval_set" --limit "$n" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ppl"])')
  [ -z "$f32ppl" ] && f32ppl=$ppl
  mb=$(python3 -c "import os; print(f'{os.path.getsize(\"$gguf\")/1048576:.2f}')")
  gap=$(python3 -c "print(f'{$ppl - $f32ppl:.4f}')")
  echo "| $type | $method | $mb | $(python3 -c "print(f'{$ppl:.4f}')") | $gap |" | tee -a "$out/ppl.md"
  rm -rf "$out/eval-$name"
  "$furnace" eval --model "$gguf" --vision "$resnet" --projector "$model/model.safetensors" --data "$eval_set" --limit "$n" \
    --max-tokens 48 -t 2 --out "$out/eval-$name" --variant "$type $method" >/dev/null
  reports+=("$out/eval-$name/report.json")
done
"$furnace" eval --compare "${reports[@]}" | tee "$out/eval-table.md"
