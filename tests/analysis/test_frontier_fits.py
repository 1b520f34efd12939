"""err = E + a * C^-b: recovered from synthetic data, and judged by a held-out budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.analysis import frontier_fits
from bench.analysis.fit_flags import at_bounds
from bench.analysis.frontier import frontier_levels
from bench.analysis.frontier_fits import (
    PINNED,
    fit_frontier,
    fit_law,
    fit_lines,
    predict_top1,
)

E, A, B = 0.2, 500.0, 0.3


def err(c):
    return E + A * np.power(c, -B)


def test_the_law_is_recovered_from_synthetic_points():
    flops = np.logspace(10, 14, 6)
    e, a, b = fit_law(flops, err(flops))
    assert e == pytest.approx(E, abs=1e-3)
    assert b == pytest.approx(B, rel=1e-2)
    assert a == pytest.approx(A, rel=5e-2)


def test_too_few_points_are_refused():
    with pytest.raises(ValueError, match="2 points, 3 needed"):
        fit_law(np.array([1e10, 1e11]), np.array([0.5, 0.4]))


def synthetic(seeds=(0,), noise=0.0):
    """Three budgets (sweeps e1-e3) x two levels, top-1 on the law (plus seed noise)."""
    rows = []
    for k, sweep in enumerate(("e1", "e2", "e3")):
        for phi in (0, 1):
            c = 1e11 * 4**k * 2**phi
            for seed in seeds:
                shift = noise * (seed - (len(seeds) - 1) / 2)
                rows.append((sweep, "depth", phi, seed, c, 1 - err(c) + shift, k + 1.0))
    cols = ["sweep", "strategy", "phi", "seed", "train_flops", "top1", "epochs"]
    return pd.DataFrame(rows, columns=cols).assign(status="ok", budget="epochs")


BUDGETS = {"e1": "1 epoch", "e2": "2 epochs", "e3": "3 epochs"}


def test_the_largest_budget_is_predicted_from_the_others():
    pts = synthetic()
    (row,) = fit_frontier(frontier_levels(pts, BUDGETS), pts, BUDGETS).to_dict("records")
    assert row["held_out_budget"] == "3 epochs"
    assert row["n_points"] == 6 and row["n_fit_held_out"] == 4
    best = 1e11 * 16 * 2
    assert row["measured_top1"] == pytest.approx(1 - err(best))
    assert row["predicted_top1"] == pytest.approx(1 - err(best), abs=1e-3)
    assert row["abs_error"] < 1e-3
    assert predict_top1((E, A, B), best) == pytest.approx(1 - err(best))
    assert row["note"] == ""


def test_seeds_give_bootstrap_intervals():
    pts = synthetic(seeds=(0, 1, 2), noise=0.005)
    (row,) = fit_frontier(frontier_levels(pts, BUDGETS), pts, BUDGETS).to_dict("records")
    assert row["E_low"] <= row["E"] <= row["E_high"]
    assert row["b_low"] <= row["b_high"]


def test_too_few_points_are_said_in_the_row():
    pts = synthetic()
    pts = pts[pts["sweep"] != "e1"]
    budgets = {k: v for k, v in BUDGETS.items() if k != "e1"}
    (row,) = fit_frontier(frontier_levels(pts, budgets), pts, budgets).to_dict("records")
    assert row["E"] is not None  # four points: a fit
    assert "no held-out prediction: 2 points, 3 needed" in row["note"]
    assert row["predicted_top1"] is None


def test_nothing_saturating_puts_e_at_its_bound_and_says_so():
    """A pure power law (E = 0): the fit's E sits at its bound, which the row flags."""
    pts = synthetic().assign(top1=lambda f: 1 - A * np.power(f["train_flops"], -B))
    (row,) = fit_frontier(frontier_levels(pts, BUDGETS), pts, BUDGETS).to_dict("records")
    assert row["E"] < 1e-4
    assert row["flags"].split("; ")[0] == "E at its bound 0"
    assert "held-out fit: E at its bound 0" in row["flags"]


def test_an_abrupt_step_pins_b_at_its_bound():
    e, _, b = fit_law(np.array([1, 1.5, 2, 3]) * 1e10, np.array([0.9, 0.2, 0.1999, 0.1998]))
    assert at_bounds({"E": e, "b": b}, PINNED) == ["b at its bound 10"]
    assert at_bounds({"E": 0.2, "b": 0.3}, PINNED) == []


def test_failed_resamples_and_point_flags_are_counted(monkeypatch):
    """Noisy seeds make some resampled envelopes too short to fit: counted, not dropped."""
    monkeypatch.setattr(frontier_fits, "BOOTSTRAP", 50)  # fewer fits: a faster test
    pts = synthetic(seeds=(0, 1, 2), noise=0.1)
    pts["top1"] += np.random.default_rng(1).normal(0, 0.1, len(pts))
    pts["still_improving"] = pts["sweep"] == "e3"  # 6 points: 2 levels x 3 seeds
    (row,) = fit_frontier(frontier_levels(pts, BUDGETS), pts, BUDGETS).to_dict("records")
    assert row["resamples_failed"] > 0
    assert row["n_resamples"] + row["resamples_failed"] == 50
    parts = row["flags"].split("; ")
    assert parts[0] == "6 still improving"
    assert f"{row['resamples_failed']} of 50 resamples failed" in parts
    (line,) = fit_lines(pd.DataFrame([row]))
    assert line.endswith(f"[flagged: {row['flags']}]")


def test_too_few_points_are_flagged():
    pts = synthetic()
    pts = pts[pts["sweep"] != "e1"]
    budgets = {k: v for k, v in BUDGETS.items() if k != "e1"}
    (row,) = fit_frontier(frontier_levels(pts, budgets), pts, budgets).to_dict("records")
    assert "held-out fit: 2 distinct points for 3 parameters" in row["flags"]
    three = synthetic()
    three = three[(three["sweep"] != "e2") & ((three["sweep"] != "e1") | (three["phi"] == 1))]
    (row,) = fit_frontier(frontier_levels(three, BUDGETS), three, BUDGETS).to_dict("records")
    assert row["n_points"] == 3
    assert "3 distinct points for 3 parameters" in row["flags"].split("; ")


def test_the_laws_gradient_is_its_derivative():
    c = np.array([1.0, 2.0, 4.0, 16.0])
    params = np.array([0.1, 0.6, 0.45])
    step = 1e-6
    numeric = np.stack(
        [
            (frontier_fits.law(c, *(params + step * unit)) - frontier_fits.law(c, *params)) / step
            for unit in np.eye(3)
        ],
        axis=1,
    )
    np.testing.assert_allclose(
        frontier_fits.law_gradient(c, *params), numeric, rtol=1e-4, atol=1e-6
    )
