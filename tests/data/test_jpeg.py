"""bench.data.jpeg: crops chosen from the header, JPEGs decoded only as large as they need."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from PIL import Image

from bench.data.jpeg import CentreCrop, RandomResizedCrop, draft, rrc_box


@pytest.fixture
def photo(tmp_path):
    """A 500 x 375 JPEG with detail at every scale."""
    g = np.random.default_rng(0)
    coarse = Image.fromarray(g.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    pixels = np.asarray(coarse.resize((500, 375), Image.Resampling.BICUBIC), dtype=np.int16)
    pixels = np.clip(pixels + g.integers(-10, 11, pixels.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "photo.jpg"
    Image.fromarray(pixels).save(path, quality=90)
    return path


def test_draft_reduces_only_while_the_box_stays_at_least_the_side(photo):
    with Image.open(photo) as image:
        decoded, box = draft(image, (0, 0, 500, 375), 128)  # 2.9x larger than needed
    assert decoded.size == (250, 188) and box[3] - box[1] >= 128  # decoded at 1/2
    with Image.open(photo) as image:
        decoded, _ = draft(image, (100, 100, 400, 300), 224)  # a 300 x 200 crop: no room
    assert decoded.size == (500, 375)


def test_crops_draw_as_timms_and_are_uint8_hwc(photo):
    from timm.data.transforms import RandomResizedCropAndInterpolation

    random.seed(5)
    left, top, right, bottom = rrc_box(500, 375)
    random.seed(5)
    i, j, h, w = RandomResizedCropAndInterpolation.get_params(
        Image.new("RGB", (500, 375)), (0.08, 1.0), (3 / 4, 4 / 3)
    )
    assert (left, top, right - left, bottom - top) == (j, i, w, h)
    with Image.open(photo) as image:
        out = RandomResizedCrop(224)(image)
    assert out.shape == (224, 224, 3) and out.dtype == torch.uint8


def test_evaluation_crop_is_timms_within_a_draft_decodes_rounding(photo):
    from timm.data import create_transform

    timm = create_transform(112, crop_pct=0.875, interpolation="bilinear", use_prefetcher=True)
    ref = timm(Image.open(photo).convert("RGB")).permute(1, 2, 0).float()
    with Image.open(photo) as image:
        ours = CentreCrop(112, 0.875)(image).float()  # decoded at 1/2: 375 / 128 > 2
    assert ours.shape == ref.shape and (ours - ref).abs().mean() < 4
