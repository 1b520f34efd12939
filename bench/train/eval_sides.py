"""Testing a trained point at several input sides: the train-test resolution discrepancy.

A network trained on random crops sees objects larger than a centre-cropped
test image shows them, so testing at a somewhat higher side often recovers
accuracy for free (Touvron et al. 2019, FixRes: ResNet-50 trained at 224 gains
1-2 points tested at 288). That matters most to the resolution and compound
strategies, whose points differ in the side they train at. After training,
each point is evaluated at every side of ``eval.test_scales`` (multipliers of
its resolution, rounded like resolutions), its training side included.

Which side is "best" is chosen on the validation split (``data.val_fraction``),
never on the test split: picking the best of several test-split measurements
reports the luckiest of them, which raises top-1 even with no true gain, and by
more for points with more distinct sides (small resolutions round to fewer). With a
validation split every side is measured on it too, the side with the best
validation top-1 is chosen, and the test split only reports its top-1 there;
without one nothing is chosen (``best_test_resolution`` stays null).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from bench.scaling.strategies import round_resolution


def sides_to_test(resolution: int, scales: list[float], minimum: int = 8) -> list[int]:
    """The sides a point is tested at: each scale of ``resolution`` rounded like a resolution
    (:func:`bench.scaling.strategies.round_resolution`), at least ``minimum`` (the network's
    total stride), the training side always included; sorted, without repeats."""
    sides = {round_resolution(resolution, float(s)) for s in scales}
    return sorted({s for s in sides if s >= minimum} | {int(resolution)})


def evaluate_sides(
    model: nn.Module,
    resolution: int,
    sides: list[int],
    top1: float,
    batches_at: Callable[[int], Any],
    evaluate: Callable[[nn.Module, Any], tuple[float, float]],
) -> dict[str, float]:
    """Top-1 at every side (keys are sides as strings, as JSON keeps them); the training side's
    is ``top1`` itself, the others are measured on ``batches_at(side)``'s held-out batches."""
    out = {str(resolution): top1}
    for side in sides:
        if side != resolution:
            out[str(side)] = evaluate(model, batches_at(side))[0]
    return dict(sorted(out.items(), key=lambda kv: int(kv[0])))


def best_side(by_side: dict[str, float] | None, resolution: int) -> int | None:
    """The side with the best top-1 in ``by_side`` (the validation split's); ties go to the
    training side ``resolution``, then to the smaller side; None without any."""
    if not by_side:
        return None
    best = max(by_side.values())
    tied = [int(side) for side, top1 in by_side.items() if top1 == best]
    return int(resolution) if int(resolution) in tied else min(tied)


def sides_fields(
    by_side: dict[str, float] | None, val_by_side: dict[str, float] | None, resolution: int
) -> dict[str, Any]:
    """The test-resolution keys of a point's result: top-1 by side on the test split
    (``by_side``) and on the validation split (``val_by_side``, None without one), the side
    chosen on validation, and the test and validation top-1 there (None when not chosen)."""
    test, val = by_side or {}, val_by_side or {}
    best = best_side({s: v for s, v in val.items() if s in test}, resolution)
    return {
        "top1_by_test_resolution": by_side,
        "val_top1_by_test_resolution": val_by_side,
        "best_test_resolution": best,
        "top1_at_best_test_resolution": None if best is None else test[str(best)],
        "val_top1_at_best_test_resolution": None if best is None else val[str(best)],
    }


@torch.no_grad()
def top1_by_side(
    model: nn.Module,
    resolution: int,
    scales: list[float],
    minimum: int,
    top1: float,
    batches_at: Callable[[int], Any],
    evaluate: Callable[[nn.Module, Any], tuple[float, float]],
) -> dict[str, float]:
    """:func:`evaluate_sides` at :func:`sides_to_test`: what ``bench.train.point`` calls."""
    sides = sides_to_test(resolution, scales, minimum)
    return evaluate_sides(model, resolution, sides, top1, batches_at, evaluate)
