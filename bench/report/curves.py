"""Learning curves: held-out top-1 and training loss against epochs, per strategy and level.

The top-1-vs-FLOPs figure shows where each point ended; this one shows how it
got there, so a reader can see whether a point had settled when its budget ran
out (:func:`bench.train.diagnostics.still_improving` says the same in words) or
never learned at all. One column per strategy (top-1 above, training loss
below), one colour per phi on a sequential map (the same phi has the same
colour in every panel), one thin line per seed. The phi=0 baseline is shared
by every strategy, so it is drawn in every column. Failed points have no
history and are only counted in the caption; a diverged point's curve stops
where it diverged, marked with an x.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bench.analysis.levels import strategy_order
from bench.report.style import FORMATS, INK, RC, WIDTHS, Y_LABEL, save_and_close

NAME = "learning_curves"
WIDE = WIDTHS["double"]  # inches: for more than two strategies, whatever plot.width says
PANEL_HEIGHT = 1.45  # inches per row of panels
LOSS_LABEL = "Training loss"
X_LABEL = "Epoch"
COLORMAP = "viridis"
COLOR_SPAN = (0.0, 0.85)  # the map's light yellow end is too faint on white

Result = Mapping[str, Any]


def learning_curves(
    results: Sequence[Result],
    out_dir: Path,
    formats: Sequence[str] = FORMATS,
    caption: bool = True,
    width: str = "single",
) -> list[Path]:
    """Draw :func:`plot_learning_curves` and save it as ``learning_curves.<format>`` with its
    caption in ``learning_curves.txt``.

    ``out_dir`` is the sweep's ``figures`` folder; the figure is closed after
    saving. Returns the paths written.
    """
    fig = plot_learning_curves(results, caption=caption, width=width)
    return save_and_close(fig, Path(out_dir), NAME, formats, _caption(results))


def plot_learning_curves(
    results: Sequence[Result], caption: bool = True, width: str = "single"
) -> Figure:
    """The learning-curve figure for result.json dicts, not saved (the caller saves and closes).

    Axes are ``fig.axes`` row by row: the top-1 panels of every strategy (in
    :func:`bench.analysis.levels.strategy_order`), then their training-loss panels.
    Each seed's curve is a ``Line2D`` labelled ``"phi=<phi> seed=<seed>"``. The
    figure is ``width``'s column wide, two columns for more than two strategies;
    ``caption`` puts the caption on it.
    """
    drawable = [
        r
        for r in results
        if r.get("status") != "failed" and _history(r) and math.isfinite(_value(r.get("phi")))
    ]
    strategies = strategy_order(str(r["strategy"]) for r in drawable) or [""]
    phis = sorted({float(r["phi"]) for r in drawable})
    colors = _phi_colors(phis)
    inches = WIDE if len(strategies) > 2 else WIDTHS[width]
    with plt.rc_context(RC):
        fig, axes = plt.subplots(
            2,
            len(strategies),
            figsize=(inches, 2 * PANEL_HEIGHT + 0.7),
            sharex=True,
            sharey="row",
            squeeze=False,
            layout="constrained",
        )
        if caption:
            fig.suptitle(_caption(results), fontsize=6.5, color=INK)
        for column, strategy in enumerate(strategies):
            top, bottom = axes[0, column], axes[1, column]
            for result in _panel_results(drawable, strategy):
                _draw_point(top, bottom, result, colors[float(result["phi"])])
            top.set_title(strategy or "no learning curves")
            bottom.set_xlabel(X_LABEL)
        _finish(axes)
        if phis:
            _legend(fig, phis, colors)
    return fig


def _history(result: Result) -> list[Mapping[str, Any]]:
    history = result.get("history")
    return [e for e in history if isinstance(e, Mapping)] if isinstance(history, list) else []


def _panel_results(drawable: Sequence[Result], strategy: str) -> list[Result]:
    """The strategy's own points, plus the phi=0 baseline when it has none of its own.

    Every strategy's phi=0 is one shared training; a strategy whose sweep
    recorded it under another strategy's name borrows that one (one per seed).
    """
    own = [r for r in drawable if r["strategy"] == strategy]
    if any(float(r["phi"]) == 0 for r in own):
        return own
    baseline: dict[Any, Result] = {}
    for result in drawable:
        if float(result["phi"]) == 0:
            baseline.setdefault(result.get("seed"), result)
    return list(baseline.values()) + own


def _draw_point(top: plt.Axes, bottom: plt.Axes, result: Result, color: Any) -> None:
    """One seed's curves; a diverged point gets an x where its curve stops."""
    history = _history(result)
    epochs = np.array([_value(e.get("epoch")) for e in history])
    order = np.argsort(epochs)  # NaN epochs last
    top1 = 100 * np.array([_value(e.get("top1")) for e in history])
    loss = np.array([_value(e.get("train_loss")) for e in history])
    label = f"phi={float(result['phi']):g} seed={result.get('seed')}"
    for ax, values in ((top, top1), (bottom, loss)):
        x, y = epochs[order], values[order]
        keep = np.isfinite(x) & np.isfinite(y)
        ax.plot(x[keep], y[keep], color=color, linewidth=0.8, alpha=0.9, label=label)
        if result.get("status") == "diverged" and keep.any():
            ax.plot(x[keep][-1:], y[keep][-1:], "x", color=color, markersize=4)


NARROW = 4.0  # a loss range narrower than this factor stays linear: a log axis would have
# one or two labelled ticks over it


def _finish(axes: np.ndarray) -> None:
    axes[0, 0].set_ylabel(Y_LABEL)
    axes[1, 0].set_ylabel(LOSS_LABEL)
    losses = [y for ax in axes[1] for line in ax.get_lines() for y in line.get_ydata()]
    if losses and min(losses) > 0 and max(losses) / min(losses) >= NARROW:
        axes[1, 0].set_yscale("log")  # shared by the row: a loss still falling late stays visible
        axes[1, 0].yaxis.set_major_formatter(FuncFormatter(_loss_tick))
        axes[1, 0].yaxis.set_minor_formatter(FuncFormatter(_loss_tick))
    for ax in axes.flat:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        sns.despine(ax=ax)


def _loss_tick(value: float, _: Any) -> str:
    """Plain numbers at 1, 2 and 5 times a power of ten (0.2, 0.5, 1, 2): no 2x10^0 labels."""
    if value <= 0:
        return ""
    mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
    return f"{value:g}" if mantissa in (1, 2, 5) else ""


def _phi_colors(phis: Sequence[float]) -> dict[float, tuple[float, ...]]:
    """A colour per phi level from a sequential map: darker is cheaper, lighter is bigger."""
    cmap = plt.get_cmap(COLORMAP)
    lo, hi = COLOR_SPAN
    spots = np.linspace(lo, hi, len(phis)) if len(phis) > 1 else [lo] * len(phis)
    return {phi: tuple(cmap(float(x))) for phi, x in zip(phis, spots, strict=True)}


def _legend(fig: Figure, phis: Sequence[float], colors: Mapping[float, Any]) -> None:
    handles = [Line2D([], [], color=colors[phi], label=f"{phi:g}") for phi in phis]
    fig.legend(
        handles=handles,
        title="phi",
        loc="outside right center",
        frameon=False,
        handlelength=1.5,
        labelspacing=0.3,
        handletextpad=0.4,
    )


def _caption(results: Sequence[Result]) -> str:
    """What the lines are, and how many points could not be drawn."""
    text = "held-out top-1 and training loss per evaluation · one line per seed"
    missing = sum(1 for r in results if r.get("status") == "failed" or not _history(r))
    if missing:
        text += f"\n{missing} point{'' if missing == 1 else 's'} without a history (not drawn)"
    return text


def _value(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number
