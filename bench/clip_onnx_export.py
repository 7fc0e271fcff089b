#!/usr/bin/python3
# Random-weight CLIP vision checkpoints and their ONNX exports, for the side-by-side vision benchmark
# (bench/run-vision.sh): the same weights for Furnace (the Hugging Face directory) and ONNX Runtime (model.onnx).
#   clip_onnx_export.py --shape b32|l14-336|siglip-l16-384|tiny --out DIR [--seed 1]
# DIR gets config.json (CLIPVisionModelWithProjection), model.safetensors (float32) and model.onnx: image_embeds =
# visual_projection(post_layernorm(CLS of the last layer)) of pixel_values (batch, 3, S, S), batch dynamic — what
# `furnace bench vision --model DIR` times. The graph is traced (torch.onnx.export, opset 17) from the PyTorch
# reference the CLIP tests use (tests/Furnace.Tests/Oracles/clip_reference.py, vision()), run in float32 on the
# weights read back from model.safetensors by that reference's own reader, so the export holds exactly the file's
# weights.
# Shapes: ViT-B/32 @224 and ViT-L/14 @336 (OpenAI CLIP); "siglip-l16-384" is SigLIP-L/16 @384's tower shape
# (width 1024, 24 layers, 16 heads, MLP 4096, patch 16, tanh GELU) in CLIP's architecture — one extra CLS position
# (577 instead of 576) and CLIP's pre-norm, projection and pooling instead of SigLIP's attention-pooling head, whose
# cost is under 1 % of the tower's.
import argparse
import json
import math
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Furnace.Tests", "Oracles"))
import clip_reference as ref  # noqa: E402

SHAPES = {
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, image_size=32, patch_size=8, hidden_act="quick_gelu", projection_dim=32),
    "b32": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, image_size=224, patch_size=32, hidden_act="quick_gelu", projection_dim=512),
    "l14-336": dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16, image_size=336, patch_size=14, hidden_act="quick_gelu", projection_dim=768),
    "siglip-l16-384": dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16, image_size=384, patch_size=16, hidden_act="gelu_pytorch_tanh", projection_dim=1024),
}


def tensors(cfg):
    d, f, p = cfg["hidden_size"], cfg["intermediate_size"], cfg["patch_size"]
    positions = (cfg["image_size"] // p) ** 2 + 1
    yield "vision_model.embeddings.class_embedding", [d]
    yield "vision_model.embeddings.patch_embedding.weight", [d, 3, p, p]
    yield "vision_model.embeddings.position_embedding.weight", [positions, d]
    yield "vision_model.pre_layrnorm.weight", [d]
    yield "vision_model.pre_layrnorm.bias", [d]
    for i in range(cfg["num_hidden_layers"]):
        q = f"vision_model.encoder.layers.{i}."
        for proj in ["q_proj", "k_proj", "v_proj", "out_proj"]:
            yield q + f"self_attn.{proj}.weight", [d, d]
            yield q + f"self_attn.{proj}.bias", [d]
        yield q + "layer_norm1.weight", [d]
        yield q + "layer_norm1.bias", [d]
        yield q + "mlp.fc1.weight", [f, d]
        yield q + "mlp.fc1.bias", [f]
        yield q + "mlp.fc2.weight", [d, f]
        yield q + "mlp.fc2.bias", [d]
        yield q + "layer_norm2.weight", [d]
        yield q + "layer_norm2.bias", [d]
    yield "vision_model.post_layernorm.weight", [d]
    yield "vision_model.post_layernorm.bias", [d]
    yield "visual_projection.weight", [cfg["projection_dim"], d]


def random_weights(cfg, seed):
    """Norm weights near 1, biases small, matrices U(-a, a) with a = 0.5·sqrt(3/fan_in) (RandomClip's scales)."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in tensors(cfg):
        u = torch.rand(shape, generator=gen) * 2 - 1
        if "norm" in name and name.endswith(".weight"):
            t = 1 + 0.2 * u
        elif name.endswith(".bias"):
            t = 0.1 * u
        elif len(shape) >= 2:
            t = u * 0.5 * math.sqrt(3.0 / math.prod(shape[1:]))
        else:
            t = u
        out[name] = t.float().contiguous()
    return out


def write_safetensors(path, weights):
    header, offset, blobs = {}, 0, []
    for name, t in weights.items():
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


class Vision(torch.nn.Module):
    """clip_reference.vision over registered buffers (so the export stores them as initializers)."""

    def __init__(self, weights, cfg):
        super().__init__()
        self.cfg = cfg
        self.names = list(weights)
        for i, name in enumerate(self.names):
            self.register_buffer(f"w{i}", weights[name])

    def forward(self, pixel_values):
        W = {name: getattr(self, f"w{i}") for i, name in enumerate(self.names)}
        return ref.vision(W, self.cfg, pixel_values)[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    cfg = dict(SHAPES[a.shape], num_channels=3, layer_norm_eps=1e-5)
    os.makedirs(a.out, exist_ok=True)
    config = dict(architectures=["CLIPVisionModelWithProjection"], model_type="clip_vision_model", torch_dtype="float32", **cfg)
    with open(os.path.join(a.out, "config.json.tmp"), "w") as f:
        json.dump(config, f, indent=2)
    os.replace(os.path.join(a.out, "config.json.tmp"), os.path.join(a.out, "config.json"))
    st = os.path.join(a.out, "model.safetensors")
    write_safetensors(st, random_weights(cfg, a.seed))

    weights = {k: v.float() for k, v in ref.load_safetensors(st).items()}  # read back by the reference's reader
    # the reference's layer_norm takes its normalized shape from x.shape[-1], which tracing makes a graph value that
    # the ONNX exporter refuses; the same function with the width as a constant
    d = cfg["hidden_size"]
    ref.layer_norm = lambda x, W, prefix, eps: torch.nn.functional.layer_norm(x, (d,), W[prefix + ".weight"], W[prefix + ".bias"], eps)
    model = Vision(weights, cfg).eval()
    s = cfg["image_size"]
    example = torch.randn(1, 3, s, s, generator=torch.Generator().manual_seed(a.seed + 1))
    onnx = os.path.join(a.out, "model.onnx")
    with torch.no_grad():
        expected = model(example)
        torch.onnx.export(model, (example,), onnx + ".tmp", input_names=["pixel_values"], output_names=["image_embeds"],
                          dynamic_axes={"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}}, opset_version=17,
                          do_constant_folding=True)
    os.replace(onnx + ".tmp", onnx)
    # the example input (raw little-endian f32, (1, 3, S, S)) and its float32 embedding, for the harness's check that
    # Furnace (the directory) and ONNX Runtime (model.onnx) compute the same function of the same weights
    example.numpy().astype("<f4").tofile(os.path.join(a.out, "example.f32"))
    with open(os.path.join(a.out, "example.json"), "w") as f:
        json.dump({"pixels": "example.f32", "image_embeds": expected[0].tolist()}, f)
    print(json.dumps({"shape": a.shape, "dir": a.out, "onnx_mb": round(os.path.getsize(onnx) / 1048576, 1)}))


if __name__ == "__main__":
    main()
