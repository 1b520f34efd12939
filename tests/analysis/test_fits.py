"""bench.report.fits: power-law fits of top-1 error against MACs, intervals, tables, fit lines."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from helpers.fake_results import make_result  # noqa: E402

from bench.report import fits as fits_module  # noqa: E402
from bench.report import fits_tables  # noqa: E402
from bench.report.fits import draw_fit_lines, fit_strategies  # noqa: E402
from bench.report.fits_tables import write_fits  # noqa: E402

BASE = 1e6  # baseline MACs
E0 = 0.5  # baseline top-1 error
REQUIRED = ["strategy", "a", "b", "r2", "n_points", "flops_to_match_best"]


def point(strategy: str, phi: float, seed: int, macs: float, err: float, status: str = "ok"):
    """One result row of ``make_result``'s shape with the MACs and top-1 this test chose; a
    diverged or failed row carries them too, so counting it by mistake would change a fit."""
    return make_result(strategy, phi, seed, status) | {"macs": int(round(macs)), "top1": 1 - err}


def power_law(b: float, macs: float) -> float:
    """Error on the power law through the baseline (BASE, E0) with exponent ``b``."""
    return E0 * (macs / BASE) ** -b


# strategy, exponent b, MACs of phi=1 over 2**phi (real points miss their target a little)
LAWS = (("depth", 0.2, 1.0), ("width", 0.1, 1.03), ("resolution", -0.1, 0.97))


def hand_table() -> pd.DataFrame:
    """depth b=0.2, width b=0.1, resolution b=-0.1 (error grows), linear never finishes a
    level past the baseline; two identical seeds; phi=0 shared, exactly on every law."""
    rows = []
    for seed in (0, 1):
        for strategy, b, skew in LAWS:
            rows += [point(strategy, 0, seed, BASE, E0)]
            for phi in (1, 2):
                macs = BASE * 2**phi * (skew if phi == 1 else 1.0)
                rows.append(point(strategy, phi, seed, macs, power_law(b, macs)))
        rows.append(point("linear", 0, seed, BASE, E0))
        rows.append(point("linear", 1, seed, 2 * BASE, 0.4, "diverged"))
        rows.append(point("linear", 2, seed, 4 * BASE, 0.3, "failed"))
    return pd.DataFrame(rows)


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


def test_written_tables(tmp_path, monkeypatch):
    written = []
    real = fits_tables.atomic_write_text
    monkeypatch.setattr(
        fits_tables, "atomic_write_text", lambda p, t: (written.append(p), real(p, t))
    )
    fits = fit_strategies(hand_table())
    paths = write_fits(fits, tmp_path)
    assert sorted(written) == sorted(paths.values())
    assert paths["csv"] == tmp_path / "fits.csv"

    csv = pd.read_csv(paths["csv"])
    assert list(csv.columns[:6]) == REQUIRED
    assert list(csv["strategy"]) == ["depth", "width", "resolution", "linear"]
    assert csv["a"].tolist()[:3] == fits["a"].tolist()[:3]  # full precision round trip

    caption, blank, header = paths["markdown"].read_text().splitlines()[:3]
    assert caption.startswith("Power-law fit per strategy, top-1 error = a · MACs^(−b)")
    for words in ("r2 in log space", "flops_to_match_best:", "Points per strategy: 2–6",
                  "seeds: 2", "95% percentile bootstrap over seeds (2000 resamples)"):  # fmt: skip
        assert words in caption
    assert blank == "" and header.startswith("| strategy | a | b | r2 | n_points |")
    assert "| width |" in paths["markdown"].read_text()

    tex = paths["latex"].read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex
    assert r"95\% percentile" in tex and r"flops\_to\_match\_best" in tex
    assert r"resolution & " in tex and r"$\infty$" in tex


def test_draw_fit_lines_one_dashed_line_per_fitted_strategy(hand):
    fits = hand.reset_index()
    colors = {"depth": (1, 0, 0), "width": (0, 1, 0), "resolution": (0, 0, 1), "linear": "k"}
    fig, ax = plt.subplots()
    try:
        ax.set_xscale("log")
        ax.plot([BASE, 4 * BASE], [50, 60])
        limits = ax.dataLim.frozen()
        lines = draw_fit_lines(ax, fits, colors, (BASE / 2, 64 * BASE))
        assert len(lines) == 3 and len(ax.get_lines()) == 4  # linear has no fit
        assert [line.get_color() for line in lines] == [colors[s] for s in fits["strategy"][:3]]
        assert {line.get_linestyle() for line in lines} == {"--"}
        x, y = lines[1].get_data()
        assert x[0] == pytest.approx(BASE / 2) and x[-1] == pytest.approx(64 * BASE)
        assert y == pytest.approx(100 * (1 - power_law(0.1, x)))
        assert np.array_equal(ax.dataLim.get_points(), limits.get_points())
        assert ax.get_legend_handles_labels() == ([], [])
    finally:
        plt.close(fig)


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


def test_written_tables_show_and_explain_the_flags(tmp_path):
    paths = write_fits(fit_strategies(hand_table()), tmp_path)
    caption, _, header, _, *rows = paths["markdown"].read_text().splitlines()
    assert header.endswith("| note | flags |")
    assert "flags: the fitted points' flags, counted" in caption
    linear = next(r for r in rows if r.startswith("| linear |"))
    assert linear.endswith("| 1 distinct point for 2 parameters; 2000 of 2000 resamples failed |")
    tex = paths["latex"].read_text()
    assert "Flags" in tex and "2000 of 2000 resamples failed" in tex
    assert list(pd.read_csv(paths["csv"]).columns[-2:]) == ["resamples_failed", "flags"]
