"""Equal budgets: the same epochs, or the same training FLOPs, for every point."""

import pytest

from bench.errors import UserError
from bench.scaling.budget import plan_budget as plan
from bench.scaling.budget import training_flops
from bench.schema import Train

TRAIN = {"budget": "epochs", "epochs": 5, "batch_size": 100, "warmup_epochs": 0.5}


def plan_budget(train: dict, n_train: int, macs: int, base_macs: int):
    """The budget of a ``train`` section given as a dict (checked by its schema first)."""
    return plan(Train(**train), n_train, macs, base_macs)


def test_epochs_budget_gives_every_point_the_same_samples():
    small = plan_budget(TRAIN, 10_000, macs=5_000_000, base_macs=5_000_000)
    big = plan_budget(TRAIN, 10_000, macs=20_000_000, base_macs=5_000_000)
    assert small.steps == big.steps == 500
    assert small.samples == big.samples == 50_000
    assert small.epochs == big.epochs == 5.0
    assert big.train_flops == 6 * 20_000_000 * 50_000
    assert small.warmup_steps == 50
    assert small.steps_per_epoch == 100


def test_flops_budget_gives_every_point_the_baselines_flops():
    train = {**TRAIN, "budget": "flops"}
    base = plan_budget(train, 10_000, macs=5_000_000, base_macs=5_000_000)
    double = plan_budget(train, 10_000, macs=10_000_000, base_macs=5_000_000)
    quad = plan_budget(train, 10_000, macs=20_000_000, base_macs=5_000_000)
    assert base.steps == 500 and double.steps == 250 and quad.steps == 125
    assert base.train_flops == double.train_flops == quad.train_flops
    assert quad.epochs == pytest.approx(1.25)
    odd = plan_budget(train, 10_000, macs=7_000_000, base_macs=5_000_000)
    # whole steps: within half a step of the baseline's FLOPs
    assert abs(odd.train_flops - base.train_flops) <= training_flops(7_000_000, 100) / 2


def test_training_flops_are_six_times_macs_times_samples():
    assert training_flops(1e6, 10) == 6e7


def test_fractional_epochs_round_to_whole_steps():
    b = plan_budget({**TRAIN, "epochs": 0.25}, 10_000, 1, 1)
    assert b.steps == 25 and b.epochs == 0.25


@pytest.mark.parametrize(
    "train,match",
    [
        ({**TRAIN, "epochs": 0.001}, "too small for one step"),
        ({**TRAIN, "batch_size": 20_000}, "larger than the 10000 training images"),
    ],
)
def test_impossible_budgets_are_user_errors(train, match):
    """Values the schema refuses (budget=time, epochs=0) never reach the budget: see test_schema."""
    with pytest.raises(UserError, match=match):
        plan_budget(train, 10_000, 5_000_000, 5_000_000)


def test_flops_budget_too_small_for_a_huge_point():
    train = {**TRAIN, "budget": "flops", "epochs": 0.01}
    with pytest.raises(UserError, match="too small for one step"):
        plan_budget(train, 10_000, macs=5_000_000 * 1000, base_macs=5_000_000)
