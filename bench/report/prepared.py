"""The results table made ready to draw, once per report: numeric costs, pooled levels, styles.

Every top-1 figure of a report draws from one :class:`Prepared`, so levels
are pooled (and intervals computed) once, and a strategy has the same colour
and marker in all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from bench.analysis.levels import strategy_order, summarize_levels
from bench.report.style import strategy_colors, strategy_markers
from bench.schema import Plot

COSTS = ("macs", "params", "activations", "images_per_sec", "wall_seconds", "latency_ms")
DEFAULT_PLOT = Plot()  # the plot section's defaults (frozen, so one instance serves every call)
BAD = {"diverged": "x", "failed": "+"}  # marker on the bottom edge, in the strategy's colour


@dataclass(frozen=True)
class Prepared:
    """What every figure of one report draws from (levels pool the seeds)."""

    points: pd.DataFrame  # the results table, costs numeric, ``top1_pct`` added
    levels: pd.DataFrame  # bench.analysis.levels.summarize_levels
    strategies: list[str]
    sweeps: list[str]
    colors: dict[str, tuple[float, float, float]]
    markers: dict[str, str]
    missing: int = 0
    options: Plot = DEFAULT_PLOT


def prepare(
    data: pd.DataFrame | Prepared, missing: int = 0, options: Plot = DEFAULT_PLOT
) -> Prepared:
    """Pool the table once for all figures (a :class:`Prepared` passes through unchanged)."""
    if isinstance(data, Prepared):
        return data
    points = data.copy()
    if "sweep" not in points:
        points["sweep"] = ""
    for col in ("phi", "top1", "target_macs", *COSTS):
        points[col] = pd.to_numeric(points.get(col), errors="coerce")
    points["top1_pct"] = 100 * points["top1"]
    strategies = strategy_order(points["strategy"].dropna())
    return Prepared(
        points=points,
        levels=summarize_levels(points, options.interval),
        strategies=strategies,
        sweeps=list(dict.fromkeys(points["sweep"])),
        colors=strategy_colors(strategies),
        markers=strategy_markers(strategies),
        missing=missing,
        options=options,
    )


def subset(prep: Prepared, sweeps: list[str]) -> Prepared:
    """The same report restricted to some sweeps (one panel of a by-budget figure); colours
    and markers stay those of the whole report, line styles restart."""
    return replace(
        prep,
        points=prep.points[prep.points["sweep"].isin(sweeps)],
        levels=prep.levels[prep.levels["sweep"].isin(sweeps)],
        sweeps=list(sweeps),
    )


def baseline(frame: pd.DataFrame, column: str) -> float | None:
    """The phi=0 cost, the anchor of budget ticks (from ``target_macs`` / 2**phi for MACs)."""
    if column == "macs" and "target_macs" in frame:
        base = (frame["target_macs"] / 2.0 ** frame["phi"]).dropna()
        if len(base):
            return float(base.min())
    at_zero = frame.loc[(frame["phi"] == 0) & (frame["status"] == "ok"), column].dropna()
    return float(at_zero.median()) if len(at_zero) else None


def bad_points(frame: pd.DataFrame, levels: pd.DataFrame, column: str) -> pd.DataFrame:
    """Diverged/failed points with an x: their own, else their level's, else the MAC target."""
    bad = frame[frame["status"].isin(list(BAD))].copy()
    if bad.empty:
        return bad.assign(x=[])
    level_x = levels.set_index(["sweep", "strategy", "phi"])[column]
    keys = pd.MultiIndex.from_frame(bad[["sweep", "strategy", "phi"]])
    bad["x"] = bad[column].to_numpy()
    bad["x"] = bad["x"].fillna(pd.Series(level_x.reindex(keys).to_numpy(), index=bad.index))
    base = baseline(frame, "macs")
    if column == "macs" and base is not None:
        bad["x"] = bad["x"].fillna(base * 2.0 ** bad["phi"])
    return bad
