"""Moved to :mod:`bench.analysis.stats` (numbers, no drawing); this path keeps working for code
that imports it from here."""

from bench.analysis.stats import (
    INTERVALS,
    MIN_BAND_SEEDS,
    Interval,
    finite,
    mean_ci,
    seed_interval,
    t_quantile,
)

__all__ = [
    "INTERVALS",
    "Interval",
    "MIN_BAND_SEEDS",
    "finite",
    "mean_ci",
    "seed_interval",
    "t_quantile",
]
