"""Verdicts written and drawn: the decisions table's files and the decided winner's ring.

What :mod:`bench.analysis.decide` found is said in words by :mod:`bench.analysis.verdicts`
(re-exported here, so ``bench.report.verdicts.verdict_lines`` still reads); here:

- :func:`write_decisions`: ``tables/decisions.{csv,md,tex}``;
- :func:`mark_winners`: a ring around a level's decided winner on the
  top-1-vs-MACs figure.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from bench.analysis.decide import ADDED, COLUMNS, EXTRAS, winners
from bench.analysis.text import latex_escape
from bench.analysis.verdicts import (
    caption,
    describe,
    display,
    leader_first,
    percent,
    verdict_lines,
)
from bench.report.style import INK
from bench.report.tables import markdown_table
from bench.store import atomic_write_text

__all__ = [
    "caption",
    "decisions_markdown",
    "describe",
    "display",
    "leader_first",
    "mark_winners",
    "percent",
    "verdict_lines",
    "winner_handle",
    "WINNER_LABEL",
    "WINNER_STYLE",
    "write_decisions",
]

WINNER_LABEL = "decided winner of its level"


def decisions_markdown(frame: pd.DataFrame, margin: float, confidence: float) -> str:
    """``decisions.md``: a caption line, then the comparisons as a pipe table."""
    body = display(frame)
    left = {"strategy", "versus", "winner", "sweep", "role", "flags"}
    return f"{caption(margin, confidence)}\n\n{markdown_table(body, list(body.columns), left)}"


def write_decisions(
    frame: pd.DataFrame, out_dir: Path, margin: float, confidence: float
) -> dict[str, Path]:
    """``decisions.csv`` (every column, fractions), ``decisions.md`` and ``decisions.tex``."""
    out_dir = Path(out_dir)
    paths = {f"decisions_{k}": out_dir / f"decisions.{k}" for k in ("csv", "md", "tex")}
    every = COLUMNS + EXTRAS + ADDED
    frame = frame if len(frame) else pd.DataFrame(columns=every)
    atomic_write_text(paths["decisions_csv"], frame.reindex(columns=every).to_csv(index=False))
    atomic_write_text(paths["decisions_md"], decisions_markdown(frame, margin, confidence))
    shown = display(frame).astype(str).map(latex_escape)
    shown.columns = [latex_escape(c) for c in shown.columns]
    tex = shown.style.hide(axis="index").to_latex(
        hrules=True,
        position_float="centering",
        caption=latex_escape(caption(margin, confidence)),
        label="tab:decisions",
    )
    atomic_write_text(paths["decisions_tex"], tex)
    return paths


def mark_winners(ax: Axes, levels: pd.DataFrame, frame: pd.DataFrame, column: str) -> bool:
    """Ring each level's decided winner (gid ``winner``); whether any was drawn."""
    found = winners(frame) if len(frame) else frame
    if found is None or len(found) == 0:
        return False
    keyed = levels.set_index(["sweep", "strategy", "phi"])
    drawn = False
    for _, win in found.iterrows():
        key = (win["sweep"], win["strategy"], win["phi"])
        if key not in keyed.index:
            continue
        x, y = keyed.loc[key, column], keyed.loc[key, "top1_mean"]
        if pd.notna(x) and pd.notna(y):
            ax.plot([x], [100 * y], **WINNER_STYLE)
            drawn = True
    return drawn


WINNER_STYLE = dict(linestyle="none", marker="o", markersize=9, markerfacecolor="none",
                    markeredgecolor=INK, markeredgewidth=1.0, zorder=4, gid="winner")  # fmt: skip


def winner_handle() -> Line2D:
    """The legend entry of the ring."""
    style = {k: v for k, v in WINNER_STYLE.items() if k not in ("zorder", "gid")}
    return Line2D([], [], label=WINNER_LABEL, **style | {"markersize": 6})
