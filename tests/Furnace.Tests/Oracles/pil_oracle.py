#!/usr/bin/python3
# PIL/numpy reference for Furnace's image tests (run with Debian's /usr/bin/python3: python3-pil, python3-numpy).
# Usage: pil_oracle.py JOBS.json — a list of jobs, each writing raw bytes to job["out"]:
#   decode      {src}                     Image.open -> ImageOps.exif_transpose -> convert("RGB"): H*W*3 uint8
#   resize      {src, w, h, filter}       Image.open(src).convert("RGB").resize((w, h), filter): uint8
#   resize_raw  {src, sw, sh, w, h, filter}  the same, from raw RGB bytes (isolates resizing from decoding)
#   clip        {src, config}             transformers' CLIPImageProcessor/SiglipImageProcessor (+ LLaVA pad) in
#                                         PIL + numpy: float32 (3, H, W)
#   deepseek_vl {src, config}             DeepSeek-VL's VLMImageProcessor (image_processing_vlm.py) in PIL + numpy:
#                                         float32 (3, image_size, image_size)
#   make        {src, format, exif?, mode?}  re-encode src (optionally converted to mode) with an EXIF orientation
#   deepseek_vl2 {src, processor, cropping}  DeepSeek-VL2's global view + local tiles (deepseek_vl2_reference.py
#                                         process_image): float32 (views, 3, S, S); prints the tiles wide and high
# Prints one line per job: the output width and height.
import json
import math
import os
import sys

import numpy as np
from PIL import Image, ImageOps


def load_rgb(src, exif=False):
    im = Image.open(src)
    if exif:
        im = ImageOps.exif_transpose(im)
    return im.convert("RGB")


def size_dict(v, default_to_square):
    if isinstance(v, int):
        return {"height": v, "width": v} if default_to_square else {"shortest_edge": v}
    return v


def clip_preprocess(im, cfg):
    # transformers image_processing_clip.py / image_processing_siglip.py (slow processors), written out.
    siglip = cfg.get("image_processor_type") == "SiglipImageProcessor"
    clip_mean, clip_std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    cfg = {"image_mean": [0.5] * 3 if siglip else clip_mean, "image_std": [0.5] * 3 if siglip else clip_std,
           "size": {"height": 224, "width": 224} if siglip else {"shortest_edge": 224}, "crop_size": 224, **cfg}
    if cfg.get("image_aspect_ratio") == "pad" or cfg.get("do_pad"):
        # LLaVA expand2square with background tuple(int(x * 255) for x in image_mean)
        w, h = im.size
        bg = tuple(int(x * 255) for x in cfg["image_mean"])
        if w != h:
            side = max(w, h)
            res = Image.new(im.mode, (side, side), bg)
            res.paste(im, (0, (side - h) // 2) if w > h else ((side - w) // 2, 0))
            im = res
    resample = cfg.get("resample", 3)
    if cfg.get("do_resize", True):
        size = size_dict(cfg["size"], default_to_square=siglip)
        w, h = im.size
        if "shortest_edge" in size:
            s = size["shortest_edge"]
            short, long = (w, h) if w <= h else (h, w)
            new_short, new_long = s, int(s * long / short)
            nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
        else:
            nw, nh = size["width"], size["height"]
        im = im.resize((nw, nh), resample=resample, reducing_gap=None)
    a = np.array(im)  # (H, W, 3) uint8
    if cfg.get("do_center_crop", not siglip):
        crop = size_dict(cfg["crop_size"], default_to_square=True)
        ch, cw = crop["height"], crop["width"]
        oh, ow = a.shape[:2]
        top, left = (oh - ch) // 2, (ow - cw) // 2
        if top >= 0 and left >= 0 and top + ch <= oh and left + cw <= ow:
            a = a[top:top + ch, left:left + cw]
        else:
            nh, nw = max(ch, oh), max(cw, ow)
            padded = np.zeros((nh, nw, 3), dtype=a.dtype)
            tp, lp = math.ceil((nh - oh) / 2), math.ceil((nw - ow) / 2)
            padded[tp:tp + oh, lp:lp + ow] = a
            top, left = top + tp, left + lp
            a = padded[max(0, top):min(nh, top + ch), max(0, left):min(nw, left + cw)]
    if cfg.get("do_rescale", True):
        a = (a.astype(np.float64) * cfg.get("rescale_factor", 1 / 255)).astype(np.float32)
    if cfg.get("do_normalize", True):
        a = a.astype(np.float32)
        mean = np.array(cfg["image_mean"], dtype=a.dtype)
        std = np.array(cfg["image_std"], dtype=a.dtype)
        a = (a - mean) / std
    return np.ascontiguousarray(a.astype(np.float32).transpose(2, 0, 1))


def deepseek_vl_preprocess(im, cfg):
    # deepseek_vl/models/image_processing_vlm.py VLMImageProcessor, written out: resize (the long side to image_size,
    # torchvision's functional.resize on a PIL image = Image.resize with BICUBIC), expand2square with
    # tuple(int(x * 255) for x in image_mean) (127s when image_mean is None), transformers' rescale and normalize.
    clip_mean, clip_std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    size, min_size = cfg["image_size"], cfg.get("min_size", 14)
    mean, std = cfg.get("image_mean", clip_mean), cfg.get("image_std", clip_std)
    width, height = im.size
    max_size = max(width, height)
    new_h = max(int(height / max_size * size), min_size)
    new_w = max(int(width / max_size * size), min_size)
    im = im.resize((new_w, new_h), Image.BICUBIC)
    bg = (127, 127, 127) if mean is None else tuple(int(x * 255) for x in mean)
    w, h = im.size
    if w != h:
        side = max(w, h)
        res = Image.new(im.mode, (side, side), bg)
        res.paste(im, (0, (w - h) // 2) if w > h else ((h - w) // 2, 0))
        im = res
    a = np.array(im)
    a = (a.astype(np.float64) * cfg.get("rescale_factor", 1 / 255)).astype(np.float32)
    if cfg.get("do_normalize", True):
        a = (a - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return np.ascontiguousarray(a.astype(np.float32).transpose(2, 0, 1))


def main():
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    for job in jobs:
        op = job["op"]
        if op == "decode":
            im = load_rgb(job["src"], exif=True)
            data, (w, h) = np.asarray(im).tobytes(), im.size
        elif op == "resize":
            im = load_rgb(job["src"]).resize((job["w"], job["h"]), job["filter"])
            data, (w, h) = np.asarray(im).tobytes(), im.size
        elif op == "resize_raw":
            with open(job["src"], "rb") as f:
                raw = f.read()
            im = Image.frombytes("RGB", (job["sw"], job["sh"]), raw).resize((job["w"], job["h"]), job["filter"])
            data, (w, h) = np.asarray(im).tobytes(), im.size
        elif op == "clip":
            a = clip_preprocess(load_rgb(job["src"], exif=True), job["config"])
            data, (h, w) = a.tobytes(), a.shape[1:]
        elif op == "deepseek_vl2":
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from deepseek_vl2_reference import process_image
            a, (w, h) = process_image(load_rgb(job["src"], exif=True), job["processor"], job["cropping"])
            data = a.tobytes()
        elif op == "deepseek_vl":
            a = deepseek_vl_preprocess(load_rgb(job["src"], exif=True), job["config"])
            data, (h, w) = a.tobytes(), a.shape[1:]
        elif op == "make":
            im = Image.open(job["src"])
            if "mode" in job:
                im = im.convert(job["mode"])
            elif im.mode == "RGBA":
                im = im.convert("RGB")
            kw = {}
            if "exif" in job:
                exif = Image.Exif()
                exif[0x0112] = job["exif"]
                kw["exif"] = exif.tobytes()
            im.save(job["out"], job["format"], **kw)
            print(*im.size)
            continue
        else:
            raise SystemExit(f"unknown op {op}")
        with open(job["out"], "wb") as f:
            f.write(data)
        print(w, h)


if __name__ == "__main__":
    main()
