"""Moved to :mod:`bench.analysis.trust` (numbers, no drawing); this path keeps working for code
that imports it from here."""

from bench.analysis.trust import (
    OWN,
    named_modules,
    untrusted,
)

__all__ = ["OWN", "named_modules", "untrusted"]
