"""Scaling strategies and the rounding rules that turn multipliers into a real network.

A strategy maps a continuous *scale* ``s`` (log2 of the intended MAC ratio) to
multipliers ``(d, w, r)`` and, for VGG-style linear scaling, to extra blocks
per stage. The solver (:mod:`bench.solver`) picks ``s`` so that the rounded
network's measured MACs hit the budget; strategies only describe the direction.

Multiplicative strategies are a weight vector ``(a, b, c)`` with a + b + c = 1::

    d = 2 ** (a * s)      w = 2 ** (b * s / 2)      r = 2 ** (c * s / 2)

so that ``d * w**2 * r**2 == 2 ** s`` before rounding (DESIGN.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from timm.layers import make_divisible

from bench.errors import UserError

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
    own function keeps our B1-B7 identical to timm's.
    """
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


class Multiplicative:
    """A strategy that splits log2 of the MAC ratio among depth, width and resolution.

    ``weights = (a, b, c)``, non-negative, summing to 1: depth is (1, 0, 0),
    width (0, 1, 0), resolution (0, 0, 1), Dollar et al.'s uniform scaling
    (1/3, 1/3, 1/3) and their fast scaling (0.1, 0.8, 0.1).
    """

    matched = True

    def __init__(self, name: str, weights: Sequence[float]) -> None:
        a, b, c = (float(x) for x in weights)
        if min(a, b, c) < 0 or not math.isclose(a + b + c, 1.0, abs_tol=1e-6):
            raise UserError(
                f"strategy {name!r}: weights must be three non-negative numbers summing to 1 "
                f"(depth, width, resolution); got {list(weights)}"
            )
        self.name = name
        self.weights = (a, b, c)

    def scale(self, s: float) -> Scale:
        """Multipliers at scale ``s`` (log2 of the intended MAC ratio)."""
        a, b, c = self.weights
        return Scale(d=2.0 ** (a * s), w=2.0 ** (b * s / 2), r=2.0 ** (c * s / 2))


class Compound(Multiplicative):
    """EfficientNet's compound scaling from (alpha, beta, gamma).

    ``mode='matched'`` (default) keeps the direction alpha : beta : gamma but
    lets the solver hit 2**phi exactly: a : b : c = ln alpha : 2 ln beta : 2 ln gamma.
    ``mode='literal'`` is the paper's d = alpha**phi, w = beta**phi,
    r = gamma**phi with no matching, to reproduce B1-B7.
    """

    MODES = ("matched", "literal")

    def __init__(
        self, name: str, alpha: float, beta: float, gamma: float, mode: str = "matched"
    ) -> None:
        if mode not in self.MODES:
            raise UserError(
                f"strategy {name!r}: mode must be one of {list(self.MODES)}, got {mode!r}"
            )
        if min(alpha, beta, gamma) < 1.0:
            raise UserError(
                f"strategy {name!r}: alpha, beta and gamma must each be >= 1; "
                f"got alpha={alpha}, beta={beta}, gamma={gamma}"
            )
        logs = (math.log(alpha), 2 * math.log(beta), 2 * math.log(gamma))
        total = sum(logs)
        if total <= 0:
            raise UserError(f"strategy {name!r}: alpha * beta^2 * gamma^2 must be > 1")
        super().__init__(name, [x / total for x in logs])
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.mode = mode
        self.matched = mode == "matched"

    @property
    def product(self) -> float:
        """alpha * beta^2 * gamma^2: the MAC growth per unit of phi in literal mode."""
        return self.alpha * self.beta**2 * self.gamma**2

    def scale(self, s: float) -> Scale:
        """Matched: the weight-vector form. Literal: the paper's powers of alpha, beta, gamma."""
        if self.matched:
            return super().scale(s)
        return Scale(d=self.alpha**s, w=self.beta**s, r=self.gamma**s)


class Linear:
    """VGG-style linear scaling: the same number of extra same-width blocks in every stage.

    Width and resolution stay fixed. Scale ``s`` asks for ``2**s - 1`` times the
    baseline's block count in extra blocks, spread evenly over the stages
    (:func:`linear_extra_blocks`); that doubles MACs per unit of ``s`` when
    every block costs the same, and the solver corrects the rest.
    """

    matched = True

    def __init__(self, name: str) -> None:
        self.name = name

    def scale(self, s: float) -> Scale:
        """Extra blocks, as a fraction of the baseline's blocks, at scale ``s``."""
        return Scale(extra=2.0**s - 1.0)
