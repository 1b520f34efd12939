"""Flagged levels drawn: an overlay in ink on the level's marker, one shape per kind.

Which points and levels are flagged, and the words and footnote marks for them, are
:mod:`bench.analysis.flags`' (re-exported here, so ``bench.report.flags.FLAGS`` still reads).
Here is only how each kind looks on a figure: a shape that reads in greyscale and without
colour vision, an open ring around the marker (still improving), a "?" above left (not above
chance), a "↔" above right (off its MAC target), and a legend entry per kind drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib.transforms as mtransforms
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from bench.analysis.flags import (
    COUNTS,
    FLAGS,
    Flag,
    any_flagged,
    count_flags,
    counted,
    flag_text,
    flagged,
    marks,
    table_note,
)
from bench.report.style import INK

__all__ = [
    "COUNTS", "FLAGS", "OVERLAYS", "Flag", "Overlay", "any_flagged", "count_flags", "counted",
    "draw_flags", "flag_text", "flagged", "legend_handles", "marks", "table_note",
]  # fmt: skip


@dataclass(frozen=True)
class Overlay:
    """How one kind of flag is drawn over a level's marker."""

    marker: str
    size: float
    offset: tuple[float, float]  # points from the level's marker


OVERLAYS = {
    "still_improving": Overlay("o", 8.5, (0.0, 0.0)),
    "above_chance": Overlay("$?$", 6.0, (-4.5, 5.5)),
    "within_tolerance": Overlay(r"$\leftrightarrow$", 7.0, (4.5, 5.5)),
}  # by Flag.key: every kind of :data:`FLAGS` has one


def draw_flags(ax: Axes, levels: pd.DataFrame, column: str, y: str = "top1_mean") -> set[str]:
    """Overlay every flagged level's marker at (``column``, 100 x ``y``) on ``ax``.

    Returns the labels of the kinds drawn, for :func:`legend_handles`.
    """
    drawn = set()
    for flag in FLAGS:
        if flag.count not in levels:
            continue
        rows = levels[(levels[flag.count] > 0) & levels[column].notna() & levels[y].notna()]
        if rows.empty:
            continue
        dx, dy = OVERLAYS[flag.key].offset
        shift = mtransforms.ScaledTranslation(dx / 72, dy / 72, ax.figure.dpi_scale_trans)
        ax.plot(
            rows[column].to_numpy(float),
            100 * rows[y].to_numpy(float),
            linestyle="none",
            transform=ax.transData + shift,
            zorder=6,
            **_style(flag),
        )
        drawn.add(flag.label)
    return drawn


def legend_handles(drawn: set[str]) -> list[Line2D]:
    """One legend entry per kind drawn, in :data:`FLAGS` order."""
    return [
        Line2D([], [], linestyle="none", label=f.label, **_style(f))
        for f in FLAGS
        if f.label in drawn
    ]


def _style(flag: Flag) -> dict[str, Any]:
    overlay = OVERLAYS[flag.key]
    hollow = overlay.marker == "o"
    return {
        "marker": overlay.marker,
        "markersize": overlay.size,
        "markerfacecolor": "none" if hollow else INK,
        "markeredgecolor": INK,
        "markeredgewidth": 0.8 if hollow else 0.0,
        "color": INK,
    }
