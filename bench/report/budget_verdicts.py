"""Moved to :mod:`bench.analysis.budget_verdicts` (numbers, no drawing); this path keeps working
for code that imports it from here."""

from bench.analysis.budget_verdicts import (
    ONLY,
    WINS,
    changes_cell,
    level_verdict,
    mean_order_changes,
    verdict_lines,
    winner_cell,
)

__all__ = [
    "ONLY",
    "WINS",
    "changes_cell",
    "level_verdict",
    "mean_order_changes",
    "verdict_lines",
    "winner_cell",
]
