"""Axes of the top-1 figures: log cost axes with meaningful ticks, phi labels, the y label.

Costs span powers of two (a budget level doubles the MACs), so x is log2,
padded around the data, with ticks at the budget levels (baseline x 2**k)
where the cost follows the budget, and at round 1-2-5 numbers otherwise;
labels use SI suffixes (2.6M).
"""

from __future__ import annotations

import math

import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from bench.analysis.text import format_count
from bench.report.style import Y_LABEL

Label = tuple[float, float, float, tuple]  # x, y, phi, colour


def budget_ticks(lo: float, hi: float, anchor: float) -> list[float]:
    """Ticks at anchor x 2**k inside [lo, hi], at most about seven."""
    k_lo, k_hi = math.floor(math.log2(lo / anchor)), math.ceil(math.log2(hi / anchor))
    step = max(1, math.ceil((k_hi - k_lo + 1) / 7))
    return [anchor * 2.0**k for k in range(k_lo - k_lo % step, k_hi + 1, step)]


def round_ticks(lo: float, hi: float) -> list[float]:
    """At least three round numbers (1-2-5, else finer) inside [lo, hi]."""
    ticks: list[float] = []
    for mantissas in ((1, 2, 5), (1, 1.5, 2, 3, 5, 7)):
        ticks = [
            m * 10.0**e
            for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
            for m in mantissas
            if lo <= m * 10.0**e <= hi
        ]
        if len(ticks) >= 3:
            return ticks
    return ticks


def log_x(ax: Axes, values: np.ndarray, anchor: float | None) -> None:
    """Log2 x-axis padded around the data, ticks at budget levels or round numbers, SI labels."""
    values = np.asarray(values, float)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return
    lo, hi = values.min() / 2**0.3, values.max() * 2**0.3
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo, hi)
    ticks = budget_ticks(lo, hi, anchor) if anchor else round_ticks(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator([t for t in ticks if lo <= t <= hi]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_count(v, 2)))
    ax.xaxis.set_minor_locator(NullLocator())


def finish(ax: Axes, xlabel: str, labels: list[Label], ylabel: str = Y_LABEL) -> None:
    """Axis labels, y ticks, phi labels (once the limits are final) and no top/right spines."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    place_labels(ax, labels)
    sns.despine(ax=ax)


def place_labels(ax: Axes, labels: list[Label]) -> None:
    """Small phi labels by the markers, once the limits are final; a label that would touch
    one already placed is left out (levels line up in x, so a neighbour's label names it)."""
    ax.set_xlim(ax.get_xlim())
    ax.set_ylim(ax.get_ylim())
    scale = ax.figure.dpi / 72
    placed: list[tuple[float, float]] = []
    for x, y, phi, color in labels:
        px, py = ax.transData.transform((x, y))
        if any(abs(px - qx) < 9 * scale and abs(py - qy) < 6 * scale for qx, qy in placed):
            continue
        placed.append((px, py))
        ax.annotate(
            f"{phi:g}",
            (x, y),
            xytext=(2.5, -6.5),
            textcoords="offset points",
            fontsize=6,
            color=color,
            zorder=4,
        )


def clamp_top1(ax: Axes) -> None:
    """Keep the y-axis inside [0, 100] %: no accuracy, and no interval, lies outside it."""
    low, high = ax.get_ylim()
    ax.set_ylim(max(0.0, low), min(100.0, high))
