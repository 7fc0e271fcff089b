#!/usr/bin/env bash
# Measures the default model as its model card reports it (docs/training.md, "The default model recipe"):
#   held-out scenes: F32, Q8_0 and Q4_0 decoders, and the model without its LoRA stage -> `furnace eval --compare`
#   COCO (evaluation only): the model next to the constant-caption and nearest-neighbour baselines
#   held-out scenes: object recall, background and relation (scripts/scene-caption-parts.py)
# Usage: scripts/eval-default-model.sh MODEL_DIR NO_LORA_DIR DATA_DIR TRAIN_JSON COCO_CAPTIONS OUT [N_SCENES]
set -euo pipefail
model=$1 nolora=$2 data=$3 train=$4 coco=$5 out=$6 n=${7:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
furnace=${FURNACE:-$root/furnace}
# the ResNet18 the build copies next to the binary (the same files the model's onnx_resnet18 vision_config uses)
resnet=${RESNET:-$root/src/Furnace.Cli/bin/Release/net10.0/models/resnet18}
mkdir -p "$out"
scenes=$data/scenes/eval.jsonl
for t in q8_0 q4_0; do "$furnace" convert --from "$model" --to "$out/decoder.$t.gguf" --type "$t"; done
run() { local name=$1; shift; rm -rf "$out/$name"; "$furnace" eval "$@" --max-tokens 48 -t 2 --out "$out/$name" | tail -n 14; }
run scenes-f32 --model "$model" --data "$scenes" --limit "$n" --phrases --variant "F32 (projector + LoRA)"
run scenes-q8_0 --model "$out/decoder.q8_0.gguf" --vision "$resnet" --projector "$model/model.safetensors" --data "$scenes" --limit "$n" --phrases --variant "Q8_0 decoder"
run scenes-q4_0 --model "$out/decoder.q4_0.gguf" --vision "$resnet" --projector "$model/model.safetensors" --data "$scenes" --limit "$n" --phrases --variant "Q4_0 decoder"
run scenes-nolora --model "$nolora" --data "$scenes" --limit "$n" --phrases --variant "F32 without the LoRA stage"
run scenes-constant --baseline constant --train "$train" --data "$scenes" --limit "$n" --phrases
run scenes-nearest --baseline nearest --train "$train" --data "$scenes" --limit "$n" --phrases
run coco-f32 --model "$model" --data "$coco" --variant "default model (F32)"
run coco-constant --baseline constant --train "$train" --data "$coco"
run coco-nearest --baseline nearest --train "$train" --data "$coco"
"$furnace" eval --compare "$out"/scenes-{f32,q8_0,q4_0,nolora,constant,nearest}/report.json | tee "$out/scenes-table.md"
"$furnace" eval --compare "$out"/coco-{f32,constant,nearest}/report.json | tee "$out/coco-table.md"
# objects, background and relation of the scene captions (what --phrases does not score)
python3 "$root/scripts/scene-caption-parts.py" "$scenes" "$out"/scenes-{f32,nolora,constant,nearest} | tee "$out/scenes-parts.md"
