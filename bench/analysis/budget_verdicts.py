"""The ranking by budget's words: a winner where the paired test decides one, "leads by mean"
elsewhere, and what changes between budgets (:mod:`bench.analysis.budget_ranking`).

A level here is one phi of one sweep (one budget). Its winner is
:func:`bench.analysis.decide.winners`' (the strategy that wins its paired comparison
with every other strategy of the level); without one, the strategy ranked first
by mean "leads by mean" and the words say why nothing is decided: one seed (no
paired comparison has two seeds), tied within ``decide.margin``, or undecided.
"""

from __future__ import annotations

import pandas as pd

from bench.analysis.decide import winners

ONLY = "the only strategy at this level (nothing to rank)"
WINS = "winner: ahead of every other strategy (paired test)"


def level_verdict(ranked: pd.DataFrame, decisions: pd.DataFrame) -> tuple[str, str]:
    """(decided winner or "", the words for the rank-1 strategy) of one level: ``ranked`` is its
    levels, best mean first; ``decisions`` every level's
    (:func:`bench.analysis.decide.decisions`)."""
    if len(ranked) == 1:
        return "", ONLY
    sweep, phi = ranked["sweep"].iloc[0], float(ranked["phi"].iloc[0])
    pairs = decisions
    if len(decisions):
        here = (decisions["sweep"] == sweep) & (decisions["phi"] == phi)
        pairs = decisions[here & (decisions["kind"] == "pair")]
    found = winners(pairs) if len(pairs) else pd.DataFrame(columns=["strategy"])
    leader = str(ranked["strategy"].iloc[0])
    if len(found):
        winner = str(found["strategy"].iloc[0])
        other = f"leads by mean, but the paired test decides for {winner}"
        return winner, WINS if winner == leader else other
    if not len(pairs) or pairs["seeds"].max() < 2:
        return "", "leads by mean (one seed)"
    ours = pairs[(pairs["strategy"] == leader) | (pairs["versus"] == leader)]
    if (ours["winner"] == "tie").any():
        return "", "leads by mean (tied within the margin)"
    return "", "leads by mean (undecided)"


def mean_order_changes(ranking: pd.DataFrame) -> pd.Series:
    """Per phi: whether the leader by mean differs between budgets (untested)."""
    leaders = ranking[ranking["leader"]]
    return leaders.groupby("phi")["strategy"].nunique() > 1


def winner_cell(first: pd.Series, winner: str) -> str:
    """The Markdown's winner cell for a level: the decided winner, or who leads by mean and why
    not decided (``first``: the level's rank-1 row)."""
    if winner:
        return winner
    if first["verdict"] == ONLY:
        return f"none: {first['strategy']} alone"
    return f"none: {first['strategy']} {first['verdict']}"


def changes_cell(first: pd.Series) -> str:
    """ "yes" between decided winners, "by mean, untested" when only the leader by mean changes."""
    if first["winner_changes"]:
        return "yes"
    return "by mean, untested" if first["leader_changes"] else "no"


def verdict_lines(ranking: pd.DataFrame) -> list[str]:
    """The closing sentences: where the decided winner changes, where only the leader by mean
    does, or that neither does."""
    if ranking.empty:
        return ["No level to rank."]
    phis = ranking.groupby("phi").first()
    tested = [p for p, r in phis.iterrows() if r["winner_changes"]]
    by_mean = [p for p, r in phis.iterrows() if r["leader_changes"] and not r["winner_changes"]]
    lines = []
    if tested:
        lines.append(f"The winner changes between budgets at phi = {_phis(tested)} (decided "
                     "winners, paired test).")  # fmt: skip
    if by_mean:
        lines.append(f"The leader by mean changes between budgets at phi = {_phis(by_mean)}, "
                     "untested: no two decided winners differ there.")  # fmt: skip
    if lines:
        return lines
    decided = ranking[ranking["leader"]]["winner"].all()
    if decided:
        return ["The winner is the same at every budget at every ranked phi (paired test)."]
    return ["The leader by mean is the same at every budget at every ranked phi (not every "
            "level decided)."]  # fmt: skip


def _phis(values: list[float]) -> str:
    return ", ".join(f"{p:g}" for p in values)
