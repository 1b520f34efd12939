"""Rounding a point's continuous multipliers to a buildable network, in one place.

A strategy (:mod:`bench.scaling.strategies`) says how far to grow; these turn
its multipliers into whole blocks, channels and pixels, and :func:`scale_arch`
rounds every family's baseline the same way into the :class:`bench.models.Arch`
its builder receives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.models import Arch
from bench.schema import ModelConfig

WIDTH_DIVISOR = 8


@dataclass(frozen=True)
class Scale:
    """Continuous multipliers of one point, before rounding.

    ``extra`` is VGG-style linear scaling's addition: extra blocks as a
    fraction of the baseline's block count; 0 for multiplicative strategies.
    """

    d: float = 1.0
    w: float = 1.0
    r: float = 1.0
    extra: float = 0.0


def round_depth(repeats: int, d: float) -> int:
    """Blocks in a stage after depth scaling: ``ceil(d * n)``, at least 1 (timm's 'ceil')."""
    return max(1, int(math.ceil(repeats * d)))


def round_width(channels: int, w: float, divisor: int = WIDTH_DIVISOR) -> int:
    """Channels after width scaling: nearest multiple of ``divisor``, never >10% below exact.

    This is TF's ``round_filters`` and timm's ``make_divisible``; using timm's
    own function keeps our B1-B7 identical to timm's. Imported here: checking a config
    (which rounds nothing) loads no timm.
    """
    from timm.layers import make_divisible

    return int(make_divisible(channels * w, divisor, round_limit=0.9))


def round_resolution(base: int, r: float) -> int:
    """Input side after resolution scaling: a multiple of 8 (of 4 under 64 px).

    ``r == 1`` returns the baseline's own side unchanged, so a baseline given
    at, say, 260 px (B2) is trained at exactly that size.
    """
    if r == 1.0:
        return int(base)
    exact = base * r
    quantum = 4 if exact < 64 else 8
    return max(quantum, int(round(exact / quantum)) * quantum)


def linear_extra_blocks(k: float, stages: int) -> tuple[int, ...]:
    """Spread ``round(k * stages)`` extra blocks over the stages, deepest stages first.

    ``k`` is the continuous number of extra blocks per stage. Every stage gets
    ``floor(E / S)`` and the last ``E mod S`` stages one more, which is how
    VGG grew (VGG-13 -> 16 -> 19 added convs to the later stages). Negative
    ``k`` removes blocks the same way; monotone in ``k``, as the solver needs.
    """
    total = int(round(k * stages))
    base, rest = divmod(total, stages)
    return tuple(base + (1 if i >= stages - rest else 0) for i in range(stages))


def scale_arch(model: ModelConfig, scale: Scale) -> Arch:
    """Apply a point's multipliers on top of the baseline's and round (docs/design.md)."""
    d = model.depth_mult * scale.d
    w = model.width_mult * scale.w
    base_depths = [round_depth(n, d) for n in model.depths]
    if scale.extra:
        per_stage = scale.extra * sum(base_depths) / len(base_depths)
        extras = linear_extra_blocks(per_stage, len(base_depths))
        base_depths = [max(1, n + e) for n, e in zip(base_depths, extras, strict=True)]

    def width(c: int | None) -> int | None:
        return None if c is None else round_width(int(c), w)

    return Arch(
        depths=tuple(base_depths),
        widths=tuple(round_width(int(c), w) for c in model.widths),
        stem_width=width(model.stem_width),
        head_width=width(model.head_width),
    )
