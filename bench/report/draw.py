"""Drawing levels on a top-1 axes: mean curves, their intervals, failed points, the legend.

A curve is one (sweep, strategy): the level means, following the budget
(sorted by MACs, so a curve against throughput is the same path as against
FLOPs). Around it, the level's interval (``plot.interval``):

- levels with at least three ok seeds: a band (gid ``band``) between the
  interval's ends; a level whose neighbours have none gets a bar instead;
- levels with two ok seeds: no band (a t-interval on two seeds has t = 12.7),
  but each seed's top-1 as a small dot (gid ``seeds``) and their range as a
  bar (gid ``range``);
- levels with one seed: the point alone.

Diverged and failed points are never dropped: an x / + on the bottom edge at
their cost, in their strategy's colour. Flagged levels get the overlays of
:mod:`bench.report.flags`.
"""

from __future__ import annotations

import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench.analysis.stats import MIN_BAND_SEEDS
from bench.report.axes import Label
from bench.report.flags import legend_handles
from bench.report.prepared import BAD, Prepared
from bench.report.style import INK, legend_columns, linestyle


def draw_curves(ax: Axes, prep: Prepared, column: str) -> list[Label]:
    """Mean curve and interval per (sweep, strategy) against ``column``; returns phi labels."""
    labels: list[Label] = []
    for (sweep, strategy), curve in prep.levels.groupby(["sweep", "strategy"], sort=False):
        curve = curve.dropna(subset=[column, "top1_mean"]).sort_values("macs")
        if curve.empty:
            continue
        color = prep.colors[strategy]
        _draw_interval(ax, curve, column, color)
        _draw_seeds(ax, prep.points, curve, column, color)
        x, y = curve[column].to_numpy(float), 100 * curve["top1_mean"].to_numpy(float)
        ax.plot(
            x,
            y,
            color=color,
            marker=prep.markers[strategy],
            markeredgecolor="white",
            linestyle=linestyle(prep.sweeps.index(sweep)),
            markeredgewidth=0.4,
            zorder=3,
            gid="mean",
            label=f"_{sweep}/{strategy}",
        )
        labels += [(xi, yi, phi, color) for xi, yi, phi in zip(x, y, curve["phi"], strict=True)]
    return labels


def _draw_interval(ax: Axes, curve: pd.DataFrame, column: str, color: tuple) -> None:
    """Bands over runs of neighbouring levels that have one; bars for lone levels and ranges."""
    banded = (curve["n_ok"] >= MIN_BAND_SEEDS).to_numpy()
    x = curve[column].to_numpy(float)
    low, high = 100 * curve["top1_low"].to_numpy(float), 100 * curve["top1_high"].to_numpy(float)
    bars = (curve["n_ok"] == MIN_BAND_SEEDS - 1).to_numpy(copy=True)
    start = 0
    while start < len(curve):
        stop = start
        while stop < len(curve) and banded[stop] == banded[start]:
            stop += 1
        if banded[start] and stop - start > 1:
            span = slice(start, stop)
            ax.fill_between(
                x[span], low[span], high[span], color=color, alpha=0.18, linewidth=0, gid="band"
            )
        elif banded[start]:
            bars[start] = True
        start = stop
    if bars.any():
        ax.vlines(x[bars], low[bars], high[bars], colors=[color], linewidth=0.9, alpha=0.7,
                  zorder=2, gid="range")  # fmt: skip


def _draw_seeds(
    ax: Axes, points: pd.DataFrame, curve: pd.DataFrame, column: str, color: tuple
) -> None:
    """Each ok seed of the levels with too few seeds for a band, at its level's cost."""
    few = curve[(curve["n_ok"] > 1) & (curve["n_ok"] < MIN_BAND_SEEDS)]
    if few.empty:
        return
    at = few.set_index(["sweep", "strategy", "phi"])[column]
    ok = points[(points["status"] == "ok") & points["top1_pct"].notna()]
    keys = pd.MultiIndex.from_frame(ok[["sweep", "strategy", "phi"]])
    x = at.reindex(keys).to_numpy(float)
    keep = np.isfinite(x)
    ax.plot(x[keep], ok["top1_pct"].to_numpy(float)[keep], linestyle="none", marker="o",
            markersize=2.2, markerfacecolor="none", markeredgecolor=color, markeredgewidth=0.6,
            zorder=2.5, gid="seeds", label="_seeds")  # fmt: skip


def draw_bad(ax: Axes, bad: pd.DataFrame, colors: dict) -> None:
    """x (diverged) / + (failed) at the point's cost on the bottom edge, in the strategy colour."""
    edge = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    strategies = list(colors)
    for status, marker in BAD.items():
        rows = bad[(bad["status"] == status) & bad["x"].notna()]
        for strategy, group in rows.groupby("strategy", sort=False):
            # nudge sideways by strategy so marks at one level do not hide each other
            dx = (strategies.index(strategy) - (len(strategies) - 1) / 2) * 3 / 72
            shift = mtransforms.ScaledTranslation(dx, 0, ax.figure.dpi_scale_trans)
            ax.plot(group["x"], np.zeros(len(group)), linestyle="none", marker=marker,
                    markersize=5, markeredgewidth=1.1, color=colors[strategy],
                    transform=edge + shift, clip_on=False, zorder=5)  # fmt: skip


def strategy_handles(prep: Prepared) -> list[Line2D]:
    """Legend entries of the strategies (colour and marker) and, when several, the sweeps."""
    handles = [
        Line2D(
            [],
            [],
            color=prep.colors[s],
            marker=prep.markers[s],
            markeredgecolor="white",
            markeredgewidth=0.4,
            label=s,
        )  # fmt: skip
        for s in prep.strategies
    ]
    if len(prep.sweeps) > 1:
        handles += [
            Line2D([], [], color=INK, linestyle=linestyle(i), label=s)
            for i, s in enumerate(prep.sweeps)
        ]
    return handles


def bad_handles(statuses: set) -> list[Line2D]:
    """Legend entries of the diverged/failed marks drawn."""
    return [
        Line2D([], [], color=INK, marker=m, linestyle="none", markersize=5, label=status)
        for status, m in BAD.items()
        if status in statuses
    ]


def legend(fig: Figure, handles: list[Line2D], flags: set[str] = frozenset()) -> None:
    """Legend under the axes, clear of the data: ``handles``, then the flag kinds drawn."""
    handles = handles + legend_handles(set(flags))
    width = fig.get_figwidth() - 0.1
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=legend_columns([h.get_label() for h in handles], width),
        frameon=False,
        handlelength=1.8,
        columnspacing=1.0,
        borderaxespad=0.1,
        labelspacing=0.3,
        handletextpad=0.4,
    )
