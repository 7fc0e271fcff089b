#!/usr/bin/python3
# PyTorch reference for Furnace's training augmentation (ImageAugmenter): crop a (C, H, W) float32 tensor to
# (top, left, h, w), resize it to (out_h, out_w) with F.interpolate(mode="bilinear", align_corners=False) — what
# torchvision's RandomResizedCrop does to a tensor without antialias — then flip horizontally (TF.hflip).
# Usage: augment_reference.py IN.f32 C H W TOP LEFT h w OUT_H OUT_W OUT.f32
import sys

import numpy as np
import torch
import torch.nn.functional as F

src, c, H, W, top, left, h, w, oh, ow, out = sys.argv[1:]
c, H, W, top, left, h, w, oh, ow = map(int, (c, H, W, top, left, h, w, oh, ow))
x = torch.from_numpy(np.fromfile(src, dtype=np.float32).reshape(1, c, H, W))
y = F.interpolate(x[:, :, top:top + h, left:left + w], size=(oh, ow), mode="bilinear", align_corners=False)
y = torch.flip(y, dims=[3])
y[0].contiguous().numpy().astype(np.float32).tofile(out)
