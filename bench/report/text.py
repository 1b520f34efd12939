"""Moved to :mod:`bench.analysis.text` (numbers, no drawing); this path keeps working for code
that imports it from here."""

from bench.analysis.text import (
    CLIPPED,
    INTERVAL_HEADERS,
    INTERVAL_NAMES,
    LATEX_SIGNS,
    budget_label,
    describe_budget,
    describe_setup,
    format_count,
    interval_note,
    join_values,
    latex_escape,
    significant,
    span,
)

__all__ = [
    "CLIPPED",
    "INTERVAL_HEADERS",
    "INTERVAL_NAMES",
    "LATEX_SIGNS",
    "budget_label",
    "describe_budget",
    "describe_setup",
    "format_count",
    "interval_note",
    "join_values",
    "latex_escape",
    "significant",
    "span",
]
