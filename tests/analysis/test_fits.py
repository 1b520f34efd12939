"""bench.analysis.fits: power-law fits of top-1 error against MACs, their intervals, flags."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers.fake_results import make_result

from analysis.power_law_points import BASE, E0, hand_table, point, power_law
from bench.analysis import fits as fits_module
from bench.analysis.fits import fit_strategies


@pytest.fixture(scope="module")
def hand() -> pd.DataFrame:
    return fit_strategies(hand_table()).set_index("strategy")


def noisy_table(seeds: int = 6, b: float = 0.15, sigma: float = 0.05) -> pd.DataFrame:
    """One strategy, five levels, log-normal noise per (seed, level) around a known law."""
    rng = np.random.default_rng(7)
    rows = []
    for seed in range(seeds):
        for phi in range(5):
            macs = BASE * 2**phi
            err = power_law(b, macs) * rng.lognormal(0, sigma)
            rows.append(point("depth", phi, seed, macs, err))
    return pd.DataFrame(rows)


def test_exact_power_law_is_recovered(hand):
    for strategy, b in (("depth", 0.2), ("width", 0.1), ("resolution", -0.1)):
        fit = hand.loc[strategy]
        assert fit["b"] == pytest.approx(b, rel=1e-9)
        assert fit["a"] == pytest.approx(E0 * BASE**b, rel=1e-9)
        assert fit["r2"] == pytest.approx(1.0, abs=1e-12)
        assert fit["n_points"] == 6  # 3 levels x 2 seeds: each seed's baseline counted once
        assert fit["n_seeds"] == 2 and fit["n_levels"] == 3
        # noise-free: every resample refits the same law, so the interval is the point
        assert fit["b_low"] == pytest.approx(b, rel=1e-9)
        assert fit["b_high"] == pytest.approx(b, rel=1e-9)


def test_flops_to_match_best_by_hand(hand):
    best_err = power_law(0.2, 4 * BASE)  # depth at phi=2 is the best top-1
    assert set(hand["best_strategy"]) == {"depth"}
    assert hand["best_top1"].iloc[0] == pytest.approx(1 - best_err)
    assert hand["baseline_macs"].iloc[0] == BASE
    # 0.5 r**-b = 0.5 * 4**-0.2  ->  r = 4**(0.2 / b)
    assert hand.loc["depth", "flops_to_match_best"] == pytest.approx(4.0, rel=1e-9)
    assert hand.loc["width", "flops_to_match_best"] == pytest.approx(16.0, rel=1e-9)
    assert hand.loc["width", "flops_to_match_best_low"] == pytest.approx(16.0, rel=1e-9)
    assert hand.loc["width", "flops_to_match_best_high"] == pytest.approx(16.0, rel=1e-9)
    assert hand.loc["resolution", "b"] < 0
    assert math.isinf(hand.loc["resolution", "flops_to_match_best"])
    assert math.isinf(hand.loc["resolution", "flops_to_match_best_low"])


def test_unfittable_strategy_is_nan_with_a_note(hand):
    linear = hand.loc["linear"]
    assert np.isnan([linear["a"], linear["b"], linear["r2"]]).all()
    assert "fewer than 2 distinct MAC values" in linear["note"]
    assert linear["n_points"] == 2  # the two seeds' baselines only
    assert math.isinf(linear["flops_to_match_best"])
    assert hand.loc["depth", "note"] == ""


def test_failed_and_diverged_rows_are_ignored():
    table = hand_table()
    ok = table[table["status"] == "ok"]
    assert (table["status"] != "ok").sum() == 4
    pd.testing.assert_frame_equal(fit_strategies(table), fit_strategies(ok))
    # and they would matter: counted as ok, linear's diverged points make it fittable
    forced = fit_strategies(table.assign(status="ok")).set_index("strategy")
    assert not np.isnan(forced.loc["linear", "b"])


def test_baseline_of_one_strategy_belongs_to_every_fit():
    table = hand_table()
    no_twins = table[(table["phi"] != 0) | (table["strategy"] == "depth")]
    fits = fit_strategies(no_twins).set_index("strategy")
    assert fits.loc["width", "b"] == pytest.approx(0.1, rel=1e-9)
    assert fits.loc["width", "n_points"] == 6
    assert fits.loc["width", "flops_to_match_best"] == pytest.approx(16.0, rel=1e-9)


def test_bootstrap_interval_contains_truth_and_is_deterministic():
    table = noisy_table()
    first = fit_strategies(table)
    fit = first.iloc[0]
    assert fit["b_low"] < 0.15 < fit["b_high"]
    assert fit["a_low"] < E0 * BASE**0.15 < fit["a_high"]
    assert fit["b_low"] < fit["b"] < fit["b_high"]
    assert fit["flops_to_match_best_low"] < fit["flops_to_match_best"]
    assert fit["flops_to_match_best"] < fit["flops_to_match_best_high"]
    assert fit["n_resamples"] == fits_module.N_RESAMPLES
    assert "bootstrap" in fit["interval"]
    pd.testing.assert_frame_equal(first, fit_strategies(table))
    other = fit_strategies(table, rng_seed=fits_module.RNG_SEED + 1).iloc[0]
    assert (other["b_low"], other["b_high"]) != (fit["b_low"], fit["b_high"])


def test_one_seed_has_no_interval():
    fits = fit_strategies(noisy_table(seeds=1))
    assert np.isnan(fits[["a_low", "a_high", "b_low", "b_high"]].to_numpy(float)).all()
    assert fits["interval"].iloc[0].startswith("none")


def test_perfect_points_are_left_out_with_a_note():
    table = pd.concat([hand_table(), pd.DataFrame([point("depth", 3, 0, 8 * BASE, 0.0)])])
    fit = fit_strategies(table).set_index("strategy").loc["depth"]
    assert fit["b"] == pytest.approx(0.2, rel=1e-9)
    assert "1 point(s) with top-1 = 1 left out" in fit["note"]


def test_fake_sweep_row_per_strategy():
    rows = [make_result(s, phi, seed) for s in ("depth", "width", "compound", "linear")
            for phi in (0, 1, 2, 3) for seed in (0, 1, 2)]  # fmt: skip
    fits = fit_strategies(pd.DataFrame(rows))
    assert list(fits["strategy"]) == ["depth", "width", "compound", "linear"]
    assert set(fits["best_strategy"]) == {"compound"}  # the steepest fake gain
    assert (fits["b"] > 0).all()
    assert fits.set_index("strategy")["flops_to_match_best"].idxmin() == "compound"


def test_flags_count_the_points_and_the_fits_own():
    """depth's phi 2 points still improving (one per seed), one seed's shared baseline off its
    MAC target (counted once, though every strategy recorded it); linear has one MAC value."""
    table = hand_table()
    table.loc[(table["strategy"] == "depth") & (table["phi"] == 2), "still_improving"] = True
    table.loc[(table["phi"] == 0) & (table["seed"] == 0), "within_tolerance"] = False
    fits = fit_strategies(table).set_index("strategy")
    assert fits.loc["depth", "flags"] == "2 still improving; 1 off MAC target"
    assert fits.loc["width", "flags"] == "1 off MAC target"
    assert fits.loc["linear", "flags"] == (
        "1 off MAC target; 1 distinct point for 2 parameters; 2000 of 2000 resamples failed"
    )
    assert fits.loc["linear", "resamples_failed"] == fits_module.N_RESAMPLES
    assert fits.loc["depth", "resamples_failed"] == 0
    two = fit_strategies(table[table["phi"] < 2]).set_index("strategy")
    assert two.loc["depth", "flags"].endswith("2 distinct points for 2 parameters")
