"""Moved to :mod:`bench.analysis.compare` (numbers, no drawing); this path keeps working for code
that imports it from here."""

from bench.analysis.compare import (
    IGNORED,
    Comparison,
    compare,
    recipe_differences,
)

__all__ = ["Comparison", "IGNORED", "compare", "recipe_differences"]
