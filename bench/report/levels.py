"""Moved to :mod:`bench.analysis.levels` (numbers, no drawing); this path keeps working for code
that imports it from here."""

from bench.analysis.levels import (
    INTERVAL_COLUMNS,
    LEVEL_KEYS,
    LEVEL_METRICS,
    STRATEGY_ORDER,
    strategy_order,
    summarize_levels,
    with_sweep,
)

__all__ = [
    "INTERVAL_COLUMNS",
    "LEVEL_KEYS",
    "LEVEL_METRICS",
    "STRATEGY_ORDER",
    "strategy_order",
    "summarize_levels",
    "with_sweep",
]
