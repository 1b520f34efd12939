"""Verdicts in words, tables and marks: what :mod:`bench.report.decide` found, shown.

- :func:`verdict_lines`: one line per level, beginning ``phi=<level>:``,
  logged at the end of a sweep and printed by ``bench.plot``;
- :func:`write_decisions`: ``tables/decisions.{csv,md,tex}``;
- :func:`mark_winners`: a ring around a level's decided winner on the
  top-1-vs-MACs figure.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from bench.report.decide import COLUMNS, EXTRAS, ranking_rows, winners
from bench.report.style import INK
from bench.report.tables import markdown_table
from bench.report.text import latex_escape
from bench.store import atomic_write_text
from bench.train.diagnostics import parse_flag

WINNER_LABEL = "decided winner of its level"


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


def _signed(x: float) -> str:
    return f"{'+' if x >= 0 else ''}{_pts(x)}"


def describe(row: pd.Series, margin: float, confidence: float = 0.95) -> str:
    """One comparison in words (issue 21's wording): ahead, tied, or undecided and why."""
    a, b, n = row["strategy"], row["versus"], int(row["seeds"])
    if n == 0:
        return f"{a} vs {b}: no paired seed"
    if n == 1:
        return f"{a} vs {b} undecided (one seed)"
    diff, low, high = row["diff"], row["low"], row["high"]
    seeds = f"{n} paired seeds"
    if row.get("sd") == 0:
        return (f"{a} vs {b} undecided ({_signed(diff)} at each of the {seeds}: no spread to "
                "estimate the noise from)")  # fmt: skip
    level = f"{100 * confidence:g} % interval"
    if row["winner"] == "tie":
        ends = f"{_signed(diff)}, {level} {_pts(low)} to {_pts(high)}, {seeds}"
        return f"{a} and {b} tied within the {100 * margin:g}-point margin ({ends})"
    if row["decided"]:
        sign = 1 if row["winner"] == a else -1
        loser = b if sign == 1 else a
        low, high = sorted((sign * low, sign * high))
        ends = f"{level} {_pts(low)} to {_pts(high)}, {seeds}"
        return f"{row['winner']} ahead of {loser} by {_pts(sign * diff)} points ({ends})"
    need = row["seeds_needed"]
    would = f"about {int(need)} seeds" if math.isfinite(need) else "more than 1000 seeds"
    ends = f"{_signed(diff)}, {_pts(low)} to {_pts(high)}, {seeds}"
    return (
        f"{a} vs {b} undecided ({ends}): {would} would decide a {100 * margin:g}-point "
        "difference at this noise"
    )


def verdict_lines(
    table: pd.DataFrame, frame: pd.DataFrame, margin: float, confidence: float
) -> list[str]:
    """One line per level of ``table`` (every phi of every sweep), in phi order.

    A level's line lists the comparisons that decide its ranking (its strategy
    pairs; with one strategy, it against the baseline); phi 0 is the shared
    baseline and compares nothing.
    """
    sweeps = list(dict.fromkeys(table["sweep"])) if "sweep" in table else [""]
    lines = []
    for sweep in sweeps:
        rows = table[table["sweep"] == sweep] if "sweep" in table else table
        tag = f" [{sweep}]" if len(sweeps) > 1 else ""
        for phi in sorted(pd.to_numeric(rows["phi"], errors="coerce").dropna().unique()):
            level = frame[(frame["sweep"] == sweep) & (frame["phi"] == phi)]
            text = _level_text(rows, phi, level, margin, confidence)
            lines.append(f"phi={phi:g}:{tag} {text}")
    return lines


def _level_text(
    rows: pd.DataFrame, phi: float, level: pd.DataFrame, margin: float, confidence: float
) -> str:
    if phi == 0:
        ok = rows[(pd.to_numeric(rows["phi"]) == 0) & (rows["status"] == "ok")]
        seeds = ok["seed"].nunique()
        return f"the shared baseline ({seeds} seed{'' if seeds == 1 else 's'}), nothing to decide"
    if level.empty:
        return "one strategy and no baseline: nothing to compare"
    shown = ranking_rows(level).iterrows()
    return "; ".join(describe(row, margin, confidence) for _, row in shown) + _flags(rows, phi)


def _flags(rows: pd.DataFrame, phi: float) -> str:
    """`` [flagged: ...]`` when points of the level did not learn or were still improving: a
    verdict between such points is about them as they stand, not about scaling."""
    at = rows[(pd.to_numeric(rows["phi"]) == phi) & (rows["status"] == "ok")]
    said = []
    for column, bad, words in FLAGS:
        count = sum(parse_flag(v) is bad for v in at.get(column, []))
        if count:
            said.append(f"{count} of {len(at)} points {words}")
    return f" [flagged: {'; '.join(said)}]" if said else ""


FLAGS = (("above_chance", False, "not above chance"), ("still_improving", True, "still improving"))


def decisions_markdown(frame: pd.DataFrame, margin: float, confidence: float) -> str:
    """``decisions.md``: a caption line, then the comparisons as a pipe table."""
    body = display(frame)
    left = {"strategy", "versus", "winner", "sweep"}
    return f"{caption(margin, confidence)}\n\n{markdown_table(body, list(body.columns), left)}"


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """The table's cells as text: fractions to 4 decimals, p to 3 significant digits."""
    several = frame["sweep"].nunique() > 1 if len(frame) else False
    out = frame[COLUMNS + (["sweep"] if several else []) + ["seeds_needed"]].copy()
    for column in ("diff", "low", "high"):
        out[column] = out[column].map(lambda v: "—" if pd.isna(v) else f"{v:+.4f}")
    out["p_value"] = out["p_value"].map(lambda v: "—" if pd.isna(v) else f"{v:.3g}")
    out["phi"] = out["phi"].map(lambda v: f"{v:g}")
    out["decided"] = out["decided"].map(lambda v: "yes" if v else "no")
    out["winner"] = out["winner"].replace("", "—")
    out["seeds_needed"] = out["seeds_needed"].map(lambda v: "—" if pd.isna(v) else f"{int(v)}")
    return out


def caption(margin: float, confidence: float) -> str:
    """What the numbers of the decisions table are."""
    return (
        "Paired comparisons per level: diff = strategy minus versus in top-1 (fractions; 0.01 is "
        "one point), mean over the seeds both finished (seeds); low, high: t-interval on the "
        f"paired differences at the level Holm's procedure used, family-wise {100 * confidence:g}"
        " % per level (split over the rounds of an adaptive sweep); p_value Holm-adjusted. "
        f"decided: the interval excludes 0 (winner) or lies within ±{margin:g} (tie). "
        "seeds_needed: paired seeds that would decide a difference of the margin at the "
        "observed spread (80 % power). Assumes roughly normal differences and independent seeds."
    )


def write_decisions(
    frame: pd.DataFrame, out_dir: Path, margin: float, confidence: float
) -> dict[str, Path]:
    """``decisions.csv`` (every column, fractions), ``decisions.md`` and ``decisions.tex``."""
    out_dir = Path(out_dir)
    paths = {f"decisions_{k}": out_dir / f"decisions.{k}" for k in ("csv", "md", "tex")}
    frame = frame if len(frame) else pd.DataFrame(columns=COLUMNS + EXTRAS)
    atomic_write_text(paths["decisions_csv"], frame[COLUMNS + EXTRAS].to_csv(index=False))
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
