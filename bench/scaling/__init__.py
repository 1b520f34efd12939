"""Scaling: from (strategy, phi) to a rounded network at its MAC target, and its budget.

Strategy configs name their classes here (``_target_: bench.scaling.Compound``),
so the strategies are re-exported from :mod:`bench.scaling.strategies`.
"""

from bench.scaling.strategies import (
    WIDTH_DIVISOR,
    Compound,
    Linear,
    Multiplicative,
    Scale,
    Strategy,
    round_depth,
    round_resolution,
    round_width,
    strategy_from_config,
)

__all__ = [
    "WIDTH_DIVISOR",
    "Compound",
    "Linear",
    "Multiplicative",
    "Scale",
    "Strategy",
    "round_depth",
    "round_resolution",
    "round_width",
    "strategy_from_config",
]
