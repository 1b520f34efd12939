"""Per-sample transforms of streamed images that decode only what the output needs.

A JPEG can be decoded at 1/2, 1/4 or 1/8 of its size for a fraction of the
work (PIL's *draft* mode: libjpeg scales in the DCT). The crop is chosen
from the header's size before anything is decoded, and the reduction is the
largest that keeps the crop at least the output side, so no output pixel is
upsampled that a full decode would not have upsampled. The crop and the
resize are then one PIL call (``resize(box=...)``), and the result stays
uint8, height x width x channels, until the batch reaches the device: a
stack of such images is a channels-last batch, the layout the network uses.
"""

from __future__ import annotations

import math
import random

import numpy as np
import torch
from PIL import Image

RRC_SCALE = (0.08, 1.0)  # area fraction of a random-resized crop (timm's, Inception's)
RRC_RATIO = (3 / 4, 4 / 3)


def draft(image: Image.Image, box: tuple[float, float, float, float], side: int) -> tuple:
    """Decode ``image`` (RGB) as small as keeps ``box`` at least ``side`` px; the box scaled.

    Only JPEGs have a draft mode; other formats decode fully.
    """
    width, height = image.size
    reduce = min((box[2] - box[0]) / side, (box[3] - box[1]) / side)
    if reduce >= 2 and image.format == "JPEG":
        image.draft("RGB", (math.ceil(width / reduce), math.ceil(height / reduce)))
    decoded = image.convert("RGB")
    sx, sy = decoded.size[0] / width, decoded.size[1] / height
    return decoded, (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)


def hwc(image: Image.Image) -> torch.Tensor:
    """A uint8 H x W x C tensor of an RGB image (one copy)."""
    return torch.from_numpy(np.array(image, dtype=np.uint8, copy=True))


def rrc_box(width: int, height: int) -> tuple[int, int, int, int]:
    """timm's random-resized crop (left, top, right, bottom), drawn from ``random``.

    The same draws as timm's ``RandomResizedCropAndInterpolation``: ten tries
    of an area fraction and a log-uniform aspect, else the whole image
    clamped to the aspect range, centred.
    """
    area = width * height
    log_ratio = (math.log(RRC_RATIO[0]), math.log(RRC_RATIO[1]))
    for _ in range(10):
        target = random.uniform(*RRC_SCALE) * area
        aspect = math.exp(random.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if w <= width and h <= height:
            top, left = random.randint(0, height - h), random.randint(0, width - w)
            return left, top, left + w, top + h
    ratio = width / height
    if ratio < min(RRC_RATIO):
        w, h = width, int(round(width / min(RRC_RATIO)))
    elif ratio > max(RRC_RATIO):
        w, h = int(round(height * max(RRC_RATIO))), height
    else:
        w, h = width, height
    top, left = (height - h) // 2, (width - w) // 2
    return left, top, left + w, top + h


class RandomResizedCrop:
    """Training: timm's random-resized crop and flip at ``side``, decoded in draft mode."""

    def __init__(self, side: int, flip: float = 0.5) -> None:
        self.side, self.flip = int(side), flip

    def __call__(self, image: Image.Image) -> torch.Tensor:
        box = rrc_box(*image.size)
        decoded, box = draft(image, box, self.side)
        out = decoded.resize((self.side, self.side), Image.Resampling.BILINEAR, box=box)
        if random.random() < self.flip:
            out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return hwc(out)


class CentreCrop:
    """Evaluation: the shorter side resized to ``side / crop_pct``, then the centre ``side``
    (``crop_pct`` 1: the whole shorter side, as ``pad_crop`` streams images before the device
    pads and crops them).

    Sizes round as timm's evaluation transform rounds them (torchvision's
    ``Resize`` and ``CenterCrop``), but only the crop is resampled (PIL's
    ``resize(box=...)`` on the same pixel grid, about 40 % less work at 224
    from 500 x 375): pixels are timm's within one uint8 level when no draft
    reduction applies.
    """

    def __init__(self, side: int, crop_pct: float) -> None:
        self.side = int(side)
        self.scale = math.floor(self.side / crop_pct)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        width, height = image.size
        short, long = min(width, height), max(width, height)
        long = int(self.scale * long / short)
        new = (self.scale, long) if width <= height else (long, self.scale)
        left = int(round((new[0] - self.side) / 2.0))
        top = int(round((new[1] - self.side) / 2.0))
        sx, sy = width / new[0], height / new[1]  # the crop, in the image's pixels
        box = (left * sx, top * sy, (left + self.side) * sx, (top + self.side) * sy)
        decoded, box = draft(image, box, self.side)
        side = (self.side, self.side)  # only the crop is resampled: the same pixel grid
        return hwc(decoded.resize(side, Image.Resampling.BILINEAR, box=box))
