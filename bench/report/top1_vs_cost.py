"""Top-1 against a cost, one curve per strategy: EfficientNet's Figure 8 and its relatives.

``top1_vs_macs`` is EfficientNet's Figure 8: top-1 against FLOPs (MACs) on a
log2 axis whose ticks sit at the budget levels (baseline x 2**k). The same
curves are drawn against parameters, activations, training throughput,
wall time and inference latency (batch 1, on the device the sweep trained
on, named in the caption). What a curve, its interval and its marks mean:
:mod:`bench.report.draw` and :mod:`bench.report.flags`; the caption (on the
figure unless ``plot.caption`` is false, and always in ``<name>.txt``) says
what was trained, which interval is shown and what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bench.analysis.text import describe_setup, interval_note, join_values, span
from bench.report.axes import clamp_top1, finish, log_x
from bench.report.draw import bad_handles, draw_bad, draw_curves, legend, strategy_handles
from bench.report.fits import draw_fit_lines
from bench.report.flags import draw_flags
from bench.report.prepared import BAD, Prepared, bad_points, baseline, prepare
from bench.report.style import RC, new_figure
from bench.report.verdicts import mark_winners, winner_handle


@dataclass(frozen=True)
class XAxis:
    """What a top-1-vs-cost figure puts on x."""

    column: str
    label: str
    budget_ticks: bool  # ticks at baseline x 2**k (one per budget level) rather than 1-2-5


AXES = {
    "top1_vs_macs": XAxis("macs", "FLOPs (multiply-adds)", True),
    "top1_vs_params": XAxis("params", "Parameters", True),
    "top1_vs_activations": XAxis("activations", "Activations", True),
    "top1_vs_throughput": XAxis("images_per_sec", "Training throughput (images/s)", False),
    "top1_vs_wall_time": XAxis("wall_seconds", "Training time (s)", False),
    "top1_vs_latency": XAxis("latency_ms", "Latency, batch 1 (ms)", False),
}
FIT_NOTE = "dashed: fit err = a·MACs^−b"


def caption(
    data: pd.DataFrame | Prepared, missing: int = 0, name: str = "top1_vs_macs", fits: bool = False
) -> str:
    """Two short lines: what was trained (model, data, budget, seeds), then what is shown (the
    interval), what is missing (diverged, failed, pending) and, for latency, the device."""
    prep = prepare(data, missing)
    levels = prep.levels
    first = f"{describe_setup(prep.points)} · seeds: {span(levels['n'])}"
    notes = []
    if name == "pareto":
        notes.append("line: Pareto frontier of seed means")
    else:
        kinds = set(levels.loc[levels["n_ok"] > 0, "top1_interval"])
        notes.append(interval_note(kinds, prep.options.interval))
    if name == "top1_vs_latency":
        notes.append(f"latency: median, batch 1, on {device_names(prep.points)}")
    if fits:
        notes.append(FIT_NOTE)
    counts = prep.points["status"].value_counts()
    bad = [f"{counts[s]} {s}" for s in BAD if counts.get(s, 0)]
    if bad:
        notes.append(", ".join(bad) + (" (left out)" if name == "pareto" else " (on the x-axis)"))
    if prep.missing:
        notes.append(f"{prep.missing} pending")
    return first + "\n" + " · ".join(notes)


def device_names(points: pd.DataFrame) -> str:
    """The devices the ok points ran on ("NVIDIA H100 80GB HBM3"), or "an unrecorded device"."""
    ok = points[points["status"] == "ok"] if "status" in points else points
    return join_values(ok, "device_name") or "an unrecorded device"


def has_cost(prep: Prepared, name: str) -> bool:
    """Whether any level has the figure's cost (older results have no latency)."""
    column = AXES[name].column
    return column in prep.levels and bool(prep.levels[column].notna().any())


def plot_top1_vs(
    data: pd.DataFrame | Prepared,
    name: str = "top1_vs_macs",
    missing: int = 0,
    fits: pd.DataFrame | None = None,
    winners: pd.DataFrame | None = None,
) -> Figure:
    """One of :data:`AXES`' figures, not saved: the caller saves and closes it.

    ``data`` is the results table (or :func:`bench.report.prepared.prepare`'s
    result, to pool it once for several figures). Diverged/failed points and
    flagged levels have legend entries; the caption (:func:`caption`) is the
    figure's suptitle when ``plot.caption``. ``fits`` (from
    :func:`bench.report.fits.fit_strategies`) draws dashed fit lines on
    ``top1_vs_macs``; ``winners`` (:func:`bench.analysis.decide.decisions`) rings each level's
    decided winner.
    """
    spec = AXES[name]
    prep = prepare(data, missing)
    fit = fits if name == "top1_vs_macs" else None
    with plt.rc_context(RC):
        text = caption(prep, name=name, fits=fit is not None)
        fig, (ax,) = new_figure(text, prep.options.caption, prep.options.width)
        bad = bad_points(prep.points, prep.levels, spec.column)
        labels = draw_curves(ax, prep, spec.column)
        draw_bad(ax, bad, prep.colors)
        flags = draw_flags(ax, prep.levels, spec.column)
        ringed = winners is not None and mark_winners(ax, prep.levels, winners, spec.column)
        xs = np.concatenate([prep.levels[spec.column].to_numpy(float), bad["x"].to_numpy(float)])
        log_x(ax, xs, baseline(prep.points, spec.column) if spec.budget_ticks else None)
        if fit is not None:
            draw_fit_lines(ax, fit, prep.colors, ax.get_xlim())
        clamp_top1(ax)
        finish(ax, spec.label, labels)
        if not prep.levels["top1_mean"].notna().any():
            ax.text(0.5, 0.5, "no finished points", transform=ax.transAxes, ha="center")
        handles = strategy_handles(prep) + bad_handles(set(bad["status"]))
        legend(fig, handles + ([winner_handle()] if ringed else []), flags)
    return fig
