"""Testing a trained point at several input sides: the train-test resolution discrepancy.

A network trained on random crops sees objects larger than a centre-cropped
test image shows them, so testing at a somewhat higher side often recovers
accuracy for free (Touvron et al. 2019, FixRes: ResNet-50 trained at 224 gains
1-2 points tested at 288). That matters most to the resolution and compound
strategies, whose points differ in the side they train at. After training,
each point is evaluated at every side of ``eval.test_scales`` (multipliers of
its resolution, rounded like resolutions), its training side included.
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


def best_side(by_side: dict[str, float] | None) -> int | None:
    """The side with the best top-1 (the smallest among ties; None without any)."""
    if not by_side:
        return None
    best = max(by_side.values())
    return min(int(side) for side, top1 in by_side.items() if top1 == best)


def sides_fields(by_side: dict[str, float] | None) -> dict[str, Any]:
    """The three test-resolution keys from the outcome's top-1 by side (None when not tested)."""
    best = best_side(by_side)
    top1_there = None if best is None or by_side is None else by_side[str(best)]
    return {
        "top1_by_test_resolution": by_side,
        "best_test_resolution": best,
        "top1_at_best_test_resolution": top1_there,
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
