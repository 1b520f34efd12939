"""The compute frontier: envelopes, the overall frontier and crossovers on hand-made points."""

from __future__ import annotations

import pandas as pd

from bench.report.frontier import budget_steps, crossover_lines, crossovers, frontier_levels


def points(rows):
    """Hand-made ok points: (sweep, strategy, phi, seed, train_flops, top1)."""
    cols = ["sweep", "strategy", "phi", "seed", "train_flops", "top1"]
    return pd.DataFrame(rows, columns=cols).assign(status="ok", epochs=1.0, budget="epochs")


# depth leads at small compute, width overtakes it from 4e14; depth's 3e14 level is below its
# cheaper 2e14 one, so it is off the envelope
HAND = points([
    ("e1", "depth", 0, 0, 1e14, 0.50), ("e1", "width", 0, 0, 1e14, 0.50),
    ("e1", "depth", 1, 0, 2e14, 0.60), ("e1", "width", 1, 0, 2e14, 0.55),
    ("e2", "depth", 0, 0, 3e14, 0.58), ("e2", "width", 0, 0, 3e14, 0.58),
    ("e2", "depth", 1, 0, 6e14, 0.62), ("e2", "width", 1, 0, 4e14, 0.70),
])  # fmt: skip


def test_envelope_and_frontier_of_hand_made_points():
    levels = frontier_levels(HAND, {"e1": "1 epoch", "e2": "2 epochs"})
    flags = levels.set_index(["sweep", "strategy", "phi"])
    assert not flags.loc[("e2", "depth", 0), "on_envelope"]  # 0.58 < 0.60 at less compute
    assert flags.loc[("e2", "depth", 1), "on_envelope"]
    assert not flags.loc[("e2", "depth", 1), "on_frontier"]  # width's 0.70 is cheaper
    front = levels[levels["on_frontier"]]
    assert list(front["top1"]) == [0.50, 0.60, 0.70]
    assert set(levels["budget"]) == {"1 epoch", "2 epochs"}


def test_crossover_is_where_the_leader_changes():
    levels = frontier_levels(HAND)
    (cross,) = crossovers(levels)
    assert {k: cross[k] for k in ("train_flops", "leader", "previous")} == {
        "train_flops": 4e14, "leader": "width", "previous": "depth"}  # fmt: skip
    assert crossover_lines(levels) == [
        "from about 4e14 training FLOPs, width overtakes depth (70.0 % against 60.0 %, one seed)"
    ]


def test_budgets_within_the_rounding_spread_are_one_budget():
    """Points planned for one budget differ by their networks' rounding: a leader that changes
    inside that spread (width at 1.05e14, depth again at 1.08e14) is not a crossover."""
    near = points([
        ("e1", "depth", 0, 0, 1e14, 0.50), ("e1", "width", 1, 0, 1.05e14, 0.52),
        ("e1", "depth", 1, 0, 1.08e14, 0.53), ("e2", "width", 1, 0, 2e14, 0.70),
        ("e2", "width", 1, 1, 2e14, 0.72), ("e2", "depth", 1, 0, 2e14, 0.60),
    ])  # fmt: skip
    assert crossover_lines(frontier_levels(near)) == [
        "from about 2e14 training FLOPs, width overtakes depth (71.0 % against 60.0 %, one seed)"
    ]
    assert budget_steps(near["train_flops"]) == [(1e14, 1.08e14), (2e14, 2e14)]


def test_no_crossover_is_said():
    one = HAND[HAND["strategy"] == "depth"]
    assert crossover_lines(frontier_levels(one)) == [
        "depth is best at every training budget measured (no crossover)"
    ]
