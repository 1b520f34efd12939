"""The compute frontier: which (strategy, phi) gives the best top-1 at each training budget.

Sweeps that differ only in the training budget (:func:`bench.report.compare.compare`)
put every point on one axis, its training FLOPs (``train_flops``, 6 x MACs x
samples). Levels pool the seeds of one (sweep, strategy, phi). A strategy's
*envelope* is its levels that beat every cheaper level of the same strategy
(the best it offers at that compute); the *frontier* is the same over all
strategies. Where the strategy with the best envelope changes along the axis is
a *crossover* ("from about 3e14 training FLOPs, width overtakes depth"): the
compute-optimal question of Bello et al. (2021) and of the scaling-law papers.
Training FLOPs within :data:`SAME_BUDGET` of each other count as one budget:
the points planned for one budget differ by their networks' rounding (up to
``plan.tolerance``), and a leader that changes inside that spread is noise of
the rounding, not a crossover. Each crossover says the two top-1s and how
many seeds they pool, since one seed's lead may be within seed noise.

Writes ``figures/compute_frontier.*`` and ``tables/frontier.{csv,md}``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bench.report.levels import strategy_order
from bench.report.prepared import Prepared
from bench.report.style import RC, Y_LABEL, new_figure, save_and_close
from bench.report.text import budget_label
from bench.store import atomic_write_text

FRONTIER_COLUMNS = [
    "train_flops", "strategy", "phi", "top1", "on_frontier", "on_envelope", "top1_mean",
    "budget", "epochs", "seed", "sweep",
]  # fmt: skip


def frontier_levels(points: pd.DataFrame, budgets: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per (sweep, strategy, phi) of ok points: mean ``train_flops`` and ``top1``, the
    seed count, the budget label, and ``on_envelope`` / ``on_frontier`` flags."""
    ok = points[points["status"] == "ok"].copy()
    for col in ("train_flops", "top1", "epochs", "phi"):
        ok[col] = pd.to_numeric(ok.get(col), errors="coerce")
    ok = ok.dropna(subset=["train_flops", "top1"])
    keys = ["sweep", "strategy", "phi"]
    levels = ok.groupby(keys, sort=False).agg(
        train_flops=("train_flops", "mean"),
        top1=("top1", "mean"),
        epochs=("epochs", "mean"),
        n=("top1", "size"),
    )
    levels = levels.reset_index()
    labels = budgets or {s: budget_label(ok[ok["sweep"] == s]) for s in levels["sweep"].unique()}
    levels["budget"] = levels["sweep"].map(labels)
    levels = levels.sort_values(["train_flops", "top1"], ascending=[True, False], kind="stable")
    levels["on_envelope"] = False
    for _, rows in levels.groupby("strategy", sort=False):
        levels.loc[envelope_index(rows), "on_envelope"] = True
    levels["on_frontier"] = False
    levels.loc[envelope_index(levels), "on_frontier"] = True
    return levels.reset_index(drop=True)


def envelope_index(levels: pd.DataFrame) -> pd.Index:
    """The rows (sorted by compute) whose top-1 beats every row of less or equal compute."""
    ordered = levels.sort_values("train_flops", kind="stable")
    top1 = ordered["top1"].to_numpy(float)
    before = np.maximum.accumulate(np.concatenate([[-np.inf], top1]))[:-1]
    return ordered.index[top1 > before]


def best_by_strategy(levels: pd.DataFrame, at: float) -> dict[str, float]:
    """Each strategy's best top-1 among its levels of at most ``at`` training FLOPs."""
    cheap = levels[levels["train_flops"] <= at]
    return cheap.groupby("strategy")["top1"].max().to_dict()


SAME_BUDGET = 1.1  # training FLOPs within this ratio of a budget's first are that budget


def budget_steps(flops: pd.Series) -> list[tuple[float, float]]:
    """The distinct budgets along the axis: (first, last) training FLOPs of each run of values
    within :data:`SAME_BUDGET` of the run's first."""
    steps: list[tuple[float, float]] = []
    for value in sorted(set(flops.astype(float))):
        if steps and value <= steps[-1][0] * SAME_BUDGET:
            steps[-1] = (steps[-1][0], value)
        else:
            steps.append((value, value))
    return steps


def crossovers(levels: pd.DataFrame) -> list[dict[str, object]]:
    """Where the leading strategy changes from one budget to the next (:func:`budget_steps`):
    ``train_flops`` (the budget's first), ``leader`` and ``previous`` with their best top-1
    so far and its seed count; a tie keeps the current leader."""
    order = strategy_order(levels["strategy"])
    leader, found = None, []
    for first, last in budget_steps(levels["train_flops"]):
        best = best_by_strategy(levels, last)
        top = max(best.values())
        tied = [s for s in order if best.get(s) == top]
        if leader in tied:
            continue
        if leader is not None:
            cheap = levels[levels["train_flops"] <= last]
            seeds = [_seeds_of_best(cheap, s) for s in (tied[0], leader)]
            found.append({"train_flops": first, "leader": tied[0], "previous": leader, "top1": top,
                          "previous_top1": best[leader], "seeds": min(seeds)})  # fmt: skip
        leader = tied[0]
    return found


def _seeds_of_best(levels: pd.DataFrame, strategy: str) -> int:
    mine = levels[levels["strategy"] == strategy]
    return int(mine.loc[mine["top1"].idxmax(), "n"])


def crossover_lines(levels: pd.DataFrame) -> list[str]:
    """The crossovers in words, or one line saying the leader never changes."""
    found = crossovers(levels)
    if levels.empty:
        return ["no compute frontier: no finished point recorded its training FLOPs"]
    if not found:
        order = strategy_order(levels["strategy"])
        best = best_by_strategy(levels, float(levels["train_flops"].max()))
        leader = max(order, key=lambda s: best.get(s, -1))
        return [f"{leader} is best at every training budget measured (no crossover)"]
    return [
        f"from about {about(c['train_flops'])} training FLOPs, "
        f"{c['leader']} overtakes {c['previous']} ({100 * c['top1']:.1f} % against "
        f"{100 * c['previous_top1']:.1f} %, {_seeds(c['seeds'])})"
        for c in found
    ]


def _seeds(n: object) -> str:
    return "one seed" if n == 1 else f"means of {n} seeds"


def about(flops: float) -> str:
    """3.5e14: two significant digits, no plus sign, no trailing zeros."""
    mantissa, exponent = f"{flops:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def frontier_table(points: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """tables/frontier.csv: every ok point (each seed), with its level's flags and mean."""
    ok = points[points["status"] == "ok"][["sweep", "strategy", "phi", "seed", "top1"]]
    flags = levels[
        ["sweep", "strategy", "phi", "train_flops", "top1", "on_envelope", "on_frontier",
         "budget", "epochs"]
    ].rename(columns={"top1": "top1_mean"})  # fmt: skip
    ok = ok.assign(phi=pd.to_numeric(ok["phi"]), top1=pd.to_numeric(ok["top1"]))
    table = ok.merge(flags, on=["sweep", "strategy", "phi"], how="inner")
    return table.sort_values(["train_flops", "strategy", "seed"], kind="stable")[
        FRONTIER_COLUMNS
    ].reset_index(drop=True)


def frontier_markdown(levels: pd.DataFrame, lines: list[str]) -> str:
    """tables/frontier.md: the frontier's levels, then the crossovers in words."""
    rows = levels[levels["on_frontier"]]
    out = [
        "Compute frontier: the best top-1 reached with at most each training compute "
        "(levels pool seeds).",
        "",
        "| Training FLOPs | Strategy | φ | Budget | Top-1 (%) | Seeds |",
        "|---:|:---|---:|:---|---:|---:|",
    ]
    for _, r in rows.iterrows():
        out.append(
            f"| {r['train_flops']:.3g} | {r['strategy']} | {r['phi']:g} | {r['budget']} | "
            f"{100 * r['top1']:.1f} | {int(r['n'])} |"
        )
    return "\n".join([*out, "", *(f"- {line}" for line in lines), ""])


def plot_frontier(prep: Prepared, levels: pd.DataFrame, lines: list[str]) -> Figure:
    """Every point against its training FLOPs, each strategy's envelope, the overall frontier
    and the crossovers (dotted verticals); not saved (the caller closes it)."""
    points = prep.points[prep.points["status"] == "ok"]
    with plt.rc_context(RC):
        options = prep.options
        text = frontier_caption(levels, lines, best(prep))
        fig, (ax,) = new_figure(text, options.caption, options.width)
        for strategy in strategy_order(levels["strategy"]):
            color, marker = prep.colors[strategy], prep.markers[strategy]
            mine = points[points["strategy"] == strategy]
            x = pd.to_numeric(mine["train_flops"], errors="coerce")
            ax.scatter(x, 100 * mine["top1"], color=color, marker=marker, s=8, alpha=0.45, lw=0)
            env = levels[(levels["strategy"] == strategy) & levels["on_envelope"]]
            ax.plot(env["train_flops"], 100 * env["top1"], color=color, marker=marker,
                    label=strategy, drawstyle="steps-post")  # fmt: skip
        front = levels[levels["on_frontier"]]
        ax.plot(front["train_flops"], 100 * front["top1"], color="k", lw=2.2, alpha=0.25,
                drawstyle="steps-post", label="frontier", zorder=0)  # fmt: skip
        for c in crossovers(levels):
            ax.axvline(c["train_flops"], color="0.4", ls=":", lw=0.8)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: about(v)))
        ax.xaxis.set_minor_formatter(NullFormatter())  # a short axis labels its minor ticks
        ax.set_xlabel("Training FLOPs (6 × MACs × samples)")
        ax.set_ylabel(Y_LABEL)
        ax.legend(frameon=False)
    return fig


def frontier_caption(levels: pd.DataFrame, lines: list[str], best: bool = False) -> str:
    """What the frontier figure shows (``best``: at each point's best test side), and its
    crossovers in short (the figure's width; ``lines`` says them in full)."""
    budgets = ", ".join(dict.fromkeys(levels.sort_values("epochs")["budget"].dropna()))
    tested = " · top-1 at each point's best test resolution" if best else ""
    found = crossovers(levels)
    shown = [f"from {about(c['train_flops'])}: {c['leader']} overtakes {c['previous']}"
             for c in found[:CAPTION_CROSSOVERS]] or lines[:1]  # fmt: skip
    if len(found) > len(shown):
        shown.append(f"{len(found) - len(shown)} more in tables/frontier.md")
    return (
        f"Compute frontier · budgets: {budgets}{tested} · faint marks: every seed · lines: each "
        f"strategy's envelope (best so far) · grey: overall frontier · dotted: crossovers\n"
        + " · ".join(shown)
    )


CAPTION_CROSSOVERS = 2  # crossovers the figure's caption spells out (the table has them all)


def best(prep: Prepared) -> bool:
    """Whether top-1 is each point's at its best test side (``plot.test_resolution=best``)."""
    return "top1_tested_at" in prep.points


def write_frontier(
    prep: Prepared, budgets: dict[str, str], out_dir: Path
) -> tuple[dict[str, Path], list[Path], list[str], pd.DataFrame]:
    """Write tables/frontier.{csv,md} and figures/compute_frontier.*; return the table paths,
    the figure paths, the crossover lines and the levels (for the fits)."""
    levels = frontier_levels(prep.points, budgets)
    lines = crossover_lines(levels)
    tables = Path(out_dir) / "tables"
    paths = {"frontier_csv": tables / "frontier.csv", "frontier_markdown": tables / "frontier.md"}
    table = frontier_table(prep.points, levels)
    atomic_write_text(paths["frontier_csv"], table.to_csv(index=False))
    atomic_write_text(paths["frontier_markdown"], frontier_markdown(levels, lines))
    fig = plot_frontier(prep, levels, lines)
    text = frontier_caption(levels, lines, best(prep))
    out = Path(out_dir) / "figures"
    figures = save_and_close(fig, out, "compute_frontier", prep.options.formats, text)
    return paths, figures, lines, levels
