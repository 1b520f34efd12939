"""The compute frontier: which (strategy, phi) gives the best top-1 at each training budget.

Sweeps that differ only in the training budget (:func:`bench.analysis.compare.compare`)
put every point on one axis, its training FLOPs (``train_flops``, 6 x MACs x
samples). Levels pool the seeds of one (sweep, series, phi), where a *series* is a
strategy (its phi != 0 levels) or the phi = 0 baseline, which every strategy shares
and which is its own series at each budget ("baseline trained longer"), never a
strategy's point. A series' *envelope* is its levels that beat every cheaper level
of the same series (the best it offers at that compute); the *frontier* is the same
over all series. Who leads at each budget, whether a paired test decides it, and
the *crossovers* where the leader changes ("from about 3e14 training FLOPs, width
overtakes depth": the compute-optimal question of Bello et al. (2021) and of the
scaling-law papers) are :mod:`bench.analysis.frontier_leaders`'.

Every table says its points' flags (:func:`bench.analysis.flags.flag_text`): a level
still improving, not above chance or off its MAC target is counted in words.

:mod:`bench.report.frontier` writes ``figures/compute_frontier.*`` and
``tables/frontier.{csv,md}``, ``tables/frontier_leaders.csv`` from these numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.analysis.flags import count_flags, counted
from bench.analysis.frontier_leaders import (
    BASELINE,
    about,
    budget_steps,
    crossover_lines,
    crossovers,
)
from bench.analysis.text import budget_label

__all__ = [
    "FRONTIER_COLUMNS", "KEYS", "about", "budget_steps", "crossover_lines", "crossovers",
    "envelope_index", "frontier_levels", "frontier_table", "series_points",
]  # fmt: skip

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
