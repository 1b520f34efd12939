"""The ranking by budget names a winner only where the paired test decides one."""

from __future__ import annotations

import pandas as pd

from bench.analysis.budget_ranking import rank_by_budget
from bench.report.by_budget import ranking_markdown
from bench.report.prepared import prepare

BUDGETS = {"e2": "2 epochs", "e4": "4 epochs"}
NOISE = (0.0, 0.01, -0.01)  # per seed, shared by every strategy: paired differences cancel it


def table(levels: dict[tuple[str, str], float], seeds=(0, 1, 2), wobble=0.0) -> pd.DataFrame:
    """ok points at phi 1 ((sweep, strategy) -> top-1) and a phi 0 baseline per sweep; seed k
    adds NOISE[k], and ``wobble`` * (-1)**k to the second strategy of each sweep."""
    rows = []
    for sweep, epochs in (("e2", 2.0), ("e4", 4.0)):
        mine = [(s, t) for (w, s), t in levels.items() if w == sweep]
        for i, (strategy, top1) in enumerate([(mine[0][0], 0.5), *mine]):
            for k in seeds:
                shift = NOISE[k] + (wobble * (-1) ** k if i == 2 else 0.0)
                rows.append({"sweep": sweep, "strategy": strategy, "phi": float(i > 0),
                             "seed": k, "status": "ok", "top1": top1 + shift, "epochs": epochs,
                             "budget": "epochs", "model": "tiny", "data": "shapes"})  # fmt: skip
    return pd.DataFrame(rows)


def ranked(points: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    prep = prepare(points)
    ranking = rank_by_budget(prep, BUDGETS)
    return ranking.set_index(["budget", "rank"]), ranking_markdown(prep, ranking)


def test_decided_winners_that_differ_change_between_budgets():
    points = table({("e2", "width"): 0.70, ("e2", "depth"): 0.60, ("e4", "width"): 0.60,
                    ("e4", "depth"): 0.70}, wobble=0.002)  # fmt: skip
    ranking, text = ranked(points)
    assert ranking.loc[("2 epochs", 1), "strategy"] == "width" and ranking["winner"].sum() == 2
    assert ranking.loc[("4 epochs", 1), "verdict"].startswith("winner: ahead of every other")
    assert ranking["winner_changes"].all()
    assert text.rstrip().endswith("The winner changes between budgets at phi = 1 (decided "
                                  "winners, paired test).")  # fmt: skip


def test_one_seed_only_leads_by_mean_and_the_change_is_untested():
    points = table({("e2", "width"): 0.70, ("e2", "depth"): 0.60, ("e4", "width"): 0.60,
                    ("e4", "depth"): 0.70}, seeds=(0,))  # fmt: skip
    ranking, text = ranked(points)
    assert not ranking["winner"].any() and not ranking["winner_changes"].any()
    assert ranking.loc[("2 epochs", 1), "verdict"] == "leads by mean (one seed)"
    assert ranking["leader_changes"].all()
    assert "none: width leads by mean (one seed)" in text
    assert "by mean, untested" in text
    assert text.rstrip().endswith("The leader by mean changes between budgets at phi = 1, "
                                  "untested: no two decided winners differ there.")  # fmt: skip


def test_undecided_and_tied_leads_say_why():
    points = table({("e2", "width"): 0.62, ("e2", "depth"): 0.60, ("e4", "width"): 0.601,
                    ("e4", "depth"): 0.600}, wobble=0.04)  # fmt: skip
    ranking, _ = ranked(points)
    assert ranking.loc[("2 epochs", 1), "verdict"] == "leads by mean (undecided)"
    tied = table({("e2", "width"): 0.601, ("e2", "depth"): 0.600, ("e4", "width"): 0.601,
                  ("e4", "depth"): 0.600}, wobble=0.0005)  # fmt: skip
    ranking, text = ranked(tied)
    assert ranking.loc[("4 epochs", 1), "verdict"] == "leads by mean (tied within the margin)"
    assert not ranking["winner"].any()
    assert "The leader by mean is the same at every budget at every ranked phi" in text


def test_a_strategy_alone_is_not_a_winner():
    points = table({("e2", "width"): 0.70, ("e4", "width"): 0.75})
    ranking, text = ranked(points)
    assert not ranking["winner"].any()
    assert set(ranking["verdict"]) == {"the only strategy at this level (nothing to rank)"}
    assert "none: width alone" in text
