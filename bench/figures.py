"""Paper-ready figures from the results table: top-1 against cost, one curve per strategy.

``top1_vs_macs`` is EfficientNet's Figure 8: top-1 against FLOPs (MACs) on a
log2 axis whose ticks sit at the budget levels (baseline x 2**k). The same
curves are drawn against parameters, activations, training throughput and
wall time, and ``pareto`` shows which strategy owns the accuracy/FLOPs
frontier. Each figure is saved as PNG (200 dpi), PDF and SVG at single-column
size (3.4 x 2.6 in).

Choices that keep the figures honest and comparable:

- a strategy has one colour and one marker in every figure, from a fixed
  order (:func:`strategy_colors`), in seaborn's colour-blind palette;
- curves are the mean over ok seeds per level, with the 95% t-interval as a
  band (the same numbers as the tables' "±");
- diverged and failed points are never dropped: they are drawn as x / +
  on the bottom edge at their cost, in their strategy's colour, and counted
  in the caption line;
- curves follow the budget (sorted by MACs) in every figure, so a curve
  against throughput reads as the same path as against FLOPs.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.transforms as mtransforms  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator  # noqa: E402

from bench.store import atomic_write_bytes  # noqa: E402
from bench.tables import (  # noqa: E402
    STRATEGY_ORDER,
    describe_setup,
    format_count,
    strategy_order,
    summarize_levels,
)

# PDF font subsetting logs every table it prunes at INFO, which Hydra jobs show
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

FIGSIZE = (3.4, 2.6)  # inches: one column of a two-column paper
DPI = 200
FORMATS = ("png", "pdf", "svg")
Y_LABEL = "Top-1 accuracy (%)"


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
}
FIGURE_NAMES = (*AXES, "pareto")

# Palette slots: the known strategies keep theirs whatever else is present; others take the rest.
PALETTE = sns.color_palette("colorblind", 10)
_KNOWN_SLOTS = {s: i for i, s in enumerate(STRATEGY_ORDER)}
_OTHER_SLOTS = (9, 7, 8)  # light blue, grey, yellow: after the seven distinct ones
_MARKERS = ("o", "s", "^", "D", "v", "P", "*", "h", "<", ">", "p")
_LINESTYLES = ("-", "--", ":", "-.")
_BAD = {"diverged": "x", "failed": "+"}  # marker on the bottom edge, in the strategy's colour
_INK = "0.25"

RC = {
    **sns.axes_style("ticks"),
    "font.size": 7,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.titlesize": 7,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.color": "0.9",
    "pdf.fonttype": 42,  # TrueType: editable text, accepted by publishers
    "svg.fonttype": "none",  # text stays text: small, fast, editable
    "svg.hashsalt": "scalebench",  # identical inputs give identical SVGs
}


def _slots(strategies: Iterable[str]) -> dict[str, int]:
    """Known strategies keep their place in STRATEGY_ORDER; others follow in sorted order."""
    ordered = strategy_order(strategies)
    others = {
        s: len(_KNOWN_SLOTS) + i for i, s in enumerate(o for o in ordered if o not in _KNOWN_SLOTS)
    }
    return {s: _KNOWN_SLOTS[s] if s in _KNOWN_SLOTS else others[s] for s in ordered}


def strategy_colors(strategies: Iterable[str]) -> dict[str, tuple[float, float, float]]:
    """Colour per strategy: fixed for the known ones, then sorted others; same in every figure."""
    extra = len(_KNOWN_SLOTS)
    return {
        s: PALETTE[slot if slot < extra else _OTHER_SLOTS[(slot - extra) % len(_OTHER_SLOTS)]]
        for s, slot in _slots(strategies).items()
    }


def strategy_markers(strategies: Iterable[str]) -> dict[str, str]:
    """Marker per strategy (so curves survive greyscale print), assigned like the colours."""
    return {s: _MARKERS[slot % len(_MARKERS)] for s, slot in _slots(strategies).items()}


def caption(data: pd.DataFrame | Prepared, missing: int = 0, pareto: bool = False) -> str:
    """Two short lines: what was trained (model, data, budget, seeds), then what is shown/missing.

    Diverged and failed points are counted here in every figure, so a reader
    knows why a curve stops short.
    """
    prep = prepare(data, missing)
    seeds = prep.levels["n"]
    span = str(seeds.max()) if seeds.min() == seeds.max() else f"{seeds.min()}–{seeds.max()}"
    first = f"{describe_setup(prep.points)} · seeds: {span}"
    if pareto:
        notes = ["line: Pareto frontier of seed means"]
    else:
        notes = ["band: 95% CI"] if (prep.levels["n_ok"] > 1).any() else []
    counts = prep.points["status"].value_counts()
    bad = [f"{counts[s]} {s}" for s in _BAD if counts.get(s, 0)]
    if bad:
        notes.append(", ".join(bad) + (" (left out)" if pareto else " (on the x-axis)"))
    if prep.missing:
        notes.append(f"{prep.missing} pending")
    return first + ("\n" + " · ".join(notes) if notes else "")


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Prepared:
    """What every figure of one report draws from, computed once (levels pool the seeds)."""

    points: pd.DataFrame  # the results table, costs numeric, ``top1_pct`` added
    levels: pd.DataFrame  # bench.tables.summarize_levels
    strategies: list[str]
    sweeps: list[str]
    colors: dict[str, tuple[float, float, float]]
    markers: dict[str, str]
    missing: int = 0


def prepare(data: pd.DataFrame | Prepared, missing: int = 0) -> Prepared:
    """Pool the table once for all figures (a :class:`Prepared` passes through unchanged)."""
    if isinstance(data, Prepared):
        return data
    points = data.copy()
    if "sweep" not in points:
        points["sweep"] = ""
    for col in ("phi", "top1", *(axis.column for axis in AXES.values())):
        points[col] = pd.to_numeric(points.get(col), errors="coerce")
    points["top1_pct"] = 100 * points["top1"]
    strategies = strategy_order(points["strategy"])
    return Prepared(
        points=points,
        levels=summarize_levels(points),
        strategies=strategies,
        sweeps=list(dict.fromkeys(points["sweep"])),
        colors=strategy_colors(strategies),
        markers=strategy_markers(strategies),
        missing=missing,
    )


def _baseline(frame: pd.DataFrame, column: str) -> float | None:
    """The phi=0 cost, the anchor of budget ticks (from ``target_macs`` / 2**phi for MACs)."""
    if column == "macs" and "target_macs" in frame:
        target = pd.to_numeric(frame["target_macs"], errors="coerce")
        base = (target / 2.0 ** frame["phi"]).dropna()
        if len(base):
            return float(base.min())
    at_zero = frame.loc[(frame["phi"] == 0) & (frame["status"] == "ok"), column].dropna()
    return float(at_zero.median()) if len(at_zero) else None


def _bad_points(frame: pd.DataFrame, levels: pd.DataFrame, column: str) -> pd.DataFrame:
    """Diverged/failed points with an x: their own, else their level's, else the MAC target."""
    bad = frame[frame["status"].isin(list(_BAD))].copy()
    if bad.empty:
        return bad.assign(x=[])
    level_x = levels.set_index(["sweep", "strategy", "phi"])[column]
    keys = pd.MultiIndex.from_frame(bad[["sweep", "strategy", "phi"]])
    bad["x"] = bad[column].to_numpy()
    bad["x"] = bad["x"].fillna(pd.Series(level_x.reindex(keys).to_numpy(), index=bad.index))
    base = _baseline(frame, "macs")
    if column == "macs" and base is not None:
        bad["x"] = bad["x"].fillna(base * 2.0 ** bad["phi"])
    return bad


# ---------------------------------------------------------------- axes


def _budget_ticks(lo: float, hi: float, anchor: float) -> list[float]:
    k_lo, k_hi = math.floor(math.log2(lo / anchor)), math.ceil(math.log2(hi / anchor))
    step = max(1, math.ceil((k_hi - k_lo + 1) / 7))
    return [anchor * 2.0**k for k in range(k_lo - k_lo % step, k_hi + 1, step)]


def _round_ticks(lo: float, hi: float) -> list[float]:
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


def _log_x(ax: plt.Axes, values: np.ndarray, anchor: float | None) -> None:
    """Log2 x-axis padded around the data, ticks at budget levels or round numbers, SI labels."""
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return
    lo, hi = values.min() / 2**0.3, values.max() * 2**0.3
    ax.set_xscale("log", base=2)
    ax.set_xlim(lo, hi)
    ticks = _budget_ticks(lo, hi, anchor) if anchor else _round_ticks(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator([t for t in ticks if lo <= t <= hi]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_count(v, 2)))
    ax.xaxis.set_minor_locator(NullLocator())


def _style(sweep_index: int) -> str:
    return _LINESTYLES[sweep_index % len(_LINESTYLES)]


# ---------------------------------------------------------------- drawing


Label = tuple[float, float, float, tuple]  # x, y, phi, colour


def _draw_curves(ax: plt.Axes, prep: Prepared, column: str) -> list[Label]:
    """Mean curve + CI band per (sweep, strategy), following the budget; returns phi labels."""
    labels: list[Label] = []
    for (sweep, strategy), curve in prep.levels.groupby(["sweep", "strategy"], sort=False):
        curve = curve.dropna(subset=[column, "top1_mean"]).sort_values("macs")
        if curve.empty:
            continue
        x, y, hw = curve[column].to_numpy(), 100 * curve["top1_mean"], 100 * curve["top1_hw"]
        color = prep.colors[strategy]
        ax.fill_between(x, y - hw, y + hw, color=color, alpha=0.18, linewidth=0)
        ax.plot(
            x,
            y,
            color=color,
            marker=prep.markers[strategy],
            markeredgecolor="white",
            linestyle=_style(prep.sweeps.index(sweep)),
            markeredgewidth=0.4,
            zorder=3,
        )
        labels += [(xi, yi, phi, color) for xi, yi, phi in zip(x, y, curve["phi"], strict=True)]
    return labels


def _finish(ax: plt.Axes, xlabel: str, labels: list[Label]) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(Y_LABEL)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    _place_labels(ax, labels)
    sns.despine(ax=ax)


def _place_labels(ax: plt.Axes, labels: list[Label]) -> None:
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


def _draw_bad(ax: plt.Axes, bad: pd.DataFrame, colors: dict) -> None:
    """x (diverged) / + (failed) at the point's cost on the bottom edge, in the strategy colour."""
    edge = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    strategies = list(colors)
    for status, marker in _BAD.items():
        rows = bad[(bad["status"] == status) & bad["x"].notna()]
        for strategy, group in rows.groupby("strategy", sort=False):
            # nudge sideways by strategy so marks at one level do not hide each other
            dx = (strategies.index(strategy) - (len(strategies) - 1) / 2) * 3 / 72
            shift = mtransforms.ScaledTranslation(dx, 0, ax.figure.dpi_scale_trans)
            ax.plot(
                group["x"],
                np.zeros(len(group)),
                linestyle="none",
                marker=marker,
                markersize=5,
                markeredgewidth=1.1,
                color=colors[strategy],
                transform=edge + shift,
                clip_on=False,
                zorder=5,
            )


def _legend(fig: Figure, prep: Prepared, bad: set) -> None:
    """Legend under the axes, clear of the data: strategies, sweeps (if several), then
    diverged/failed (if any)."""
    handles = [
        Line2D(
            [],
            [],
            color=prep.colors[s],
            marker=prep.markers[s],
            markeredgecolor="white",
            markeredgewidth=0.4,
            label=s,
        )
        for s in prep.strategies
    ]
    if len(prep.sweeps) > 1:
        handles += [
            Line2D([], [], color=_INK, linestyle=_style(i), label=s)
            for i, s in enumerate(prep.sweeps)
        ]
    handles += [
        Line2D([], [], color=_INK, marker=m, linestyle="none", markersize=5, label=status)
        for status, m in _BAD.items()
        if status in bad
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=_legend_columns(handles),
        frameon=False,
        handlelength=1.8,
        columnspacing=1.0,
        borderaxespad=0.1,
        labelspacing=0.3,
        handletextpad=0.4,
    )


def _legend_columns(handles: list[Line2D], width: float = FIGSIZE[0] - 0.1) -> int:
    """The most columns (up to 4) whose estimated width fits the figure: long strategy names
    (a searched ``compound_tiny_shapes``) get fewer columns instead of a clipped legend."""
    labels = [h.get_label() for h in handles]
    char, entry = 0.58 * 7 / 72, 0.32  # inches: a character at 7 pt; handle and spacing
    for ncols in range(min(4, len(labels)), 1, -1):
        columns = np.array_split(np.array([len(label) for label in labels]), ncols)  # as Legend
        if sum(entry + char * col.max() for col in columns) <= width:
            return ncols
    return 1


def _new_figure(text: str) -> tuple[Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    fig.suptitle(text, fontsize=6.5, color=_INK, linespacing=1.3)
    return fig, ax


def plot_top1_vs(
    data: pd.DataFrame | Prepared, name: str = "top1_vs_macs", missing: int = 0
) -> Figure:
    """One of :data:`AXES`' figures, not saved: the caller saves (:func:`save_figure`) and closes.

    ``data`` is the results table (or :func:`prepare`'s result, to pool it
    once for several figures). Diverged/failed points appear as markers with
    "diverged"/"failed" legend entries and a count in the caption
    (``fig.get_suptitle()``).
    """
    spec = AXES[name]
    prep = prepare(data, missing)
    with plt.rc_context(RC):
        fig, ax = _new_figure(caption(prep))
        bad = _bad_points(prep.points, prep.levels, spec.column)
        labels = _draw_curves(ax, prep, spec.column)
        _draw_bad(ax, bad, prep.colors)
        xs = np.concatenate([prep.levels[spec.column].to_numpy(float), bad["x"].to_numpy(float)])
        _log_x(ax, xs, _baseline(prep.points, spec.column) if spec.budget_ticks else None)
        _finish(ax, spec.label, labels)
        if not prep.levels["top1_mean"].notna().any():
            ax.text(0.5, 0.5, "no finished points", transform=ax.transAxes, ha="center")
        _legend(fig, prep, set(bad["status"]))
    return fig


def pareto_front(levels: pd.DataFrame) -> pd.DataFrame:
    """Levels not dominated in (lower MACs, higher mean top-1), by MACs; ties keep the first.

    A level is dominated when another has no more MACs and no less top-1,
    and is strictly better in one of them.
    """
    ok = levels.dropna(subset=["macs", "top1_mean"])
    ok = ok.sort_values(["macs", "top1_mean"], ascending=[True, False], kind="stable")
    best, keep = -math.inf, []
    for index, top1 in ok["top1_mean"].items():
        if top1 > best:
            keep.append(index)
            best = top1
    return ok.loc[keep]


def plot_pareto(data: pd.DataFrame | Prepared, missing: int = 0) -> Figure:
    """All ok points faintly, and the frontier of level means as a step line coloured by owner.

    Not saved: the caller saves (:func:`save_figure`) and closes it.
    """
    prep = prepare(data, missing)
    with plt.rc_context(RC):
        fig, ax = _new_figure(caption(prep, pareto=True))
        points = prep.points
        ok = points[(points["status"] == "ok") & points["top1_pct"].notna()]
        if len(ok):
            sns.scatterplot(
                data=ok,
                x="macs",
                y="top1_pct",
                hue="strategy",
                palette=prep.colors,
                hue_order=prep.strategies,
                s=6,
                alpha=0.3,
                linewidth=0,
                legend=False,
                ax=ax,
            )
        labels = _draw_front(ax, pareto_front(prep.levels), prep)
        _log_x(ax, ok["macs"].to_numpy(float), _baseline(points, "macs"))
        _finish(ax, AXES["top1_vs_macs"].label, labels)
        _legend(fig, prep, set())
    return fig


def _draw_front(ax: plt.Axes, front: pd.DataFrame, prep: Prepared) -> list[Label]:
    """Step line: each run coloured (and styled, per sweep) by the point it starts from,
    each rise by the point it reaches."""
    colors, markers = prep.colors, prep.markers
    x, y = front["macs"].to_numpy(float), 100 * front["top1_mean"].to_numpy(float)
    owners = list(front["strategy"])
    styles = [_style(prep.sweeps.index(s)) for s in front["sweep"]]
    for i in range(len(front) - 1):
        ax.plot(
            [x[i], x[i + 1]], [y[i], y[i]], color=colors[owners[i]], linestyle=styles[i], zorder=3
        )
        ax.plot(
            [x[i + 1], x[i + 1]],
            [y[i], y[i + 1]],
            color=colors[owners[i + 1]],
            linestyle=styles[i + 1],
            zorder=3,
        )
    labels = []
    for xi, yi, owner, phi in zip(x, y, owners, front["phi"], strict=True):
        ax.plot(
            [xi],
            [yi],
            marker=markers[owner],
            color=colors[owner],
            markeredgecolor="white",
            markeredgewidth=0.4,
            markersize=4.5,
            zorder=4,
        )
        labels.append((xi, yi, phi, colors[owner]))
    return labels


def save_figure(fig: Figure, out_dir: Path, name: str) -> list[Path]:
    """Write ``name.png`` (200 dpi), ``.pdf`` and ``.svg`` atomically; returns their paths.

    The layout is settled first and then frozen (the figure's layout engine
    is removed), so the three files show the same layout.
    """
    paths = []
    with plt.rc_context(RC):
        for _ in range(2):  # constrained layout settles in two passes
            fig.draw_without_rendering()
        fig.set_layout_engine("none")
        for fmt in FORMATS:
            buffer = io.BytesIO()
            # no creation date: the same results give byte-identical PDF/SVG files
            metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt)
            fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
            path = Path(out_dir) / f"{name}.{fmt}"
            atomic_write_bytes(path, buffer.getvalue())
            paths.append(path)
    return paths


def build_figures(table: pd.DataFrame, out_dir: Path, missing: int = 0) -> dict[str, list[Path]]:
    """Every figure in :data:`FIGURE_NAMES`, saved in all formats, each closed after saving.

    ``missing`` (point folders without a result yet) is said in the captions.
    """
    prep = prepare(table, missing)
    figures = {}
    for name in FIGURE_NAMES:
        fig = plot_pareto(prep) if name == "pareto" else plot_top1_vs(prep, name)
        try:
            figures[name] = save_figure(fig, out_dir, name)
        finally:
            plt.close(fig)
    return figures
