"""Moved to :mod:`bench.analysis.fit_flags` (numbers, no drawing); this path keeps working for
code that imports it from here."""

from bench.analysis.fit_flags import (
    BOUND_TOLERANCE,
    at_bounds,
    failed_resamples,
    join,
    too_few_points,
)

__all__ = ["BOUND_TOLERANCE", "at_bounds", "failed_resamples", "join", "too_few_points"]
