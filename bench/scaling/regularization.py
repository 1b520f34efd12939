"""Regularisation that grows with the network, the way EfficientNet grew it from B0 to B7.

EfficientNet raised dropout before the classifier from 0.2 (B0) to 0.5
(B7) while the networks' FLOPs grew 95-fold (0.39 to 37 GFLOPs): 0.3 over
log2(37 / 0.39) = 6.57 doublings, about 0.046 per doubling of MACs. Fitted by
least squares to all eight models the rule is 0.199 + 0.049 per doubling, so
the end-point slope describes the whole family.

``train.regularization=scaled`` applies that slope to every point of a
sweep: a point with ``k`` times the baseline's MACs trains with

    drop_rate      = min(0.5, model.drop_rate      + SLOPE * log2(k))
    drop_path_rate = min(0.5, model.drop_path_rate + SLOPE * log2(k))   (if > 0)

Points below the baseline keep the baseline's values, and no rate is ever
lowered (a model configured above the ceiling keeps its own). Drop-path grows only
where the family already uses it: EfficientNet kept drop-connect at 0.2 for
every model, and a family without stochastic depth should not gain it only
because it was scaled. ``fixed`` (the default) trains every point with the
model config's values. Either way a point's result records the values it
used (``drop_rate``, ``drop_path_rate``).
"""

from __future__ import annotations

import math
from typing import Literal

from bench.schema import ModelConfig

SLOPE = 0.3 / math.log2(37 / 0.39)  # EfficientNet B0 -> B7: +0.3 dropout over the MAC ratio
CEILING = 0.5  # B7's dropout, the largest EfficientNet used


def regularised(
    model: ModelConfig, mode: Literal["fixed", "scaled"], macs_ratio: float
) -> ModelConfig:
    """The model config a point with ``macs_ratio`` times the baseline's MACs trains with."""
    if mode == "fixed":
        return model
    grow = SLOPE * max(0.0, math.log2(macs_ratio))

    def grown(rate: float) -> float:  # never below the model's own rate
        return round(max(rate, min(CEILING, rate + grow)), 4)

    path = grown(model.drop_path_rate) if model.drop_path_rate > 0 else 0.0
    return model.model_copy(update={"drop_rate": grown(model.drop_rate), "drop_path_rate": path})
