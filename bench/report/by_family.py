"""Model families side by side on one data set: EfficientNet's Figure 1 for your sweeps.

``top1_by_family``: one colour per family (``model``), one marker per
strategy, top-1 against FLOPs on a log axis (round-number ticks: each family
has its own baseline, so budget-level ticks would favour one), and the Pareto
front over every level of every family as a dashed ink step line: which
family, scaled which way, gives the most accuracy per FLOP. Points are level
means; their intervals are in ``top1_vs_macs``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench.analysis.pareto import pareto_front
from bench.analysis.text import describe_budget, join_values, span
from bench.report.axes import clamp_top1, finish, log_x
from bench.report.draw import legend
from bench.report.flags import draw_flags
from bench.report.prepared import Prepared
from bench.report.style import INK, PALETTE, RC, new_figure
from bench.report.top1_vs_cost import AXES

FRONT = {"color": INK, "linestyle": (0, (3, 1.5)), "linewidth": 0.9, "zorder": 4}


def families(prep: Prepared) -> dict[str, str]:
    """Sweep -> its model family (the first model recorded in it)."""
    points = prep.points.dropna(subset=["model"])
    return {s: str(g["model"].iloc[0]) for s, g in points.groupby("sweep", sort=False)}


def family_colors(names: list[str]) -> dict[str, tuple]:
    """A colour per family from the colour-blind palette, in first-seen order."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(names))}


def family_caption(prep: Prepared) -> str:
    """Data and budgets; what colour, marker and the dashed line mean; no interval drawn."""
    points = prep.points
    return (
        f"{join_values(points, 'data')} · {describe_budget(points)} · "
        f"seeds: {span(prep.levels['n'])}\ncolour: model family · marker: strategy · "
        "points: level means (no interval; see top1_vs_macs) · dashed: Pareto front"
    )


def plot_top1_by_family(prep: Prepared) -> Figure:
    """The cross-family figure; not saved (the caller saves and closes it)."""
    of = families(prep)
    colors = family_colors(list(of.values()))
    levels = prep.levels.dropna(subset=["macs", "top1_mean"])
    with plt.rc_context(RC):
        fig, (ax,) = new_figure(family_caption(prep), prep.options.caption, prep.options.width)
        labels = []
        for (sweep, strategy), curve in levels.groupby(["sweep", "strategy"], sort=False):
            curve = curve.sort_values("macs")
            x, y = curve["macs"].to_numpy(float), 100 * curve["top1_mean"].to_numpy(float)
            color = colors[of[sweep]]
            ax.plot(x, y, color=color, marker=prep.markers[strategy], markeredgecolor="white",
                    markeredgewidth=0.4, zorder=3, gid="family")  # fmt: skip
            labels += [(xi, yi, phi, color) for xi, yi, phi in zip(x, y, curve["phi"], strict=True)]
        _draw_front(ax, pareto_front(levels))
        flags = draw_flags(ax, levels, "macs")
        log_x(ax, levels["macs"].to_numpy(float), None)
        clamp_top1(ax)
        finish(ax, AXES["top1_vs_macs"].label, labels)
        legend(fig, _handles(prep, colors), flags)
    return fig


def _draw_front(ax: Axes, front: pd.DataFrame) -> None:
    x, y = front["macs"].to_numpy(float), 100 * front["top1_mean"].to_numpy(float)
    ax.step(x, y, where="post", gid="front", label="_front", **FRONT)


def _handles(prep: Prepared, colors: dict[str, tuple]) -> list[Line2D]:
    handles = [Line2D([], [], color=c, label=name) for name, c in colors.items()]
    handles += [
        Line2D([], [], color=INK, marker=prep.markers[s], linestyle="none", label=s)
        for s in prep.strategies
    ]
    return handles + [Line2D([], [], label="Pareto front", **FRONT)]
