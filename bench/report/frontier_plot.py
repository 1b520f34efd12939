"""The compute-frontier figure: every point against its training FLOPs, each series' envelope,
the overall frontier, the changes of leader and the flagged levels (:mod:`bench.report.frontier`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bench.analysis.frontier_leaders import (
    BASELINE,
    about,
    crossovers,
    label,
    named,
    series_order,
)
from bench.report.flags import draw_flags, legend_handles
from bench.report.prepared import Prepared
from bench.report.style import RC, Y_LABEL, new_figure

BASELINE_STYLE = ("0.3", "X")  # colour and marker of the baseline series (no strategy's)
TESTED, BY_MEAN = "0.3", "0.75"  # the verticals' grey: a tested crossover, a change by mean
CAPTION_CROSSOVERS = 2  # crossovers the figure's caption spells out (the table has them all)


def plot_frontier(
    prep: Prepared, levels: pd.DataFrame, steps: list[dict[str, object]], lines: list[str]
) -> Figure:
    """Every point against its training FLOPs, each series' envelope, the overall frontier, the
    changes of leader (dotted verticals) and flagged levels; not saved (the caller closes it)."""
    from bench.analysis.frontier import series_points

    points = series_points(prep.points)
    with plt.rc_context(RC):
        options = prep.options
        text = frontier_caption(levels, steps, lines, "top1_tested_at" in prep.points)
        fig, (ax,) = new_figure(text, options.caption, options.width)
        for series in series_order(levels["strategy"]):
            color, marker = _style(prep, series)
            mine = points[points["series"] == series]
            ax.scatter(mine["train_flops"], 100 * mine["top1"], color=color, marker=marker, s=8,
                       alpha=0.45, lw=0)  # fmt: skip
            env = levels[(levels["strategy"] == series) & levels["on_envelope"]]
            ax.plot(env["train_flops"], 100 * env["top1"], color=color, marker=marker,
                    label=label(series), drawstyle="steps-post")  # fmt: skip
        front = levels[levels["on_frontier"]]
        ax.plot(front["train_flops"], 100 * front["top1"], color="k", lw=2.2, alpha=0.25,
                drawstyle="steps-post", label="frontier", zorder=0)  # fmt: skip
        for c in crossovers(steps):
            ax.axvline(c["train_flops"], color=TESTED if c["decided"] else BY_MEAN, ls=":", lw=0.8)
        drawn = draw_flags(ax, levels.rename(columns={"top1": "top1_mean"}), "train_flops")
        _axes(ax)
        handles, _ = ax.get_legend_handles_labels()
        ax.legend(handles=handles + legend_handles(drawn), frameon=False)
    return fig


def _style(prep: Prepared, series: str) -> tuple[object, str]:
    if series == BASELINE:
        return BASELINE_STYLE
    return prep.colors[series], prep.markers[series]


def _axes(ax: Axes) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: about(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())  # a short axis labels its minor ticks
    ax.set_xlabel("Training FLOPs (6 × MACs × samples)")
    ax.set_ylabel(Y_LABEL)


def frontier_caption(
    levels: pd.DataFrame, steps: list[dict[str, object]], lines: list[str], best: bool = False
) -> str:
    """What the frontier figure shows (``best``: at each point's best test side), and its
    changes of leader in short (the figure's width; ``lines`` says them in full)."""
    budgets = ", ".join(dict.fromkeys(levels.sort_values("epochs")["budget"].dropna()))
    tested = " · top-1 at each point's best test resolution" if best else ""
    found = crossovers(steps)
    shown = [_short(c) for c in found[:CAPTION_CROSSOVERS]] or lines[:1]
    if len(found) > len(shown):
        shown.append(f"{len(found) - len(shown)} more in tables/frontier.md")
    return (
        f"Compute frontier · budgets: {budgets}{tested} · faint marks: every seed · lines: "
        "each series' envelope (best so far) · grey X: the φ 0 baseline, its own series · "
        "grey band: overall frontier · dotted: changes of leader · dark: decided by the paired "
        "test · light: by mean, untested or undecided\n" + " · ".join(shown)
    )


def _short(c: dict[str, object]) -> str:
    verb = "overtakes" if c["decided"] else "leads by mean over"
    leader = named(c["leader"], c["leader_budget"])
    previous = named(c["previous"], c["previous_budget"])
    return f"from {about(c['train_flops'])}: {leader} {verb} {previous}"
