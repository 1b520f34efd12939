"""Scaling strategies and the rounding rules that turn multipliers into a real network.

A strategy maps a continuous *scale* ``s`` (log2 of the intended MAC ratio) to
multipliers ``(d, w, r)`` and, for VGG-style linear scaling, to extra blocks
per stage. The solver (:mod:`bench.scaling.solver`) picks ``s`` so that the rounded
network's measured MACs hit the budget; strategies only describe the direction.

Multiplicative strategies are a weight vector ``(a, b, c)`` with a + b + c = 1::

    d = 2 ** (a * s)      w = 2 ** (b * s / 2)      r = 2 ** (c * s / 2)

so that ``d * w**2 * r**2 == 2 ** s`` before rounding (docs/design.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from bench.config.checks import import_path, one_line
from bench.errors import UserError
from bench.scaling.rounding import (  # noqa: F401 - re-exported: their old place
    WIDTH_DIVISOR,
    Scale,
    linear_extra_blocks,
    round_depth,
    round_resolution,
    round_width,
)
from bench.schema import FolderName, Section


class Strategy(Section):
    """A direction of growth: maps a continuous scale ``s`` to multipliers (and extra blocks).

    A strategy config (``conf/strategy/*.yaml``) names its class in
    ``_target_`` and sets the class's fields; a user's own strategy is a
    subclass of this one in their own package.
    """

    name: FolderName
    """The strategy's name: legends, point folders, W&B job type (a plain folder name)."""

    @property
    def matched(self) -> bool:
        """Whether the solver matches the scale to the MAC target (literal compound does not)."""
        return True

    def scale(self, s: float) -> Scale:
        """Multipliers at scale ``s`` (log2 of the intended MAC ratio)."""
        raise NotImplementedError


def weighted_scale(weights: Sequence[float], s: float) -> Scale:
    """``d = 2**(a s)``, ``w = 2**(b s / 2)``, ``r = 2**(c s / 2)``: d w^2 r^2 = 2**s."""
    a, b, c = weights
    return Scale(d=2.0 ** (a * s), w=2.0 ** (b * s / 2), r=2.0 ** (c * s / 2))


class Multiplicative(Strategy):
    """A strategy that splits log2 of the MAC ratio among depth, width and resolution.

    ``weights = (a, b, c)``, non-negative, summing to 1: depth is (1, 0, 0),
    width (0, 1, 0), resolution (0, 0, 1), Dollar et al.'s uniform scaling
    (1/3, 1/3, 1/3) and their fast scaling (0.1, 0.8, 0.1).
    """

    weights: tuple[float, float, float]
    """Shares of log2(MAC ratio) given to depth, width and resolution."""

    @field_validator("weights")
    @classmethod
    def _shares(cls, weights: tuple[float, float, float]) -> tuple[float, float, float]:
        if min(weights) < 0 or not math.isclose(sum(weights), 1.0, abs_tol=1e-6):
            raise ValueError("must be three non-negative numbers summing to 1")
        return weights

    def scale(self, s: float) -> Scale:
        """Multipliers at scale ``s``."""
        return weighted_scale(self.weights, s)


class Compound(Strategy):
    """EfficientNet's compound scaling from (alpha, beta, gamma).

    ``mode='matched'`` (default) keeps the direction alpha : beta : gamma but
    lets the solver hit 2**phi exactly: a : b : c = ln alpha : 2 ln beta : 2 ln gamma.
    ``mode='literal'`` is the paper's d = alpha**phi, w = beta**phi,
    r = gamma**phi with no matching, to reproduce B1-B7.
    """

    alpha: float = Field(1.2, ge=1)
    """Depth growth per unit of phi."""
    beta: float = Field(1.1, ge=1)
    """Width growth per unit of phi."""
    gamma: float = Field(1.15, ge=1)
    """Resolution growth per unit of phi."""
    mode: Literal["matched", "literal"] = "matched"
    """matched: solve for the exact budget along the direction; literal: the paper's powers."""

    @model_validator(mode="after")
    def _grows(self) -> Compound:
        if self.product <= 1:
            raise ValueError("alpha * beta^2 * gamma^2 must be above 1")
        return self

    @property
    def matched(self) -> bool:
        """Literal mode takes the paper's powers as they are."""
        return self.mode == "matched"

    @property
    def weights(self) -> tuple[float, float, float]:
        """The direction as shares of log2(MAC ratio)."""
        logs = (math.log(self.alpha), 2 * math.log(self.beta), 2 * math.log(self.gamma))
        total = sum(logs)
        return (logs[0] / total, logs[1] / total, logs[2] / total)

    @property
    def product(self) -> float:
        """alpha * beta^2 * gamma^2: the MAC growth per unit of phi in literal mode."""
        return self.alpha * self.beta**2 * self.gamma**2

    def scale(self, s: float) -> Scale:
        """Matched: the weight-vector form. Literal: the paper's powers of alpha, beta, gamma."""
        if self.matched:
            return weighted_scale(self.weights, s)
        return Scale(d=self.alpha**s, w=self.beta**s, r=self.gamma**s)


class Linear(Strategy):
    """VGG-style linear scaling: the same number of extra same-width blocks in every stage.

    Width and resolution stay fixed. Scale ``s`` asks for ``2**s - 1`` times the
    baseline's block count in extra blocks, spread evenly over the stages
    (:func:`linear_extra_blocks`); that doubles MACs per unit of ``s`` when
    every block costs the same, and the solver corrects the rest.
    """

    def scale(self, s: float) -> Scale:
        """Extra blocks, as a fraction of the baseline's blocks, at scale ``s``."""
        return Scale(extra=2.0**s - 1.0)


def strategy_from_config(node: Mapping[str, Any] | None) -> Strategy:
    """The strategy a ``strategy`` config describes (``_target_`` names its class), checked."""
    if not isinstance(node, Mapping) or "_target_" not in node:
        raise UserError("strategy is not set; choose one, e.g. strategy=compound")
    fields = {k: v for k, v in node.items() if k != "_target_"}
    cls = import_path(node["_target_"], "strategy._target_")
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise UserError(
            f"strategy._target_={node['_target_']!r} is not a bench.scaling.Strategy subclass"
        )
    try:
        return cls.model_validate(fields)
    except ValidationError as exc:
        raise UserError(one_line(exc, "strategy", cls)) from None
