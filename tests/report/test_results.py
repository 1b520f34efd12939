"""Reading results: each point's top-1 at its best test resolution (plot.test_resolution)."""

from __future__ import annotations

import pandas as pd

from bench.plot import parse_args
from bench.report.results import at_test_resolution
from bench.report.text import describe_budget

TABLE = pd.DataFrame({
    "top1": [0.5, 0.6], "top1_at_best_test_resolution": [0.55, None],
    "budget": ["epochs", "epochs"], "epochs": [1.0, 1.0],
})  # fmt: skip


def test_best_test_resolution_replaces_top1_where_it_was_measured():
    best = at_test_resolution(TABLE, "best")
    assert list(best["top1"]) == [0.55, 0.6]  # the second point was tested at one side only
    assert describe_budget(best).endswith("top-1 at each point's best test resolution")
    assert at_test_resolution(TABLE, "train") is TABLE
    assert "test resolution" not in describe_budget(TABLE)


def test_the_flag_reaches_the_plot_options():
    _, _, options, _ = parse_args(["sweep", "--test-resolution", "best"])
    assert options.test_resolution == "best"
