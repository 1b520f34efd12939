"""A validation split held out of the training split: for choosing, never for reporting.

Tuning a point on its test split would report a number chosen on that split.
``data.val_fraction`` holds out a fixed part of the training split instead: the
same images for every point and seed (a permutation drawn from a fixed seed,
not the point's), never trained on, so that choices made on it (say the
learning rate, ``tune.lrs``) leave the test split untouched.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from bench.data.splits import Data, ImageSet
from bench.errors import UserError

SPLIT_SEED = 20261203  # fixed: the split must not depend on the point's seed


def validation_indices(n: int, fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(kept for training, held out): sorted indices of ``n`` training images, the held-out
    part ``round(fraction * n)`` of them (at least one), the same for every call."""
    held = max(1, round(fraction * n))
    if held >= n:
        raise UserError(f"data.val_fraction={fraction:g} leaves no training image of {n}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(SPLIT_SEED))
    return order[held:].sort().values, order[:held].sort().values


def split_validation(data: Data, fraction: float) -> Data:
    """``data`` with ``val`` held out of its training split (unchanged when ``fraction`` is 0);
    the fraction joins the data's identity, so points trained on less data get their own key."""
    if not fraction:
        return data
    if not isinstance(data.train, ImageSet):
        raise UserError(
            f"data.val_fraction={fraction:g} needs a training split held in memory; "
            "this one is streamed from disk (set data.in_memory=true or val_fraction=0)"
        )
    keep, held = validation_indices(len(data.train), fraction)
    images, labels = data.train.images, data.train.labels
    return replace(
        data,
        train=ImageSet(images[keep].contiguous(), labels[keep]),
        val=ImageSet(images[held].contiguous(), labels[held]),
        identity={**data.identity, "val_fraction": fraction},
        description=f"{data.description}; {len(held)} training images held out for validation",
    )
