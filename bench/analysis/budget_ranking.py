"""The ranking by budget in numbers: per phi level and budget, the strategies ranked by mean
top-1, the leader by mean, the tested winner and whether either changes between budgets.

For sweeps that :func:`bench.analysis.compare.compare` finds differ only in the training
budget (Bello et al. 2021: which way of scaling wins depends on how long networks train).
phi = 0 is one baseline shared by every strategy, so it is not ranked. A winner is a tested
one, :func:`bench.analysis.decide.winners`' (paired by seed, Holm over the level's
comparisons); elsewhere the rank-1 strategy only "leads by mean", and the words of each case
are :mod:`bench.analysis.budget_verdicts`'. :mod:`bench.report.by_budget` draws the by-budget
figure and writes ``ranking_by_budget.{csv,md}`` from this table.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from bench.analysis.budget_verdicts import level_verdict, mean_order_changes
from bench.analysis.decide import decisions as decide_all
from bench.analysis.flags import marks


class Pooled(Protocol):
    """What the ranking reads of a prepared report (:class:`bench.report.prepared.Prepared`):
    its points and their levels (:func:`bench.analysis.levels.summarize_levels`)."""

    @property
    def points(self) -> pd.DataFrame: ...

    @property
    def levels(self) -> pd.DataFrame: ...


RANKING_COLUMNS = [
    "phi", "budget", "sweep", "rank", "strategy", "top1_mean", "top1_low", "top1_high",
    "interval", "n_ok", "flags", "winner", "margin", "winner_changes", "leader", "verdict",
    "leader_changes",
]  # fmt: skip


def budget_order(points: pd.DataFrame, budgets: dict[str, str]) -> list[str]:
    """The sweeps, equal-epochs budgets first, then by epochs (shortest first)."""

    def key(sweep: str) -> tuple[bool, float]:
        rows = points[points["sweep"] == sweep]
        epochs = pd.to_numeric(rows["epochs"], errors="coerce").median()
        return bool((rows["budget"] == "flops").any()), float(np.nan_to_num(epochs, nan=np.inf))

    return sorted(budgets, key=key)


def rank_by_budget(
    prep: Pooled, budgets: dict[str, str], decisions: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The ranking table (:data:`RANKING_COLUMNS`), top-1 as fractions; one row per strategy
    ranked at a (phi, budget), phi ascending, budgets in :func:`budget_order`. ``decisions``:
    :func:`bench.analysis.decide.decisions` of the same table (computed with the default
    settings when not given). ``winner``: the decided winner's row; ``leader``: rank 1 by mean;
    ``verdict`` (on the leader's row): why it is or is not the winner."""
    if decisions is None:
        decisions = decide_all(prep.points)
    order = budget_order(prep.points, budgets)
    levels = prep.levels[(prep.levels["n_ok"] > 0) & (prep.levels["phi"] != 0)]
    rows = []
    for phi in sorted(levels["phi"].unique()):
        for sweep in order:
            here = levels[(levels["phi"] == phi) & (levels["sweep"] == sweep)]
            ranked = here.sort_values("top1_mean", ascending=False, kind="stable")
            rows += _ranked_rows(ranked, budgets[sweep], decisions)
    frame = pd.DataFrame(rows, columns=RANKING_COLUMNS[:-1])
    winners = frame[frame["winner"]].groupby("phi")["strategy"].nunique()
    frame["winner_changes"] = frame["phi"].isin(winners.index[winners > 1])
    changes = mean_order_changes(frame)
    frame["leader_changes"] = frame["phi"].isin(changes.index[changes])
    return frame[RANKING_COLUMNS]


def _ranked_rows(ranked: pd.DataFrame, budget: str, decisions: pd.DataFrame) -> list[dict]:
    """The rows of one (phi, budget), best mean first, with the level's tested verdict."""
    means = ranked["top1_mean"].to_numpy(float)
    margin = means[0] - means[1] if len(means) > 1 else np.nan
    winner, words = level_verdict(ranked, decisions)
    rows = []
    for rank, (_, lv) in enumerate(ranked.iterrows(), start=1):
        rows.append({
            "phi": lv["phi"], "budget": budget, "sweep": lv["sweep"], "rank": rank,
            "strategy": lv["strategy"], "top1_mean": lv["top1_mean"],
            "top1_low": lv["top1_low"], "top1_high": lv["top1_high"],
            "interval": lv["top1_interval"], "n_ok": int(lv["n_ok"]), "flags": marks(lv),
            "winner": lv["strategy"] == winner, "margin": margin if rank == 1 else np.nan,
            "winner_changes": False, "leader": rank == 1, "verdict": words if rank == 1 else "",
        })  # fmt: skip
    return rows
