"""bench.analysis.compare: which settings of two sweeps' points decide what they learn."""

from __future__ import annotations

from bench.analysis.compare import recipe_differences


def test_recipe_differences_ignore_what_does_not_decide_learning():
    a = {"config": {"train": {"lr": 0.1, "epochs": 2, "eval_every": 1}, "seed": 0, "phi": 1}}
    b = {"config": {"train": {"lr": 0.1, "epochs": 4, "eval_every": 2}, "seed": 3, "phi": 2}}
    assert recipe_differences([a, b]) == []
    c = {"config": {"train": {"lr": 0.2}, "model": {"width_mult": 0.5}}}
    assert recipe_differences([a, c]) == ["model.width_mult", "train.lr"]
