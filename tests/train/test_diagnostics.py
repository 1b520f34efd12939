"""bench.train.diagnostics: still improving, the binomial test against chance, problem lines."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench.train.diagnostics import (
    LOSS_DROP,
    NOISE_MIN_POINTS,
    TOP1_RISE,
    above_chance,
    problems,
    still_improving,
)


def history(top1, loss=None, epochs=None):
    """A history with one entry per value; epochs 1, 2, ... unless given."""
    epochs = epochs or [float(i + 1) for i in range(len(top1))]
    loss = loss or [None] * len(top1)
    return [
        {"epoch": e, "step": 10 * i, "train_loss": ls, "top1": t, "top5": None, "lr": 0.1}
        for i, (e, t, ls) in enumerate(zip(epochs, top1, loss, strict=True))
    ]


# ---------------------------------------------------------------- still_improving


def test_plateau_is_not_improving():
    top1 = [0.30, 0.55, 0.70, 0.78, 0.80, 0.805, 0.806, 0.806, 0.807, 0.807, 0.808, 0.808]
    loss = [2.0, 1.2, 0.9, 0.75, 0.72, 0.71, 0.71, 0.70, 0.70, 0.70, 0.69, 0.69]
    assert still_improving(history(top1, loss)) is False


def test_steady_rise_is_improving():
    top1 = [0.30 + 0.03 * i for i in range(12)]  # 3 points per epoch to the end
    assert still_improving(history(top1)) is True
    loss = [2.0 - 0.01 * i for i in range(12)]  # flat-ish loss does not veto top-1
    assert still_improving(history(top1, loss)) is True


def test_short_histories():
    # three epochs: the reference is epoch 2 (the last at or before 0.75 * 3 = 2.25)
    assert still_improving(history([0.30, 0.60, 0.70])) is True
    assert still_improving(history([0.30, 0.60, 0.61])) is False  # below TOP1_RISE
    assert still_improving(history([0.60, 0.70])) is True  # two evaluations: reference epoch 1
    # rising 2 points beyond the threshold, but short enough that no noise is measured
    assert still_improving(history([0.5, 0.6, 0.6 + TOP1_RISE + 0.005])) is True


def test_reference_is_the_last_evaluation_before_three_quarters():
    # 8 epochs: the reference is epoch 6; the jump at epoch 6 is before the window
    top1 = [0.2, 0.4, 0.6, 0.7, 0.75, 0.80, 0.805, 0.81]
    assert still_improving(history(top1)) is False
    # the same values with the jump moved into the window
    top1 = [0.2, 0.4, 0.6, 0.7, 0.75, 0.75, 0.78, 0.81]
    assert still_improving(history(top1)) is True


def test_fractional_budget_end():
    # budget=flops: the final evaluation at a fractional epoch; 0.75 * 4.5 = 3.375 -> epoch 3
    epochs = [1.0, 2.0, 3.0, 4.0, 4.5]
    assert still_improving(history([0.3, 0.5, 0.6, 0.65, 0.67], epochs=epochs)) is True
    assert still_improving(history([0.3, 0.5, 0.6, 0.605, 0.61], epochs=epochs)) is False


def test_falling_loss_with_flat_top1():
    flat = [0.50, 0.70, 0.80, 0.80, 0.80, 0.80, 0.80, 0.80]
    # loss halves over the last quarter (epoch 6 -> 8): more than LOSS_DROP, and steady
    steep = [2.0, 1.5, 1.2, 1.0, 0.8, 0.6, 0.42, 0.3]
    assert 1 - steep[-1] / steep[5] > LOSS_DROP
    assert still_improving(history(flat, steep)) is True
    # loss falls 10 %: not enough
    gentle = [2.0, 1.5, 1.2, 1.0, 0.8, 0.60, 0.57, 0.54]
    assert 1 - gentle[-1] / gentle[5] < LOSS_DROP
    assert still_improving(history(flat, gentle)) is False


def test_noisy_loss_falling_within_its_noise_is_not_improving():
    flat = [0.80] * 12
    loss = [0.9, 0.5, 0.9, 0.5, 0.9, 0.5, 0.9, 0.5, 0.9, 0.5, 0.6, 0.4]
    assert 1 - loss[-1] / loss[8] > LOSS_DROP  # the raw fall alone would count
    assert still_improving(history(flat, loss)) is False


def test_too_short_is_none():
    assert still_improving(history([0.5])) is None
    assert still_improving([]) is None
    assert still_improving(None) is None
    # many entries but only one with a top-1 (the others were never evaluated)
    assert still_improving(history([None, None, 0.7], loss=[2.0, 1.0, 0.5])) is None


def test_noisy_plateau_is_not_improving():
    # a plateau at 80 % with +-3-point evaluation noise; the last is 6 points above the reference
    top1 = [0.40, 0.65, 0.80, 0.77, 0.83, 0.78, 0.82, 0.77, 0.83, 0.79, 0.81, 0.77, 0.80, 0.77,
            0.82, 0.77, 0.83]  # fmt: skip
    reference = top1[11]  # epoch 12 = the last at or before 0.75 * 17 = 12.75
    assert top1[-1] - reference > TOP1_RISE  # the threshold alone would call it improving
    assert still_improving(history(top1)) is False
    # the same noise on a curve rising 2 points per epoch is improving
    rising = [v + 0.02 * i for i, v in enumerate(top1)]
    assert still_improving(history(rising)) is True


def test_noise_needs_enough_evaluations_in_the_last_half():
    # five epochs: only epochs 3, 4, 5 are in the last half, fewer than NOISE_MIN_POINTS,
    # so the zig-zag before them is not read as noise and the threshold alone decides
    assert NOISE_MIN_POINTS > 3
    assert still_improving(history([0.2, 0.8, 0.5, 0.6, 0.65])) is True


def test_entries_without_numbers_are_skipped():
    entries = history([0.3, None, 0.5, math.nan, 0.7], loss=[2.0, None, math.nan, -1.0, 0.5])
    assert still_improving(entries) is True
    # the same epoch twice: the later entry counts
    entries = history([0.3, 0.5, 0.7, 0.5], epochs=[1.0, 2.0, 3.0, 3.0])
    assert still_improving(entries) is False


# ---------------------------------------------------------------- above_chance


@pytest.mark.parametrize(
    ("top1", "n_test", "classes", "expected"),
    [
        (0.10, 2000, 10, False),  # exactly chance
        (0.105, 2000, 10, False),  # 210 correct of 2000: p ~ 0.24
        (0.12, 2000, 10, True),  # 240 correct: p ~ 0.002
        (0.05, 2000, 10, False),  # below chance
        (0.75, 20, 2, False),  # 15 of 20 coin flips: p ~ 0.02, not below 0.01
        (0.90, 20, 2, True),  # 18 of 20: p ~ 0.0002
        (1.0, 5, 2, False),  # 5 of 5: p = 1/32, too few images to tell
        (0.012, 10_000, 100, False),  # 120 of 10,000 at 1 % chance: p ~ 0.03
        (0.013, 10_000, 100, True),  # 130: p ~ 0.004
    ],
)
def test_above_chance(top1, n_test, classes, expected):
    assert above_chance(top1, n_test, classes) is expected


def test_above_chance_alpha_and_rounding():
    # 15 of 20 on two classes: p = 0.0207, above chance at alpha 0.05 but not at 0.01
    assert above_chance(0.75, 20, 2, alpha=0.05) is True
    assert above_chance(0.75, 20, 2) is False
    # 0.7501 of 20 rounds to 15 correct, the same test
    assert above_chance(0.7501, 20, 2, alpha=0.05) is True


def test_above_chance_without_top1():
    assert above_chance(None, 2000, 10) is None
    assert above_chance(math.nan, 2000, 10) is None


def test_above_chance_rejects_nonsense():
    with pytest.raises(ValueError):
        above_chance(0.5, 0, 10)
    with pytest.raises(ValueError):
        above_chance(1.5, 100, 10)
    with pytest.raises(ValueError):
        above_chance(0.5, 100, 1)


# ---------------------------------------------------------------- problems


def row(strategy, phi, seed, status="ok", improving=False, chance=True, tolerance=True):
    return {
        "strategy": strategy,
        "phi": float(phi),
        "seed": seed,
        "status": status,
        "still_improving": improving if status == "ok" else None,
        "above_chance": chance if status == "ok" else None,
        "within_tolerance": tolerance,
    }


def test_no_problems():
    rows = [row(s, phi, 0) for s in ("depth", "width", "compound") for phi in (0, 1, 2)]
    assert problems(rows) == []
    assert problems([]) == []


def test_problem_lines_count_and_name():
    rows = [row(s, phi, 0) for s in ("depth", "width", "compound") for phi in (0, 1, 2)]
    for r in rows[:4]:
        r["still_improving"] = True
    rows[2]["above_chance"] = False  # depth phi=2
    rows[4]["within_tolerance"] = False
    rows[7]["within_tolerance"] = False
    lines = problems(rows)
    assert len(lines) == 3
    chance, improving, off = lines
    assert chance.startswith("1 of 9 points is not above chance (depth phi=2 seed=0)")
    assert "nothing about depth scaling" in chance
    assert improving.startswith("4 of 9 points were still improving")
    assert "train.epochs" in improving and "(" not in improving.split(":")[0]  # 4 are not named
    assert off.startswith("2 of 9 points are off their MAC target (width phi=1 seed=0, ")
    assert "compound phi=1 seed=0" in off and "within_tolerance false" in off


def test_diverged_and_failed_are_counted_not_judged():
    rows = [row("depth", phi, seed) for phi in (0, 1) for seed in (0, 1)]
    rows.append(row("width", 3, 1, status="diverged", tolerance=True))
    rows.append(row("resolution", 3, 2, status="failed", tolerance=None))
    rows[-2]["above_chance"] = False  # a diverged point is not also "not above chance"
    rows[-2]["still_improving"] = True
    lines = problems(rows)
    assert len(lines) == 2
    failed, diverged = lines
    assert failed.startswith("1 of 6 points failed (resolution phi=3 seed=2)")
    assert diverged.startswith("1 of 6 points diverged (width phi=3 seed=1)")


def test_problems_from_a_table():
    rows = [row("depth", phi, seed) for phi in (0, 1, 2) for seed in (0, 1)]
    rows[5]["above_chance"] = False
    rows[4]["above_chance"] = False
    rows.append(row("width", 1, 0, status="failed", tolerance=None))
    table = pd.DataFrame(rows)  # nulls become NaN / None in object columns
    lines = problems(table)
    assert lines[0].startswith("1 of 7 points failed")
    assert lines[1].startswith("2 of 7 points are not above chance (depth phi=2 seed=0, depth")
    assert "their levels say nothing about depth scaling" in lines[1]
    # flags read back from results.csv as text
    table["within_tolerance"] = ["True"] * 6 + ["False"]
    assert len(problems(table)) == 3
