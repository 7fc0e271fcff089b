#!/usr/bin/env python3
"""Scores the parts of scene captions that `furnace eval --phrases` does not: for each eval run directory
(holding predictions.json), against the first reference of each image in the scenes eval set:
  object recall      share of the reference's objects named anywhere in the prediction
  all objects        the prediction names exactly the reference's objects, in the same order
  background         the background phrase ("on a plain blue background", "against a cloudy sky") is exact
  relation           the same relation: "to the left of", "above" or a single group
Object names are the 100 first of SceneVocabulary.Common (the default model's scenes, --objects 100); a plural
counts as its singular. Usage: scripts/scene-caption-parts.py SCENES_EVAL_JSONL RUN_DIR [RUN_DIR ...]"""
import json, os, re, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
source = open(os.path.join(root, "src/Furnace/Data/Builders/SceneVocabulary.cs"), encoding="utf-8").read()
common = re.findall(r'"([^"]+)"', source.split("Common =")[1].split("];")[0])[:100]

def objects(caption):
    head = re.split(r", | on a | against ", caption)[0]
    found = []
    for part in re.split(r" to the left of | above | to the right of | below | in the | at the ", head):
        part = re.sub(r"^(a|an|two|three|four) ", "", part)
        # the longest name whose stem (last letter dropped, so plurals match) starts the phrase
        names = [n for n in common if part == n or part.startswith(n[:-1])]
        if names: found.append(max(names, key=len))
    return found

def background(caption):
    m = re.search(r"(on a .*|against .*)$", caption)
    return m.group(1) if m else ""

def relation(caption):
    return next((r for r in (" to the left of ", " above ") if r in caption), "alone")

if len(sys.argv) < 3: sys.exit(__doc__)
refs = {}
for line in open(sys.argv[1], encoding="utf-8"):
    item = json.loads(line)
    refs[item["id"]] = item["captions"][0]
print("| run | object recall | all objects | background | relation |\n|---|---:|---:|---:|---:|")
for run in sys.argv[2:]:
    preds = json.load(open(os.path.join(run, "predictions.json"), encoding="utf-8"))
    n = len(preds)
    recall = exact = bg = rel = 0.0
    for p in preds:
        ref, cap = refs[str(p["image_id"])], p["caption"]
        ro, po = objects(ref), objects(cap)
        recall += len(set(ro) & set(po)) / max(1, len(set(ro)))
        exact += ro == po
        bg += background(ref) == background(cap)
        rel += relation(ref) == relation(cap)
    print(f"| {run} | {recall / n:.3f} | {exact / n:.3f} | {bg / n:.3f} | {rel / n:.3f} |")
