"""Scaling-law fits drawn: each fitted strategy's power law as a thin dashed line.

The fits themselves (``err = a * MACs**(-b)`` per strategy, their bootstrap intervals and
``flops_to_match_best``) are :mod:`bench.analysis.fits`' (re-exported here); their tables are
:mod:`bench.report.fits_tables`'.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from bench.analysis.fits import (
    BOUNDED,
    COLUMNS,
    EXTRA,
    LEVEL,
    N_RESAMPLES,
    PARAMETERS,
    RNG_SEED,
    fit_strategies,
)

__all__ = [
    "BOUNDED",
    "COLUMNS",
    "draw_fit_lines",
    "EXTRA",
    "fit_strategies",
    "LEVEL",
    "N_RESAMPLES",
    "PARAMETERS",
    "RNG_SEED",
]

_LINE = {"linestyle": (0, (4, 2)), "linewidth": 0.8, "alpha": 0.9, "marker": "", "zorder": 2}


def draw_fit_lines(
    ax: Axes,
    fits: pd.DataFrame,
    colors: Mapping[str, object],
    x_range: Sequence[float],
    points: int = 200,
) -> list[Line2D]:
    """Each fitted strategy's curve, top-1 % = 100 (1 - a M**-b), thin and dashed, on ``ax``.

    ``ax`` has MACs on x (log scale) and top-1 in % on y; ``x_range`` is (low, high) MACs.
    The style is set here, not read from rcParams, so the lines look alike in any figure. The
    lines stay out of the axes' data limits (an extrapolated fit must not stretch the view of
    the data) and are cut below 0 %; legends skip them. Unfitted strategies draw nothing.
    """
    macs = np.geomspace(float(x_range[0]), float(x_range[1]), points)
    lines = []
    for row in fits.dropna(subset=["a", "b"]).itertuples():
        top1 = 100 * (1 - row.a * macs ** (-row.b))
        color, label = colors.get(row.strategy, "0.4"), f"_fit {row.strategy}"
        line = Line2D(macs, np.where(top1 >= 0, top1, np.nan), color=color, label=label, **_LINE)
        lines.append(ax.add_artist(line))  # add_line would grow the data limits
    return lines
