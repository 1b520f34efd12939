"""Paired decisions on synthetic results with known answers: a clear winner, a tie, pure noise,
one seed; the pooled noise and its degrees of freedom; a level decided by its leader alone;
intervals agree with their p-values; the flags of the points compared; the seeds-needed
estimate. The false-winner rate and the power of the adaptive procedure are in
test_decide_simulation.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers.fake_results import make_result

from bench.analysis.decide import (
    ADDED,
    COLUMNS,
    EXTRAS,
    additive_fit,
    decisions,
    level_decided,
    seeds_needed,
    t_test,
    winners,
)
from bench.schema import Decide
from bench.train.record import csv_row


def table_of(top1: dict[tuple[str, float, int], float]) -> pd.DataFrame:
    """The flat results table of ok points with the given top-1, one sweep."""
    rows = [csv_row(make_result(s, phi, seed, top1=v)) for (s, phi, seed), v in top1.items()]
    return pd.DataFrame(rows).assign(sweep="sw")


def synthetic(
    effects: dict[str, float], seeds: int, noise: float, rng: np.random.Generator
) -> dict[tuple[str, float, int], float]:
    """phi 0 (shared) and phi 1 points: seed noise shared by every strategy (paired), plus a
    small per-point noise, plus each strategy's effect at phi 1."""
    out = {}
    for seed in range(seeds):
        base = 0.70 + rng.normal(0, 0.02)  # data-order noise, the same for every strategy
        for strategy, effect in effects.items():
            out[(strategy, 0.0, seed)] = base
            out[(strategy, 1.0, seed)] = base + effect + rng.normal(0, noise)
    return out


def row(frame: pd.DataFrame, strategy: str, versus: str) -> pd.Series:
    (found,) = frame[(frame["strategy"] == strategy) & (frame["versus"] == versus)].index
    return frame.loc[found]


def test_a_clear_winner_is_decided_and_named() -> None:
    rng = np.random.default_rng(1)
    frame = decisions(table_of(synthetic({"depth": 0.0, "width": 0.05}, 4, 0.003, rng)))
    assert list(frame.columns) == COLUMNS + EXTRAS + ADDED
    pair = row(frame, "width", "depth")
    assert pair["seeds"] == 4 and pair["decided"] and pair["winner"] == "width"
    assert 0 < pair["low"] <= pair["diff"] <= pair["high"]
    assert pair["diff"] == pytest.approx(0.05, abs=0.01)
    assert pair["p_value"] < 0.05
    assert row(frame, "width", "baseline")["winner"] == "width"
    assert winners(frame)[["phi", "strategy"]].values.tolist() == [[1.0, "width"]]
    assert level_decided(frame).tolist() == [True]


def test_the_pairing_cancels_seed_noise() -> None:
    """Seed noise (2 points) ten times the effect's noise: unpaired it would hide a 3-point gap."""
    rng = np.random.default_rng(2)
    frame = decisions(table_of(synthetic({"depth": 0.0, "width": 0.03}, 3, 0.002, rng)))
    assert row(frame, "width", "depth")["winner"] == "width"


def test_a_tie_is_decided_within_the_margin() -> None:
    rng = np.random.default_rng(3)
    effects = {"depth": 0.0, "width": 0.0005}
    frame = decisions(table_of(synthetic(effects, 5, 0.0005, rng)), Decide(margin=0.01))
    pair = row(frame, "width", "depth")
    assert pair["decided"] and pair["winner"] == "tie"
    assert -0.01 <= pair["low"] <= pair["high"] <= 0.01
    assert winners(frame).empty  # a tie names no winner on the figure


def test_noise_larger_than_the_margin_is_undecided_with_an_estimate() -> None:
    rng = np.random.default_rng(4)
    frame = decisions(table_of(synthetic({"depth": 0.0, "width": 0.0}, 3, 0.02, rng)))
    pair = row(frame, "width", "depth")
    assert not pair["decided"] and pair["winner"] == ""
    assert pair["low"] < 0 < pair["high"]
    assert pair["seeds_needed"] > 3
    assert level_decided(frame).tolist() == [False]


def test_one_seed_decides_nothing() -> None:
    top1 = {("depth", 0.0, 0): 0.7, ("depth", 1.0, 0): 0.70, ("width", 1.0, 0): 0.90}
    top1[("width", 0.0, 0)] = 0.7
    frame = decisions(table_of(top1))
    pair = row(frame, "width", "depth")
    assert pair["seeds"] == 1 and not pair["decided"] and pair["winner"] == ""
    assert pair["diff"] == pytest.approx(0.2)
    assert math.isnan(pair["low"]) and math.isnan(pair["p_value"])


def test_pure_noise_gives_false_verdicts_near_the_nominal_rate() -> None:
    """300 levels (one sweep each) of two equal strategies, 3 seeds: a winner is a false verdict
    (rate <= 5 %, give or take the simulation's own noise)."""
    rng = np.random.default_rng(5)
    rows = [
        {"sweep": f"s{level}", "strategy": strategy, "phi": 1.0, "seed": seed, "status": "ok",
         "top1": 0.7 + (rng.normal(0, 0.02) if strategy == "width" else 0.0)}
        for level in range(300) for seed in range(3) for strategy in ("depth", "width")
    ]  # fmt: skip
    frame = decisions(pd.DataFrame(rows))
    assert len(frame) == 300
    assert frame["winner"].isin(["width", "depth"]).mean() < 0.09


def test_intervals_agree_with_p_values_pairs_at_one_level_baselines_by_holm() -> None:
    rng = np.random.default_rng(6)
    effects = {"depth": 0.0, "width": 0.02, "resolution": 0.01, "compound": 0.025}
    frame = decisions(table_of(synthetic(effects, 4, 0.008, rng)))
    testable = frame[frame["seeds"] >= 2]
    excludes_zero = (testable["low"] > 0) | (testable["high"] < 0)
    assert (excludes_zero == (testable["p_value"] < 0.05)).all()
    pairs, baseline = testable[testable["kind"] == "pair"], testable[testable["kind"] == "baseline"]
    # the leader must beat each other strategy: no split over its comparisons (decide.py)
    assert np.allclose(pairs["confidence"], 0.95)
    assert (pairs["df"] == 3 * 3).all()  # 4 strategies, 4 seeds: (4 - 1)(4 - 1)
    # Holm over the 4 baseline comparisons: the first step is Bonferroni
    assert baseline["confidence"].max() == pytest.approx(1 - 0.05 / 4)
    assert (baseline["df"] == 3).all()  # their own paired differences


def test_the_noise_is_pooled_over_the_strategies_of_the_sweep() -> None:
    """Two levels of 3 strategies at 5 seeds: the two-way residuals give (3-1)(5-1) = 8 df a
    level, 16 over the sweep; decide.pool=level keeps each level's own."""
    rng = np.random.default_rng(8)
    top1 = synthetic({"depth": 0.0, "width": 0.01, "compound": 0.02}, 5, 0.007, rng)
    top1 |= {(s, 2.0, k): v + 0.01 + rng.normal(0, 0.007) for (s, p, k), v in top1.items() if p}
    frame = decisions(table_of(top1))
    pairs = frame[frame["kind"] == "pair"]
    assert (pairs["df"] == 16).all() and pairs["sd"].nunique() == 1
    wide = {p: np.array([[top1[(s, p, k)] for k in range(5)] for s in effects_of(top1)])
            for p in (1.0, 2.0)}  # fmt: skip
    rss = sum(((x - x.mean(1, keepdims=True) - x.mean(0) + x.mean()) ** 2).sum() for x in
              wide.values())  # fmt: skip
    assert pairs["sd"].iloc[0] == pytest.approx(np.sqrt(2 * rss / 16))
    one = pairs.iloc[0]
    from scipy.stats import t

    half = t.ppf(0.975, 16) * one["sd"] / np.sqrt(5)
    assert (one["low"], one["high"]) == pytest.approx((one["diff"] - half, one["diff"] + half))
    own = decisions(table_of(top1), Decide(pool="level"))
    assert (own[own["kind"] == "pair"]["df"] == 8).all()
    assert own[own["kind"] == "pair"].groupby("phi")["sd"].nunique().eq(1).all()


def effects_of(top1: dict) -> list[str]:
    return list(dict.fromkeys(s for s, _, _ in top1))


def test_a_level_is_decided_by_its_leader_even_when_the_others_are_not() -> None:
    """compound 4 points ahead of depth and width, which differ by a noisy 0.5: the leader's
    comparisons decide the level (the issue's case: ties among the others kept rounds going)."""
    rng = np.random.default_rng(9)
    effects = {"depth": 0.0, "width": 0.005, "compound": 0.04}
    frame = decisions(table_of(synthetic(effects, 4, 0.006, rng)))
    pairs = frame[frame["kind"] == "pair"].set_index(["strategy", "versus"])
    assert set(pairs["leader"]) == {"compound"}
    assert pairs.loc[("width", "depth"), "role"] == "others"
    assert not pairs.loc[("width", "depth"), "decided"]  # the losers stay apart ...
    assert pairs[pairs["role"] == "leader"]["winner"].eq("compound").all()
    assert level_decided(frame).tolist() == [True]  # ... and the level is decided
    assert winners(frame)["strategy"].tolist() == ["compound"]
    baseline = frame[frame["kind"] == "baseline"]
    assert not baseline["ranks"].any() and (baseline["role"] == "baseline").all()


def test_a_leader_tied_with_another_decides_the_level_without_a_winner() -> None:
    rng = np.random.default_rng(10)
    effects = {"depth": -0.04, "width": 0.0, "compound": 0.0005}
    frame = decisions(table_of(synthetic(effects, 5, 0.0008, rng)))
    ranked = frame[frame["ranks"]]
    assert sorted(ranked["winner"]) == ["compound", "tie"] or sorted(ranked["winner"]) == [
        "tie", "width"]  # fmt: skip
    assert level_decided(frame).tolist() == [True]
    assert winners(frame).empty


def test_with_one_strategy_the_baseline_comparison_is_the_ranking() -> None:
    rng = np.random.default_rng(11)
    frame = decisions(table_of(synthetic({"width": 0.05}, 3, 0.003, rng)))
    (only,) = frame.itertuples()
    assert only.kind == "baseline" and only.ranks and only.winner == "width"
    assert level_decided(frame).tolist() == [True]
    assert winners(frame).empty  # the ring marks a strategy that beat other strategies


def test_a_missing_point_leaves_the_rest_of_its_seed_in_the_pool() -> None:
    """A failed point at one seed: the additive fit keeps that seed's other points (least
    squares over the cells there are), and the pair that lost it pairs the seeds it has."""
    rng = np.random.default_rng(12)
    top1 = synthetic({"depth": 0.0, "width": 0.01, "compound": 0.02}, 4, 0.005, rng)
    table = table_of(top1)
    table.loc[(table["strategy"] == "width") & (table["phi"] == 1) & (table["seed"] == 3),
              "status"] = "failed"  # fmt: skip
    frame = decisions(table)
    pairs = frame[frame["kind"] == "pair"].set_index(["strategy", "versus"])
    assert (pairs["df"] == 11 - (3 + 4 - 1)).all()  # 11 cells, 6 parameters
    assert pairs.loc[("width", "depth"), "seeds"] == 3
    assert pairs.loc[("compound", "depth"), "seeds"] == 4
    x = np.array([[top1[(s, 1.0, k)] for k in range(4)] for s in ("depth", "width", "compound")])
    x[1, 3] = np.nan
    _, rss, df = additive_fit(x[None])
    assert df[0] == 5 and pairs["sd"].iloc[0] == pytest.approx(np.sqrt(2 * rss[0] / 5))


def test_the_flags_of_the_points_compared_are_counted() -> None:
    rng = np.random.default_rng(13)
    table = table_of(synthetic({"depth": 0.0, "width": 0.05}, 3, 0.003, rng))
    width1 = (table["strategy"] == "width") & (table["phi"] == 1)
    table["still_improving"] = width1 & (table["seed"] < 2)
    table["within_tolerance"] = ~(width1 & (table["seed"] == 0))
    frame = decisions(table).set_index(["strategy", "versus"])
    assert frame.loc[("width", "depth"), "flags"] == "2 still improving, 1 off MAC target"
    assert frame.loc[("width", "baseline"), "flags"] == "2 still improving, 1 off MAC target"
    assert frame.loc[("depth", "baseline"), "flags"] == ""


def test_looks_split_alpha() -> None:
    rng = np.random.default_rng(7)
    table = table_of(synthetic({"depth": 0.0, "width": 0.02}, 3, 0.006, rng))
    one, four = decisions(table), decisions(table, looks=4)
    a, b = row(one, "width", "depth"), row(four, "width", "depth")
    assert b["high"] - b["low"] > a["high"] - a["low"]
    assert b["p_value"] == pytest.approx(min(1.0, 4 * a["p_value"]))
    assert (a["confidence"], b["confidence"]) == pytest.approx((0.95, 1 - 0.05 / 4))


def test_t_test_and_seeds_needed() -> None:
    mean, sd, p = t_test(np.array([0.01, 0.02, 0.03]))
    assert (mean, sd) == pytest.approx((0.02, 0.01)) and p == pytest.approx(0.0742, abs=1e-3)
    assert math.isnan(t_test(np.array([0.0, 0.0]))[2])  # no spread: nothing to test
    few, many = seeds_needed(0.005, 0.01, 0.05, 3), seeds_needed(0.02, 0.01, 0.05, 3)
    assert 2 <= few < many
    assert math.isnan(seeds_needed(1.0, 0.01, 0.05, 3))  # more than 1000
    # 1-point paired sd, 1-point margin, 5 %: (1.96 + 0.84)^2 = 7.8 with a normal; t adds seeds
    assert seeds_needed(0.01, 0.01, 0.05, 3) == 10  # a lone pair: n - 1 df
    assert seeds_needed(0.01, 0.01, 0.05, 3, per_seed=2) == 9  # pooled: 2 df a seed


def test_the_same_difference_at_every_seed_decides_nothing() -> None:
    """Points that predict one class whatever their seed differ by the same amount at every
    seed; a spread of 0 from three seeds is no evidence of no noise."""
    top1 = {(s, phi, seed): v for seed in range(3) for (s, phi), v in
            {("depth", 0.0): 0.1, ("width", 0.0): 0.1, ("depth", 1.0): 0.108,
             ("width", 1.0): 0.1}.items()}  # fmt: skip
    pair = row(decisions(table_of(top1)), "width", "depth")
    assert pair["seeds"] == 3 and pair["diff"] == pytest.approx(-0.008)
    assert not pair["decided"] and pair["winner"] == ""
    assert math.isnan(pair["low"]) and math.isnan(pair["p_value"])
    assert math.isnan(pair["seeds_needed"])


def test_intervals_stay_inside_minus_one_to_one() -> None:
    top1 = {("depth", 1.0, 0): 0.2, ("width", 1.0, 0): 0.9, ("depth", 1.0, 1): 0.8}
    top1[("width", 1.0, 1)] = 0.1
    pair = row(decisions(table_of(top1), looks=4), "width", "depth")
    assert pair["low"] == -1.0 and pair["high"] == 1.0 and not pair["decided"]
