"""err = E + a * C^-b: recovered from synthetic data, and judged by a held-out budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.report.frontier import frontier_levels
from bench.report.frontier_fits import fit_frontier, fit_law, predict_top1

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
