#!/usr/bin/python3
# Reference for DeepSeek-VL2's processor and embedding assembly, written from deepseek-ai/DeepSeek-VL2 at ef9f91e
# (deepseek_vl2/models/processing_deepseek_vl_v2.py: select_best_resolution, tokenize_with_images,
# format_messages_v2; conversation.py: the "deepseek" template; modeling_deepseek_vl_v2.py: MlpProjector
# downsample_mlp_gelu and prepare_inputs_embeds with tile_tag "2D") in plain PyTorch + PIL — neither transformers
# nor einops is used: the tokenizer is a transcription of HF's byte-level BPE for word-level vocabularies (each
# pre-token is one vocabulary entry), einops' rearrange/repeat are written as view/permute/expand.
# Usage: deepseek_vl2_reference.py REQUEST.json RESULT.json; request "op" is one of
#   tiling  {sizes: [[w, h]...], candidates, image_size, patch_size, downsample_ratio}
#           -> results [{best: [w, h], tiles: [tw, th], tokens, tokens_single}] (tokens_single: cropping off)
#   pieces  {conversation, image_sizes, processor}          -> the byte-level pre-tokens of every text piece
#   prompt  {conversation, image_sizes, processor, tokenizer} -> input_ids, images_seq_mask, num_image_tokens,
#           images_spatial_crop
#   embeds  {model: dir, features: raw f32 (views, hw, C), input_ids, images_seq_mask, images_spatial_crop, out}
#           -> writes inputs_embeds (T, D) float32 to out (computed in float64)
#   forward {model: dir (config.json, processor_config.json, model.safetensors, tokenizer.json), images: [paths],
#           conversation, max_tokens, out} -> the whole model in float64: the SigLIP tower (siglip_vit.py's timm
#           VisionTransformer with ignore_head: patch conv + pos_embed, pre-norm blocks with LayerNorm eps 1e-6 and
#           tanh GELU, final norm), the projector, prepare_inputs_embeds, then the decoder of deepseek_reference.py
#           on language.*; result input_ids, images_seq_mask, tokens (greedy, recomputed each step, EOS ignored),
#           last_logits; the spliced image rows (n, D) float32 go to out. Images are opened as PIL does, with the
#           EXIF orientation applied as Furnace's decoder does (DeepSeek's load_pil_images does not apply it).
import json
import math
import os
import re
import sys

import numpy as np


def select_best_resolution(image_size, candidate_resolutions):
    original_width, original_height = image_size
    best_fit = None
    max_effective_resolution = 0
    min_wasted_resolution = float("inf")
    for width, height in candidate_resolutions:
        scale = min(width / original_width, height / original_height)
        downscaled_width, downscaled_height = int(original_width * scale), int(original_height * scale)
        effective_resolution = min(downscaled_width * downscaled_height, original_width * original_height)
        wasted_resolution = (width * height) - effective_resolution
        if effective_resolution > max_effective_resolution or (
                effective_resolution == max_effective_resolution and wasted_resolution < min_wasted_resolution):
            max_effective_resolution = effective_resolution
            min_wasted_resolution = wasted_resolution
            best_fit = (width, height)
    return best_fit


def image_token_count(image_size, patch_size, downsample_ratio, num_width_tiles, num_height_tiles):
    h = w = math.ceil((image_size // patch_size) / downsample_ratio)
    n = h * (w + 1) + 1
    return n + (num_height_tiles * h) * (num_width_tiles * w + 1)


def grid(size, proc, cropping):
    image_size = proc["candidate_resolutions"][0][0]
    if cropping:
        bw, bh = select_best_resolution(size, proc["candidate_resolutions"])
    else:
        bw, bh = image_size, image_size
    return bw, bh, bw // image_size, bh // image_size


def process_image(image, proc, cropping):
    """tokenize_with_images' pixel path: (views, 3, S, S) float32 and (tw, th)."""
    from PIL import ImageOps
    image_size = proc["candidate_resolutions"][0][0]
    mean = proc.get("image_mean", [0.5, 0.5, 0.5])
    std = proc.get("image_std", [0.5, 0.5, 0.5])
    normalize = proc.get("normalize", True)
    color = tuple(int(x * 255) for x in mean)
    bw, bh, tw, th = grid(image.size, proc, cropping)

    def to_tensor(im):  # torchvision ToTensor + Normalize, in float32
        a = np.asarray(im).astype(np.float32) / np.float32(255)
        if normalize:
            a = (a - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
        return a.transpose(2, 0, 1)

    views = [to_tensor(ImageOps.pad(image, (image_size, image_size), color=color))]
    local_view = ImageOps.pad(image, (bw, bh), color=color)
    for i in range(0, bh, image_size):
        for j in range(0, bw, image_size):
            views.append(to_tensor(local_view.crop((j, i, j + image_size, i + image_size))))
    return np.ascontiguousarray(np.stack(views).astype(np.float32)), (tw, th)


# ---- conversation.py, template "deepseek" (SeparatorStyle.DeepSeek) ----
ROLES = ("<|User|>", "<|Assistant|>")
SEPS = ("\n\n", "<｜end▁of▁sentence｜>")


def get_prompt(system_message, messages):
    ret = "" if system_message == "" else system_message + SEPS[0]
    for i, (role, message) in enumerate(messages):
        if message:
            ret += role + ": " + message + SEPS[i % 2]
        else:
            ret += role + ":"
    return ret


# ---- a byte-level BPE tokenizer.json (tokenizers' BPE without dropout, ByteLevel pre-tokenizer with its regex) ----
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_CHARS = bytes_to_unicode()
# GPT-2's ByteLevel regex with \p{L} -> [^\W\d_] and \p{N} -> \d (the test texts hold no other numerals)
GPT2 = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def split_added(text, added):
    """HF's added-token split: leftmost-longest matches of the added tokens' contents."""
    out, i, start = [], 0, 0
    while i < len(text):
        match = None
        for a in added:
            if text.startswith(a, i) and (match is None or len(a) > len(match)):
                match = a
        if match is None:
            i += 1
            continue
        if start < i:
            out.append((False, text[start:i]))
        out.append((True, match))
        i += len(match)
        start = i
    if start < len(text):
        out.append((False, text[start:]))
    return out


def pre_tokens(text, added):
    for special, part in split_added(text, added):
        if special:
            yield True, part
            continue
        for m in GPT2.findall(part):
            yield False, "".join(BYTE_CHARS[b] for b in m.encode("utf-8"))


class WordTokenizer:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        self.vocab = tj["model"]["vocab"]
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in tj["model"]["merges"]]
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.added = {t["content"]: t["id"] for t in tj["added_tokens"]}
        cfg_path = os.path.join(os.path.dirname(path), "tokenizer_config.json")
        with open(cfg_path, encoding="utf-8") as f:
            cfg = json.load(f)
        self.bos_id = self.added[cfg["bos_token"]]
        self.eos_id = self.added[cfg["eos_token"]]

    def bpe(self, piece):
        word = list(piece)
        while len(word) > 1:
            pairs = [(self.ranks.get((a, b), None), i) for i, (a, b) in enumerate(zip(word, word[1:]))]
            pairs = [(r, i) for r, i in pairs if r is not None]
            if not pairs:
                break
            rank = min(pairs)[0]
            out, i = [], 0
            while i < len(word):  # merge every occurrence of the best pair, left to right
                if i + 1 < len(word) and self.ranks.get((word[i], word[i + 1])) == rank:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = out
        return word

    def encode(self, text):  # tokenizer.encode(text, add_special_tokens=False)
        ids = []
        for special, piece in pre_tokens(text, list(self.added)):
            if special:
                ids.append(self.added[piece])
                continue
            for sym in self.bpe(piece):
                if sym not in self.vocab:
                    raise SystemExit(f"symbol {sym!r} is not in the fixture vocabulary")
                ids.append(self.vocab[sym])
        return ids


# ---- processing_deepseek_vl_v2.py: format_messages_v2 + tokenize_with_images, inference mode ----
def user_turn(content):
    return get_prompt("", [[ROLES[0], content], [ROLES[1], ""]])


def role_of(role):
    if role in ("user", ROLES[0]):
        return "user"
    if role in ("assistant", ROLES[1]):
        return "assistant"
    if role in ("system", "deepseekapi-sys"):
        return "system"
    raise SystemExit(f"unknown role {role}")


def text_pieces(req):
    proc = req["processor"]
    image_token = proc.get("image_token", "<image>")
    for m in req["conversation"]:
        content = str(m["content"]).strip()
        r = role_of(m["role"])
        if r == "user":
            yield from user_turn(content).split(image_token)
        else:
            yield content


def build_prompt(req, tok):
    proc = req["processor"]
    image_token = proc.get("image_token", "<image>")
    image_token_id = tok.added[image_token]
    image_size = proc["candidate_resolutions"][0][0]
    sizes = [tuple(s) for s in req["image_sizes"]]
    cropping = len(sizes) <= 2
    ids, mask, crops, counts = [tok.bos_id], [False], [], []
    image_index = 0
    for idx, m in enumerate(req["conversation"]):
        content = str(m["content"]).strip()
        r = role_of(m["role"])
        if r == "user":
            q = user_turn(content)
            n_images = q.count(image_token)
            splits = q.split(image_token)
            assert len(splits) == n_images + 1
            for text_sep, size in zip(splits, sizes[image_index:image_index + n_images]):
                t = tok.encode(text_sep)
                ids += t
                mask += [False] * len(t)
                _, _, tw, th = grid(size, proc, cropping)
                crops.append([tw, th])
                n = image_token_count(image_size, proc["patch_size"], proc["downsample_ratio"], tw, th)
                ids += [image_token_id] * n
                mask += [True] * n
                counts.append(n)
            image_index += n_images
            t = tok.encode(splits[-1])
            ids += t
            mask += [False] * len(t)
        elif r == "assistant":
            t = tok.encode(content) + [tok.eos_id]
            ids += t
            mask += [False] * len(t)
        else:
            assert idx == 0
            t = tok.encode(content)
            ids += t
            mask += [False] * len(t)
    assert ids[-1] == tok.eos_id
    return ids[:-1], mask[:-1], counts, crops


# ---- modeling_deepseek_vl_v2.py ----
def projector(W, pc, x):
    import torch
    import torch.nn.functional as F
    ratio = pc.get("downsample_ratio", 2)
    depth = pc.get("depth", 2)
    bs, hw, input_dim = x.shape
    h = w = int(hw ** 0.5)
    pad = ratio - h % ratio if h % ratio else 0
    x = x.reshape(bs, h, w, input_dim)
    if pad > 0:
        x = F.pad(x, (0, 0, 0, pad, 0, pad), "constant", 0)
    x = x.permute(0, 3, 1, 2)
    x = F.unfold(x, kernel_size=ratio, stride=ratio, padding=0)
    x = x.permute(0, 2, 1)
    n_linear = 2 + max(0, depth - 2)
    for k in range(n_linear):
        if k > 0:
            x = F.gelu(x)
        x = F.linear(x, W[f"projector.layers.{2 * k}.weight"], W[f"projector.layers.{2 * k}.bias"])
    return x


def prepare_inputs_embeds(W, cfg, feats, input_ids, images_seq_mask, images_spatial_crop):
    import torch
    images_embeds = projector(W, cfg.get("projector_config", {}), feats)
    _, hw, n_dim = images_embeds.shape
    h = w = int(hw ** 0.5)
    input_embeds = W["language.model.embed_tokens.weight"][input_ids].clone()
    newline, sep = W["image_newline"], W["view_seperator"]
    tile_index = 0
    parts = []
    for num_width_tiles, num_height_tiles in images_spatial_crop:
        num_tiles_in_image = num_width_tiles * num_height_tiles
        global_features = images_embeds[tile_index]
        local_features = images_embeds[tile_index + 1: tile_index + 1 + num_tiles_in_image]
        tile_index += num_tiles_in_image + 1
        global_features = global_features.view(h, w, n_dim)
        global_features = torch.cat([global_features, newline.view(1, 1, n_dim).expand(h, 1, n_dim)], dim=1).reshape(-1, n_dim)
        # "(th tw) (h w) d -> (th h) (tw w) d"
        local_features = local_features.reshape(num_height_tiles, num_width_tiles, h, w, n_dim).permute(0, 2, 1, 3, 4)
        local_features = local_features.reshape(num_height_tiles * h, num_width_tiles * w, n_dim)
        new_lines_in_local = newline.view(1, 1, n_dim).expand(num_height_tiles * h, 1, n_dim)
        local_features = torch.cat([local_features, new_lines_in_local], dim=1).reshape(-1, n_dim)
        if cfg.get("global_view_pos", "head") == "head":
            parts.append(torch.cat([global_features, sep[None, :], local_features], dim=0))
        else:
            parts.append(torch.cat([local_features, sep[None, :], global_features], dim=0))
    rows = torch.cat(parts, dim=0)
    mask = torch.tensor(images_seq_mask, dtype=torch.bool)
    input_embeds.masked_scatter_(mask.unsqueeze(-1), rows)
    return input_embeds


def siglip(W, vc, x):
    """siglip_vit.py VisionTransformer.forward_features (no class token, global_pool ignored): (views, N, width)."""
    import torch
    import torch.nn.functional as F
    p, width, heads = vc.get("patch_size", 16), vc.get("width", 1024), vc.get("heads", 16)
    x = F.conv2d(x, W["vision.patch_embed.proj.weight"], W["vision.patch_embed.proj.bias"], stride=p)
    x = x.flatten(2).transpose(1, 2) + W["vision.pos_embed"]
    hd = width // heads
    for i in range(vc.get("layers", 24)):
        b = f"vision.blocks.{i}."
        h = F.layer_norm(x, (width,), W[b + "norm1.weight"], W[b + "norm1.bias"], 1e-6)
        B, N, C = h.shape
        qkv = F.linear(h, W[b + "attn.qkv.weight"], W[b + "attn.qkv.bias"]).reshape(B, N, 3, heads, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = torch.softmax(q @ k.transpose(-2, -1) * hd ** -0.5, dim=-1) @ v
        x = x + F.linear(a.transpose(1, 2).reshape(B, N, C), W[b + "attn.proj.weight"], W[b + "attn.proj.bias"])
        h = F.layer_norm(x, (width,), W[b + "norm2.weight"], W[b + "norm2.bias"], 1e-6)
        h = F.gelu(F.linear(h, W[b + "mlp.fc1.weight"], W[b + "mlp.fc1.bias"]), approximate="tanh")
        x = x + F.linear(h, W[b + "mlp.fc2.weight"], W[b + "mlp.fc2.bias"])
    return F.layer_norm(x, (width,), W["vision.norm.weight"], W["vision.norm.bias"], 1e-6)


def forward(req):
    import torch
    from PIL import Image, ImageOps
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from clip_reference import load_safetensors
    from deepseek_reference import logits_from_embeds
    d = req["model"]
    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    with open(os.path.join(d, "processor_config.json"), encoding="utf-8") as f:
        proc = json.load(f)
    W = load_safetensors(os.path.join(d, "model.safetensors"))
    tok = WordTokenizer(os.path.join(d, "tokenizer.json"))
    images = [ImageOps.exif_transpose(Image.open(p)).convert("RGB") for p in req["images"]]
    ids, mask, counts, crops = build_prompt(
        {"conversation": req["conversation"], "image_sizes": [im.size for im in images], "processor": proc}, tok)
    cropping = len(images) <= 2
    pixels = np.concatenate([process_image(im, proc, cropping)[0] for im in images]) if images else None
    lang = {k[len("language."):]: v for k, v in W.items() if k.startswith("language.")}
    lcfg = cfg["language_config"]
    v3 = lcfg.get("model_type") == "deepseek_v3"
    if images:
        feats = siglip(W, cfg.get("vision_config", {}), torch.from_numpy(pixels).double())
        emb = prepare_inputs_embeds(W, cfg, feats, torch.tensor(ids), mask, crops)
        emb[torch.tensor(mask)].float().numpy().tofile(req["out"])
    else:
        emb = lang["model.embed_tokens.weight"][torch.tensor(ids)]
    tokens, last = [], None
    for _ in range(req.get("max_tokens", 16)):
        logits = logits_from_embeds(lang, lcfg, emb, v3, [0])
        if last is None:
            last = logits[-1].tolist()
        t = int(torch.argmax(logits[-1]))
        tokens.append(t)
        emb = torch.cat([emb, lang["model.embed_tokens.weight"][t][None, :]], dim=0)
    return {"input_ids": ids, "images_seq_mask": mask, "num_image_tokens": counts, "images_spatial_crop": crops,
            "tokens": tokens, "last_logits": last}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    op = req["op"]
    if op == "tiling":
        res = []
        for size in req["sizes"]:
            best = select_best_resolution(tuple(size), req["candidates"])
            s = req["image_size"]
            tw, th = best[0] // s, best[1] // s
            res.append({"best": list(best), "tiles": [tw, th],
                        "tokens": image_token_count(s, req["patch_size"], req["downsample_ratio"], tw, th),
                        "tokens_single": image_token_count(s, req["patch_size"], req["downsample_ratio"], 1, 1)})
        out = {"results": res}
    elif op == "pieces":
        added = req.get("added_tokens", [])
        pieces = []
        for text in text_pieces(req):
            pieces += [p for special, p in pre_tokens(text, added) if not special]
        out = {"pieces": sorted(set(pieces))}
    elif op == "prompt":
        ids, mask, counts, crops = build_prompt(req, WordTokenizer(req["tokenizer"]))
        out = {"input_ids": ids, "images_seq_mask": mask, "num_image_tokens": counts, "images_spatial_crop": crops}
    elif op == "embeds":
        import torch
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from clip_reference import load_safetensors
        W = load_safetensors(os.path.join(req["model"], "model.safetensors"))
        with open(os.path.join(req["model"], "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        feats = np.fromfile(req["features"], dtype=np.float32).reshape(req["features_shape"])
        emb = prepare_inputs_embeds(W, cfg, torch.from_numpy(feats).double(), torch.tensor(req["input_ids"]),
                                    req["images_seq_mask"], req["images_spatial_crop"])
        emb.float().numpy().tofile(req["out"])
        out = {"shape": list(emb.shape)}
    elif op == "forward":
        out = forward(req)
    else:
        raise SystemExit(f"unknown op {op}")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
