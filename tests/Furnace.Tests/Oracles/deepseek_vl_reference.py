#!/usr/bin/python3
# Reference DeepSeek-VL (1.3B layout) in plain PyTorch, written from DeepSeek's public code (deepseek-ai/DeepSeek-VL @
# main): utils/conversation.py (template "deepseek"), models/processing_vlm.py (VLChatProcessor: system prompt,
# apply_sft_template_for_multi_turn_prompts, tokenizer.encode with BOS, add_image_token expanding each image_tag into
# num_image_tokens image ids), models/image_processing_vlm.py (VLMImageProcessor, via pil_oracle.deepseek_vl_preprocess),
# models/siglip_vit.py (create_siglip_vit: SigLIP_MODEL_CONFIG sizes, blocks truncated by select_layer, timm
# VisionTransformer.forward_features = patch_embed + pos_embed, blocks, final norm; LayerNorm eps 1e-6, erf GELU),
# models/clip_encoder.py (CLIPVisionTower: optional Normalize(pixel_mean, pixel_std), select_feature "same"),
# models/projector.py (MlpProjector mlp_gelu / linear) and models/modeling_vlm.py (prepare_inputs_embeds), the decoder
# as LlamaForCausalLM (llava_reference.llama_last_logits). transformers, timm and tokenizers are not used: the test
# tokenizer is byte-level without merges, so encoding is: special tokens matched first, every other byte its token.
# The 7B hybrid (vision_config.cls HybridVisionTower) runs sam_reference.py's SAM tower and hybrid aligner with the
# SigLIP tower above on the antialiased low-resolution view (hybrid_features). Vision, aligner and decoder run in float64. Request JSON:
#   {"model": dir, "images": [{"raw": rgb file, "width": w, "height": h}], "user": text, "system": text or null,
#    "max_tokens": k, "pixels_out": path}
# Result: "prompt" (sft_format), "input_ids", "features" (images * num_image_tokens, n_embed) and "tokens" (greedy,
# recomputed over the whole sequence each step, end-of-sequence ignored); pixels_out gets float32 (images, 3, S, S).
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_reference import load_safetensors  # noqa: E402
from llava_reference import llama_last_logits  # noqa: E402
from pil_oracle import deepseek_vl_preprocess  # noqa: E402
from sam_reference import aligner as hybrid_aligner, sam_config, sam_tower  # noqa: E402

SYSTEM_PROMPT = (
    "You are a helpful language and vision assistant. "
    "You are able to understand the visual content that the user provides, "
    "and assist the user with a variety of tasks using natural language."
)

SIGLIP_MODEL_CONFIG = {
    "siglip_so400m_patch14_384": dict(image_size=336, patch_size=14, width=1152, layers=27, heads=16, mlp_ratio=3.7362),
    "siglip_so400m_patch14_224": dict(image_size=224, patch_size=14, width=1152, layers=27, heads=16, mlp_ratio=3.7362),
    "siglip_large_patch16_384": dict(image_size=384, patch_size=16, width=1024, layers=24, heads=16, mlp_ratio=4),
}


def deepseek_prompt(system, messages):
    # Conversation.get_prompt, SeparatorStyle.DeepSeek, sep "\n\n", sep2 "<｜end▁of▁sentence｜>"
    seps = ["\n\n", "<｜end▁of▁sentence｜>"]
    ret = "" if system == "" or system is None else system + seps[0]
    for i, (role, message) in enumerate(messages):
        if message:
            ret += role + ": " + message + seps[i % 2]
        else:
            ret += role + ":"
    return ret


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def encode(model, text):
    tok = json.load(open(model + "/tokenizer.json", encoding="utf-8"))
    tcfg = json.load(open(model + "/tokenizer_config.json", encoding="utf-8"))
    assert not tok["model"]["merges"], "the reference tokenizes byte-level vocabularies without merges only"
    specials = {t["content"]: t["id"] for t in tok["added_tokens"]}
    vocab, b2u = tok["model"]["vocab"], bytes_to_unicode()
    ids = [specials[tcfg["bos_token"]]] if tcfg.get("add_bos_token", True) else []
    i = 0
    while i < len(text):
        hit = min(((text.find(s, i), s) for s in specials if text.find(s, i) >= 0), default=None)
        end = hit[0] if hit else len(text)
        ids += [vocab[b2u[b]] for b in text[i:end].encode("utf-8")]
        if not hit:
            break
        ids.append(specials[hit[1]])
        i = end + len(hit[1])
    return ids


def siglip_tower(W, params, pixels, t="vision_model.vision_tower."):
    cfg = dict(SIGLIP_MODEL_CONFIG.get(params.get("model_name"), {}))
    cfg.update({k: params[k] for k in ("width", "layers", "heads", "patch_size", "mlp_ratio") if k in params})
    select_layer, L = params.get("select_layer", -2), cfg["layers"]
    layers = min(L, L + select_layer + 1) if select_layer <= 0 else min(L, select_layer)
    d, H, p = cfg["width"], cfg["heads"], cfg["patch_size"]
    hd = d // H
    if params.get("pixel_mean") is not None:
        m = torch.tensor(params["pixel_mean"], dtype=torch.float64).view(1, 3, 1, 1)
        s = torch.tensor(params["pixel_std"], dtype=torch.float64).view(1, 3, 1, 1)
        pixels = (pixels - m) / s
    x = F.conv2d(pixels, W[t + "patch_embed.proj.weight"], W[t + "patch_embed.proj.bias"], stride=p).flatten(2).transpose(1, 2)
    x = x + W[t + "pos_embed"]
    B, N, _ = x.shape
    assert W[t + "blocks.0.mlp.fc1.weight"].shape[0] == int(d * cfg["mlp_ratio"])

    def ln(v, name):
        return F.layer_norm(v, (d,), W[name + ".weight"], W[name + ".bias"], eps=1e-6)

    for i in range(layers):
        b = f"{t}blocks.{i}."
        h = ln(x, b + "norm1")
        qkv = F.linear(h, W[b + "attn.qkv.weight"], W[b + "attn.qkv.bias"]).reshape(B, N, 3, H, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        a = torch.softmax((q * hd ** -0.5) @ k.transpose(-2, -1), dim=-1) @ v
        x = x + F.linear(a.transpose(1, 2).reshape(B, N, d), W[b + "attn.proj.weight"], W[b + "attn.proj.bias"])
        h = F.gelu(F.linear(ln(x, b + "norm2"), W[b + "mlp.fc1.weight"], W[b + "mlp.fc1.bias"]))
        x = x + F.linear(h, W[b + "mlp.fc2.weight"], W[b + "mlp.fc2.bias"])
    return ln(x, t + "norm")


def aligner(W, params, x):
    if params["projector_type"] == "linear":
        return F.linear(x, W["aligner.layers.weight"], W["aligner.layers.bias"])
    assert params["projector_type"] == "mlp_gelu"
    x = F.linear(x, W["aligner.layers.0.weight"], W["aligner.layers.0.bias"])
    for j in range(1, params.get("depth", 1)):
        x = F.linear(F.gelu(x), W[f"aligner.layers.{2 * j}.weight"], W[f"aligner.layers.{2 * j}.bias"])
    return x


def hybrid_features(W, vparams, aparams, pixels):
    # clip_encoder.py HybridVisionTower.forward: the SAM tower on the processor's tensor (it normalises itself), the
    # SigLIP tower on Resize(low_res_size, antialias=True) of the same tensor (its own image_norm), then projector.py's
    # low_high_hybrid_split_mlp_gelu on (high, low)
    hp, lp = vparams["high_res_cfg"], vparams["low_res_cfg"]
    hi = "vision_model.vision_tower_high.vision_tower."
    Wh = {k[len(hi):]: v for k, v in W.items() if k.startswith(hi)}
    A = {k[len("aligner."):]: v for k, v in W.items() if k.startswith("aligner.")}
    out = []
    for img in pixels:
        _, high = sam_tower(img, Wh, sam_config(hp), hp)
        L = lp["image_size"]
        low_px = F.interpolate(img[None], size=(L, L), mode="bilinear", align_corners=False, antialias=True)
        low = siglip_tower(W, lp, low_px, "vision_model.vision_tower_low.vision_tower.")[0]
        out.append(hybrid_aligner(high, low, A, aparams))
    return torch.stack(out)


def main():
    req = json.load(open(sys.argv[1], encoding="utf-8"))
    model = req["model"]
    cfg = json.load(open(model + "/config.json"))
    proc = json.load(open(model + "/processor_config.json"))
    pre = json.load(open(model + "/preprocessor_config.json"))
    W = load_safetensors(model + "/model.safetensors")
    tc = cfg["language_config"]

    system = SYSTEM_PROMPT if req.get("system") is None else req["system"]
    prompt = deepseek_prompt(system, [("User", req["user"].strip()), ("Assistant", "")]).strip()
    ids = encode(model, prompt)
    image_id = json.load(open(model + "/tokenizer.json", encoding="utf-8"))["model"]["vocab"][proc["image_tag"]]
    expanded = []
    for t in ids:
        expanded += [image_id] * proc["num_image_tokens"] if t == image_id else [t]
    ids = expanded

    images = []
    for im in req["images"]:
        raw = open(im["raw"], "rb").read()
        images.append(deepseek_vl_preprocess(Image.frombytes("RGB", (im["width"], im["height"]), raw), pre))
    pixels = np.stack(images).astype(np.float32)
    pixels.tofile(req["pixels_out"])
    with torch.no_grad():
        px = torch.from_numpy(pixels).double()
        if "HybridVisionTower" in cfg["vision_config"]["cls"]:
            feats = hybrid_features(W, cfg["vision_config"]["params"], cfg["aligner_config"]["params"], px)
        else:
            feats = aligner(W, cfg["aligner_config"]["params"], siglip_tower(W, cfg["vision_config"]["params"], px))
        feats = feats.reshape(-1, feats.shape[-1])
        idt = torch.tensor(ids)
        mask = idt == image_id
        assert int(mask.sum()) == feats.shape[0], "image slots and feature rows differ"
        E = W["language_model.model.embed_tokens.weight"]
        x = E[idt].clone()
        x[mask] = feats
        tokens = []
        for _ in range(req["max_tokens"]):
            nxt = int(llama_last_logits(W, tc, x).argmax())
            tokens.append(nxt)
            x = torch.cat([x, E[nxt].unsqueeze(0)], dim=0)
    json.dump({"prompt": prompt, "input_ids": ids, "features": feats.tolist(), "tokens": tokens}, open(sys.argv[2], "w", encoding="utf-8"))


if __name__ == "__main__":
    main()
