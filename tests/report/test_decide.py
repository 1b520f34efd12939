"""Paired decisions on synthetic results with known answers: a clear winner, a tie, pure noise,
one seed; Holm's intervals agree with its p-values; the seeds-needed estimate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers.fake_results import make_result

from bench.report.decide import (
    COLUMNS,
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
    assert list(frame.columns[: len(COLUMNS)]) == COLUMNS
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


def test_holm_intervals_agree_with_adjusted_p_values() -> None:
    rng = np.random.default_rng(6)
    effects = {"depth": 0.0, "width": 0.02, "resolution": 0.01, "compound": 0.025}
    frame = decisions(table_of(synthetic(effects, 4, 0.008, rng)))
    testable = frame[frame["seeds"] >= 2]
    excludes_zero = (testable["low"] > 0) | (testable["high"] < 0)
    assert (excludes_zero == (testable["p_value"] < 0.05)).all()
    # the first Holm step is Bonferroni over the level's comparisons (6 pairs + 4 baselines)
    assert testable["confidence"].max() == pytest.approx(1 - 0.05 / 10)


def test_looks_split_alpha() -> None:
    rng = np.random.default_rng(7)
    table = table_of(synthetic({"depth": 0.0, "width": 0.02}, 3, 0.006, rng))
    one, four = decisions(table), decisions(table, looks=4)
    a, b = row(one, "width", "depth"), row(four, "width", "depth")
    assert b["high"] - b["low"] > a["high"] - a["low"]
    assert b["p_value"] == pytest.approx(min(1.0, 4 * a["p_value"]))


def test_t_test_and_seeds_needed() -> None:
    mean, sd, p = t_test(np.array([0.01, 0.02, 0.03]))
    assert (mean, sd) == pytest.approx((0.02, 0.01)) and p == pytest.approx(0.0742, abs=1e-3)
    assert math.isnan(t_test(np.array([0.0, 0.0]))[2])  # no spread: nothing to test
    few, many = seeds_needed(0.005, 0.01, 0.05, 3), seeds_needed(0.02, 0.01, 0.05, 3)
    assert 2 <= few < many
    assert math.isnan(seeds_needed(1.0, 0.01, 0.05, 3))  # more than 1000


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
