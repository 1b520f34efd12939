"""The compute frontier: which (strategy, phi) gives the best top-1 at each training budget.

Sweeps that differ only in the training budget (:func:`bench.report.compare.compare`)
put every point on one axis, its training FLOPs (``train_flops``, 6 x MACs x
samples). Levels pool the seeds of one (sweep, series, phi), where a *series* is a
strategy (its phi != 0 levels) or the phi = 0 baseline, which every strategy shares
and which is its own series at each budget ("baseline trained longer"), never a
strategy's point. A series' *envelope* is its levels that beat every cheaper level
of the same series (the best it offers at that compute); the *frontier* is the same
over all series. Who leads at each budget, whether a paired test decides it, and
the *crossovers* where the leader changes ("from about 3e14 training FLOPs, width
overtakes depth": the compute-optimal question of Bello et al. (2021) and of the
scaling-law papers) are :mod:`bench.report.frontier_leaders`'.

Every table says its points' flags (:func:`bench.report.flags.flag_text`): a level
still improving, not above chance or off its MAC target is counted in words.

Writes ``figures/compute_frontier.*`` and ``tables/frontier.{csv,md}``,
``tables/frontier_leaders.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.report.flags import count_flags, counted
from bench.report.frontier_leaders import (
    BASELINE,
    BASELINE_LABEL,
    about,
    budget_steps,
    crossover_lines,
    crossovers,
    label,
    leader_rows,
    leader_steps,
)
from bench.report.prepared import Prepared
from bench.report.style import save_and_close
from bench.report.text import budget_label
from bench.schema import Decide
from bench.store import atomic_write_text

__all__ = ["about", "budget_steps", "crossover_lines", "crossovers", "frontier_levels"]

FRONTIER_COLUMNS = [
    "train_flops", "strategy", "phi", "top1", "on_frontier", "on_envelope", "top1_mean",
    "budget", "epochs", "seed", "sweep", "series", "flags",
]  # fmt: skip
KEYS = ["sweep", "strategy", "phi"]  # a level; ``strategy`` is its series


def series_points(points: pd.DataFrame) -> pd.DataFrame:
    """The ok points with numeric ``train_flops`` and ``top1``, and their ``series``: the
    strategy, or :data:`BASELINE` at phi = 0, where one row per (sweep, seed) is kept (every
    strategy's phi = 0 point is the same training)."""
    ok = points[points["status"] == "ok"].copy()
    for col in ("train_flops", "top1", "epochs", "phi"):
        ok[col] = pd.to_numeric(ok.get(col), errors="coerce")
    ok = ok.dropna(subset=["train_flops", "top1"])
    base = ok["phi"] == 0
    ok["series"] = ok["strategy"].where(~base, BASELINE)
    return ok[~(base & ok.duplicated(["sweep", "series", "phi", "seed"]))]


def frontier_levels(points: pd.DataFrame, budgets: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per (sweep, series, phi) of ok points (``strategy`` holds the series, so phi = 0
    is one :data:`BASELINE` level per sweep): mean ``train_flops`` and ``top1``, the seed count
    ``n``, the budget label, the flag counts and ``flags`` in words, and ``on_envelope`` /
    ``on_frontier``."""
    ok = series_points(points).assign(strategy=lambda f: f["series"])
    levels = ok.groupby(KEYS, sort=False).agg(
        train_flops=("train_flops", "mean"),
        top1=("top1", "mean"),
        epochs=("epochs", "mean"),
        n=("top1", "size"),
    )
    levels = levels.join(count_flags(ok, KEYS)).reset_index()
    levels["flags"] = [counted(row) for _, row in levels.iterrows()]
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


def frontier_table(points: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """tables/frontier.csv: every ok point (each seed, each strategy's copy of the baseline),
    with its series, and its level's mean, envelope and frontier marks and flags."""
    ok = points[points["status"] == "ok"][["sweep", "strategy", "phi", "seed", "top1"]]
    ok = ok.assign(phi=pd.to_numeric(ok["phi"]), top1=pd.to_numeric(ok["top1"]))
    ok["series"] = ok["strategy"].where(ok["phi"] != 0, BASELINE)
    marks = levels[
        ["sweep", "strategy", "phi", "train_flops", "top1", "on_envelope", "on_frontier",
         "budget", "epochs", "flags"]
    ].rename(columns={"top1": "top1_mean", "strategy": "series"})  # fmt: skip
    table = ok.merge(marks, on=["sweep", "series", "phi"], how="inner")
    return table.sort_values(["train_flops", "strategy", "seed"], kind="stable")[
        FRONTIER_COLUMNS
    ].reset_index(drop=True)


def frontier_markdown(levels: pd.DataFrame, leaders: pd.DataFrame, lines: list[str]) -> str:
    """tables/frontier.md: the frontier's levels, the leader at each budget, the crossovers."""
    out = [FRONTIER_CAPTION, "", "| Training FLOPs | Strategy | φ | Budget | Top-1 (%) | Seeds | "
           "Flags |", "|---:|:---|---:|:---|---:|---:|:---|"]  # fmt: skip
    for _, r in levels[levels["on_frontier"]].iterrows():
        out.append(
            f"| {r['train_flops']:.3g} | {label(r['strategy'])} | {r['phi']:g} | {r['budget']} "
            f"| {100 * r['top1']:.1f} | {int(r['n'])} | {r['flags'] or '—'} |"
        )
    out += [
        "",
        LEADERS_CAPTION,
        "",
        LEADERS_HEADER,
        "|---:|:---|---:|:---|---:|---:|---:|:---|:---|",
    ]
    for _, r in leaders.iterrows():
        out.append(
            f"| {_span(r)} | {label(r['leader'])} | {r['phi']:g} | {r['budget']} | "
            f"{100 * r['top1']:.1f} | {r['seeds']} | {r['n_series']} | {r['verdict']} | "
            f"{r['flags'] or '—'} |"
        )
    return "\n".join([*out, "", *(f"- {line}" for line in lines), ""])


LEADERS_HEADER = (
    "| Training FLOPs | Leader | φ | Budget | Top-1 (%) | Seeds | Series | Verdict | Flags |"
)


def _span(row: pd.Series) -> str:
    first, last = row["train_flops"], row["train_flops_last"]
    return f"{first:.3g}" if first == last else f"{first:.3g}–{last:.3g}"


FRONTIER_CAPTION = (
    "Compute frontier: the best top-1 reached with at most each training compute (levels pool "
    f"seeds). φ 0 is the shared baseline, its own series ({BASELINE_LABEL}), never a strategy's "
    "point. Flags: the level's ok seeds still improving, not above chance or off their MAC "
    "target, counted."
)
LEADERS_CAPTION = (
    "Leader at each training budget (training FLOPs within 1.1x of a budget's first are that "
    "budget): each series offers its best level so far by mean, and the best of those leads by "
    'mean. Verdict: "decided" when bench.report.decide\'s paired t-test (seeds paired across '
    "budgets, Holm over the budget's comparisons) puts the leader ahead of every other series; it "
    "assumes roughly normal paired differences and independent seeds, and does not correct for "
    'choosing each series\' level by mean on the same seeds. Otherwise "leads by mean" and why '
    "not (one seed, undecided, tied within the margin). Series: how many were compared. Flags: "
    "the leader's level's, counted."
)


def write_frontier(
    prep: Prepared,
    budgets: dict[str, str],
    out_dir: Path,
    decide: Decide | None = None,
    looks: int = 1,
) -> tuple[dict[str, Path], list[Path], list[str], pd.DataFrame]:
    """Write tables/frontier.{csv,md}, tables/frontier_leaders.csv and figures/compute_frontier.*;
    return the table paths, the figure paths, the crossover lines and the levels (for the fits).
    ``decide`` and ``looks``: the sweep's decide settings (:func:`bench.report.decide.settings`)."""
    from bench.report.frontier_plot import frontier_caption, plot_frontier

    levels = frontier_levels(prep.points, budgets)
    steps = leader_steps(levels, series_points(prep.points), decide, looks)
    lines, leaders = crossover_lines(levels, steps), leader_rows(steps)
    tables = Path(out_dir) / "tables"
    paths = {"frontier_csv": tables / "frontier.csv", "frontier_markdown": tables / "frontier.md"}
    paths["frontier_leaders_csv"] = tables / "frontier_leaders.csv"
    table = frontier_table(prep.points, levels)
    atomic_write_text(paths["frontier_csv"], table.to_csv(index=False))
    atomic_write_text(paths["frontier_markdown"], frontier_markdown(levels, leaders, lines))
    atomic_write_text(paths["frontier_leaders_csv"], leaders.to_csv(index=False))
    fig = plot_frontier(prep, levels, steps, lines)
    text = frontier_caption(levels, steps, lines, "top1_tested_at" in prep.points)
    out = Path(out_dir) / "figures"
    figures = save_and_close(fig, out, "compute_frontier", prep.options.formats, text)
    return paths, figures, lines, levels
