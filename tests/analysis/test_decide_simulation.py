"""The adaptive verdicts on simulated sweeps, through the project's own planner and decisions.

Each simulation is the default adaptive sweep, ``strategy=depth,width,compound seed=0,1,2
decide.max_seeds=5``: 3 strategies at levels phi 1 and 2 plus the phi 0 baseline, seeds 0-2
requested, then one seed per round for every undecided level up to 5 (3 looks), replayed by
:func:`bench.sweep.rounds.plan_rounds` exactly as a sweep replays it, and judged at the end by
:func:`bench.analysis.decide.decisions` and :func:`~bench.analysis.decide.winners` as the report
judges it. Top-1 of a point = a seed effect shared by the level's points (data order) + the
strategy's effect + its own noise, so that a paired difference has sd 1 point (0.01).

To run thousands of levels in seconds, one planner call replays a thousand sweeps at once: a
level is told apart by its phi (1, 2, 3, ... here), its sweep by the table's ``sweep`` column,
which is what decisions pool the noise over and take the baseline from (every sweep gets its
own phi 0 points). Each sweep is thus the default sweep; the planner's jobs are just longer.

Measured with these seeds (rates, not a promise for other seeds): null data, a winner named
at 0.60 % of 2,000 levels (allowed: 5 %); two strategies tied at the top and the third far
behind, the rule's least favourable case, 2.7 % of 1,000 levels (allowed 5 %), and 7.7 % with
every look at the full 5 % (no split over the looks); a 2-point lead, the right winner named at
92.3 % of 2,000 levels by the last look (needed: 90 %), a wrong one at 0.0 %, and 80 % of the
levels stopped before 5 seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.analysis.decide import decisions, winners
from bench.schema import Decide
from bench.sweep.rounds import Job, looks, plan_rounds

STRATEGIES = ("depth", "width", "compound")
SWEEPS = 1000  # of 2 levels each: 2,000 levels
DECIDE = Decide(max_seeds=5)
PAIRED_SD = 0.01  # the sd of a paired difference: 1 point


def jobs_of(sweeps: int) -> list[Job]:
    """The requested jobs: phi 0 and the 2 levels of every sweep, seeds 0-2."""
    phis = range(2 * sweeps + 1)
    return [
        Job((f"strategy={s}", f"phi={p}", f"seed={k}"), s, float(p), k)
        for s in STRATEGIES
        for p in phis
        for k in range(3)
    ]


def simulate(
    effects: dict[str, float], seed: int, n_looks: int | None = None, sweeps: int = SWEEPS
) -> pd.DataFrame:
    """Run the rounds to the end on simulated top-1; each level's named winner ("" if none).

    ``n_looks``: the looks alpha is split over (the planner's own count when None).
    """
    rng = np.random.default_rng(seed)
    shape = (sweeps, 3, 5)  # (sweep, phi 0-2, seed)
    shared = 0.6 + rng.normal(0, 0.02, size=shape)  # data-order noise, cancels when paired
    own = {s: rng.normal(0, PAIRED_SD / np.sqrt(2), size=shape) for s in STRATEGIES}
    jobs = jobs_of(sweeps)
    n_looks = n_looks or looks(jobs, DECIDE.max_seeds)
    columns: dict[str, list] = {c: [] for c in ("sweep", "strategy", "phi", "seed", "top1")}

    def train(strategy: str, phi: float, seed: int) -> None:
        at = [(i, 0) for i in range(sweeps)] if phi == 0 else [divmod(int(phi) - 1, 2)]
        for sweep, level in at:
            level += phi != 0
            effect = effects[strategy] if phi else -0.05
            top1 = shared[sweep, level, seed] + effect + own[strategy][sweep, level, seed]
            for column, value in zip(
                columns, (f"s{sweep}", strategy, phi, seed, top1), strict=True
            ):
                columns[column].append(value)

    def table() -> pd.DataFrame:
        return pd.DataFrame(columns).assign(status="ok")

    for job in jobs:
        train(job.strategy, job.phi, job.seed)
    while True:
        plan = plan_rounds(jobs, table(), DECIDE, n_looks)
        if plan.done:
            break
        for overrides in plan.launch:
            key = dict(o.split("=", 1) for o in overrides)
            train(key["strategy"], float(key["phi"]), int(key["seed"]))
    final = table()
    frame = decisions(final, DECIDE, n_looks)
    named = winners(frame).set_index("phi")["strategy"]
    levels = pd.DataFrame({"phi": np.arange(1, 2 * sweeps + 1, dtype=float)})
    levels["winner"] = levels["phi"].map(named).fillna("")
    seeds = final[final["phi"] > 0].groupby("phi")["seed"].nunique()
    levels["seeds"] = levels["phi"].map(seeds)
    return levels


def test_null_data_names_a_false_winner_at_most_alpha_of_the_time() -> None:
    """All three strategies equal: any named winner is false. 2,000 levels, 3 looks."""
    levels = simulate({s: 0.0 for s in STRATEGIES}, seed=1)
    assert len(levels) == 2000
    assert levels["seeds"].between(3, 5).all() and (levels["seeds"] == 5).mean() > 0.5
    assert (levels["winner"] != "").mean() <= 1 - DECIDE.confidence  # measured 0.60 %


def test_the_least_favourable_case_stays_within_alpha_only_when_alpha_is_split() -> None:
    """Two strategies tied at the top and the third 10 points behind: the rule's worst case
    (decide.py), where any named winner is one of the tied two. Alpha split over the 3 looks
    keeps it under 5 %; each look at the full 5 % does not (so this test can fail). 1,000
    levels each: the two runs together cost what the null test's 2,000 do."""
    effects = {"depth": 0.0, "width": 0.0, "compound": -0.10}
    split = simulate(effects, seed=2, sweeps=500)
    assert split["winner"].isin(["depth", "width"]).mean() <= 0.05  # measured 2.7 %
    assert not split["winner"].eq("compound").any()
    naive = simulate(effects, seed=2, n_looks=1, sweeps=500)
    assert naive["winner"].isin(["depth", "width"]).mean() > 0.06  # measured 7.7 %


def test_a_two_point_lead_is_named_by_the_last_look() -> None:
    """compound 2 points ahead, depth and width tied, paired sd 1 point: the right winner in at
    least 90 % of levels by the last look, a wrong one (almost) never."""
    levels = simulate({"depth": 0.0, "width": 0.0, "compound": 0.02}, seed=3)
    assert (levels["winner"] == "compound").mean() >= 0.90  # measured 93.2 %
    assert levels["winner"].isin(["depth", "width"]).mean() <= 0.002  # measured 0.0 %
    # the ties between the two losers do not keep the rounds going: most levels stop early
    assert (levels["seeds"] < 5).mean() > 0.5  # measured 80 %
