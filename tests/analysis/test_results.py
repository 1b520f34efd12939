"""Reading results: each point's top-1 at its best test resolution (plot.test_resolution), the
side chosen on the validation split."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SMALL

from bench.analysis.results import at_test_resolution
from bench.analysis.text import describe_budget
from bench.errors import UserError
from bench.plot import parse_args

TABLE = pd.DataFrame({
    "status": ["ok", "ok", "diverged"], "top1": [0.5, 0.6, None],
    "top1_at_best_test_resolution": [0.55, 0.58, None],  # lower: validation chose that side
    "val_top1_at_best_test_resolution": [0.7, 0.65, None],
    "budget": ["epochs"] * 3, "epochs": [1.0] * 3,
})  # fmt: skip


def test_best_test_resolution_replaces_top1_with_the_test_top1_at_the_validation_side():
    best = at_test_resolution(TABLE, "best")
    assert list(best["top1"])[:2] == [0.55, 0.58] and pd.isna(best["top1"][2])
    assert describe_budget(best).endswith("top-1 at each point's best test resolution")
    assert at_test_resolution(TABLE, "train") is TABLE
    assert "test resolution" not in describe_budget(TABLE)


@pytest.mark.parametrize("column", ["val_top1_at_best_test_resolution", None])
def test_points_without_a_side_chosen_on_validation_are_refused_in_one_line(column):
    """A point trained without data.val_fraction, or whose side an older version chose on the
    test split (it has top1_at_best_test_resolution but no validation top-1 there)."""
    table = TABLE.assign(val_top1_at_best_test_resolution=[0.7, None, None])
    if column is None:
        table = table.drop(columns="val_top1_at_best_test_resolution")
    with pytest.raises(UserError) as info:
        at_test_resolution(table, "best")
    unchosen = 1 if column else 2
    assert str(info.value) == (
        "--test-resolution best (plot.test_resolution=best) needs each point's side chosen on "
        f"a validation split: {unchosen} of 2 ok points have none (trained without "
        "data.val_fraction, or by a version that chose it on the test split); train with "
        "data.val_fraction=0.1 or use --test-resolution train"
    )
    assert at_test_resolution(table, "train") is table


def test_the_flag_reaches_the_plot_options():
    _, _, options, _ = parse_args(["sweep", "--test-resolution", "best"])
    assert options.test_resolution == "best"


def test_a_run_drawing_best_sides_without_a_validation_split_is_refused_in_one_line(config):
    with pytest.raises(UserError) as info:
        config(*SMALL, "plot.test_resolution=best")
    assert str(info.value) == (
        "config: plot.test_resolution=best chooses each point's test side on a validation "
        "split: set data.val_fraction (say 0.1) or plot.test_resolution=train; choosing on the "
        "test split would report a number chosen on it"
    )
    assert config(*SMALL, "plot.test_resolution=best", "data.val_fraction=0.1").plot
