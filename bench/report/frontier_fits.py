"""The saturating fits of the compute frontier written: ``tables/frontier_fits.csv``.

The fits (``err = E + a * C^-b`` per strategy's envelope, judged by a held-out budget) are
:mod:`bench.analysis.frontier_fits`' (re-exported here).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.analysis.frontier_fits import (
    BOOTSTRAP,
    BOUNDS,
    FIT_COLUMNS,
    MIN_POINTS,
    PINNED,
    bootstrap,
    envelope,
    fit_frontier,
    fit_law,
    fit_lines,
    fit_strategy,
    held_out_check,
    law,
    predict_top1,
)
from bench.store import atomic_write_text

__all__ = [
    "BOOTSTRAP",
    "BOUNDS",
    "FIT_COLUMNS",
    "MIN_POINTS",
    "PINNED",
    "bootstrap",
    "envelope",
    "fit_frontier",
    "fit_law",
    "fit_lines",
    "fit_strategy",
    "held_out_check",
    "law",
    "predict_top1",
    "write_frontier_fits",
]


def write_frontier_fits(table: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """Write tables/frontier_fits.csv under ``out_dir``."""
    path = Path(out_dir) / "tables" / "frontier_fits.csv"
    atomic_write_text(path, table.to_csv(index=False))
    return {"frontier_fits_csv": path}
