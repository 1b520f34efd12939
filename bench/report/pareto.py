"""Which strategy owns the accuracy/FLOPs frontier: the Pareto front of level means.

Every ok point is drawn faintly; the front of level means (no other level
has fewer MACs and a higher top-1) is a step line, each run coloured by the
level it starts from and each rise by the level it reaches, so the owner of
each stretch of budget reads off the colour. Flagged levels on the front get
the overlays of :mod:`bench.report.flags`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bench.analysis.pareto import pareto_front
from bench.report.axes import Label, finish, log_x
from bench.report.draw import legend, strategy_handles
from bench.report.flags import draw_flags
from bench.report.prepared import Prepared, baseline, prepare
from bench.report.style import RC, linestyle, new_figure
from bench.report.top1_vs_cost import AXES, caption

__all__ = ["pareto_front", "plot_pareto"]


def plot_pareto(data: pd.DataFrame | Prepared, missing: int = 0) -> Figure:
    """All ok points faintly, and the frontier of level means as a step line coloured by owner.

    Not saved: the caller saves and closes it.
    """
    prep = prepare(data, missing)
    with plt.rc_context(RC):
        text = caption(prep, name="pareto")
        fig, (ax,) = new_figure(text, prep.options.caption, prep.options.width)
        points = prep.points
        ok = points[(points["status"] == "ok") & points["top1_pct"].notna()]
        if len(ok):
            sns.scatterplot(data=ok, x="macs", y="top1_pct", hue="strategy", palette=prep.colors,
                            hue_order=prep.strategies, s=6, alpha=0.3, linewidth=0,
                            legend=False, ax=ax)  # fmt: skip
        front = pareto_front(prep.levels)
        labels = _draw_front(ax, front, prep)
        flags = draw_flags(ax, front, "macs")
        log_x(ax, ok["macs"].to_numpy(float), baseline(points, "macs"))
        finish(ax, AXES["top1_vs_macs"].label, labels)
        legend(fig, strategy_handles(prep), flags)
    return fig


def _draw_front(ax: Axes, front: pd.DataFrame, prep: Prepared) -> list[Label]:
    """Step line: each run coloured (and styled, per sweep) by the point it starts from,
    each rise by the point it reaches."""
    colors, markers = prep.colors, prep.markers
    x, y = front["macs"].to_numpy(float), 100 * front["top1_mean"].to_numpy(float)
    owners = list(front["strategy"])
    styles = [linestyle(prep.sweeps.index(s)) for s in front["sweep"]]
    for i in range(len(front) - 1):
        ax.plot([x[i], x[i + 1]], [y[i], y[i]], color=colors[owners[i]], linestyle=styles[i],
                zorder=3)  # fmt: skip
        ax.plot([x[i + 1], x[i + 1]], [y[i], y[i + 1]], color=colors[owners[i + 1]],
                linestyle=styles[i + 1], zorder=3)  # fmt: skip
    labels = []
    for xi, yi, owner, phi in zip(x, y, owners, front["phi"], strict=True):
        ax.plot([xi], [yi], marker=markers[owner], color=colors[owner], markeredgecolor="white",
                markeredgewidth=0.4, markersize=4.5, zorder=4)  # fmt: skip
        labels.append((xi, yi, phi, colors[owner]))
    return labels
