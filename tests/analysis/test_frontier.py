"""The compute frontier: envelopes, the baseline as its own series, tested leaders, crossovers and
flags, on hand-made points."""

from __future__ import annotations

from analysis.frontier_points import HAND, points
from bench.analysis.frontier import (
    frontier_levels,
    frontier_table,
    series_points,
)
from bench.analysis.frontier_leaders import (
    budget_steps,
    crossover_lines,
    crossovers,
    leader_rows,
    leader_steps,
)


def lines_of(table):
    levels = frontier_levels(table)
    return crossover_lines(levels, leader_steps(levels, series_points(table)))


def test_the_baseline_is_its_own_series_and_envelope():
    levels = frontier_levels(HAND, {"e1": "1 epoch", "e2": "2 epochs"})
    flags = levels.set_index(["sweep", "strategy", "phi"])
    base = levels[levels["phi"] == 0]
    assert list(base["strategy"]) == ["baseline", "baseline"]  # one level per sweep
    assert list(base["n"]) == [1, 1]  # every strategy's phi 0 point is one training
    assert flags.loc[("e2", "baseline", 0), "on_envelope"]  # 0.58 beats the cheaper 0.50
    assert flags.loc[("e2", "depth", 1), "on_envelope"]
    assert not flags.loc[("e2", "depth", 1), "on_frontier"]  # width's 0.70 is cheaper
    assert list(levels.loc[levels["on_frontier"], "top1"]) == [0.50, 0.60, 0.70]
    assert set(levels["budget"]) == {"1 epoch", "2 epochs"}


def test_a_leader_of_one_seed_leads_by_mean_only():
    levels = frontier_levels(HAND)
    steps = leader_steps(levels, series_points(HAND))
    (_, cross) = crossovers(steps)
    assert {k: cross[k] for k in ("train_flops", "leader", "previous", "decided")} == {
        "train_flops": 4e14, "leader": "width", "previous": "depth", "decided": False}  # fmt: skip
    assert crossover_lines(levels, steps)[1] == (
        "from about 4e14 training FLOPs, width leads depth by mean (70.0 % against 60.0 %, "
        "one seed: untested)"
    )
    rows = leader_rows(steps)
    assert list(rows["leader"]) == ["baseline", "depth", "depth", "width", "width"]
    assert rows["verdict"].iloc[0] == "the only series so far (nothing to compare)"
    assert set(rows["verdict"].iloc[1:]) == {"leads by mean (one seed)"}
    assert not rows["decided"].any()


def test_four_one_seed_points_overtake_nothing():
    """70.0/70.1/70.2/70.3 % at one seed each: three changes of leader, none a crossover."""
    close = points([
        ("e1", "depth", 1, 0, 1e14, 0.700), ("e1", "width", 1, 0, 2e14, 0.701),
        ("e1", "resolution", 1, 0, 4e14, 0.702), ("e1", "compound", 1, 0, 8e14, 0.703),
    ])  # fmt: skip
    lines = lines_of(close)
    assert len(lines) == 3
    assert all("by mean" in line and "overtakes" not in line for line in lines)


def test_a_seeded_lead_is_tested_and_then_overtakes():
    """Three seeds, width ahead of depth at every one by 10 points give or take 1: decided."""
    seeded = points([
        ("e1", "depth", 0, 0, 1e14, 0.50), ("e1", "depth", 0, 1, 1e14, 0.51),
        ("e1", "depth", 0, 2, 1e14, 0.49), ("e1", "depth", 1, 1, 2e14, 0.60),
        ("e1", "depth", 1, 2, 2e14, 0.61), ("e1", "depth", 1, 0, 2e14, 0.59),
        ("e2", "width", 1, 0, 4e14, 0.70), ("e2", "width", 1, 1, 4e14, 0.705),
        ("e2", "width", 1, 2, 4e14, 0.715),
    ])  # fmt: skip
    levels = frontier_levels(seeded)
    steps = leader_steps(levels, series_points(seeded))
    line = crossover_lines(levels, steps)[-1]
    assert line.startswith("from about 4e14 training FLOPs, width overtakes depth (70.7 % against")
    assert "paired test over 3 seeds: +10.7 points" in line
    assert leader_rows(steps)["verdict"].iloc[-1].startswith("decided")
    noisy = seeded.assign(top1=seeded["top1"] + [0, 0, 0, 0, 0.2, -0.2, 0, 0.2, -0.2])
    levels = frontier_levels(noisy)
    line = crossover_lines(levels, leader_steps(levels, series_points(noisy)))[-1]
    assert "width leads depth by mean" in line and "undecided by the paired test" in line


def test_the_baseline_trained_longer_is_never_a_strategys_point():
    """The issue's map: the baseline at 2 epochs (77 %) beats depth's points; compound's later
    85 % overtakes the baseline, not depth."""
    table = points([
        ("e1", "depth", 0, 1e12, 0.70), ("e1", "compound", 0, 1e12, 0.70),
        ("e1", "depth", 1, 1.9e12, 0.72), ("e1", "compound", 1, 1.9e12, 0.71),
        ("e2", "depth", 0, 2e12, 0.77), ("e2", "compound", 0, 2e12, 0.77),
        ("e2", "depth", 1, 3.8e12, 0.74), ("e2", "compound", 1, 3.8e12, 0.85),
    ], seeds=(0, 1, 2), spread=0.004)  # fmt: skip
    budgets = {"e1": "1 epoch", "e2": "2 epochs"}
    levels = frontier_levels(table, budgets)
    steps = leader_steps(levels, series_points(table))
    lines = crossover_lines(levels, steps)
    assert not any("overtakes depth" in line or "leads depth" in line for line in lines)
    assert lines[-1].startswith("from about 3.8e12 training FLOPs, compound ")
    assert "the baseline at 2 epochs by mean (85.4 % against 77.4 %" in lines[-1]
    assert "the paired test over 3 seeds has no interval" in lines[-1]  # equal spreads


def test_budgets_within_the_rounding_spread_are_one_budget():
    """Points planned for one budget differ by their networks' rounding: a leader that changes
    inside that spread (the baseline at 1e14, width at 1.05e14, depth at 1.08e14) is not a
    crossover."""
    near = points([
        ("e1", "depth", 0, 0, 1e14, 0.50), ("e1", "width", 1, 0, 1.05e14, 0.52),
        ("e1", "depth", 1, 0, 1.08e14, 0.53), ("e2", "width", 1, 0, 2e14, 0.70),
        ("e2", "width", 1, 1, 2e14, 0.72), ("e2", "depth", 1, 0, 2e14, 0.60),
    ])  # fmt: skip
    assert lines_of(near) == [
        "from about 2e14 training FLOPs, width leads depth by mean (71.0 % against 60.0 %, "
        "one seed: untested)"
    ]
    assert budget_steps(near["train_flops"]) == [(1e14, 1.08e14), (2e14, 2e14)]


def test_no_crossover_is_said_with_how_often_the_lead_is_decided():
    ahead = HAND[HAND["phi"] == 1].replace({"top1": {0.70: 0.58}})  # depth leads throughout
    assert lines_of(ahead) == [
        "depth leads by mean at every training budget measured (no crossover; the paired test "
        "decides its lead at 0 of 3 budgets)"
    ]
    alone = HAND[(HAND["strategy"] == "depth") & (HAND["phi"] == 1)]
    assert lines_of(alone) == ["depth is the only series measured (nothing to compare)"]


def test_the_frontier_table_carries_the_flags():
    flagged = HAND.assign(still_improving=False, above_chance=True, within_tolerance=True)
    flagged.loc[flagged["top1"] == 0.70, "still_improving"] = True
    flagged.loc[flagged["top1"] == 0.60, "within_tolerance"] = False
    levels = frontier_levels(flagged)
    table = frontier_table(flagged, levels)
    assert list(table.columns[-2:]) == ["series", "flags"]
    assert set(table.loc[table["top1"] == 0.70, "flags"]) == {"1 still improving"}
    assert set(table.loc[table["phi"] == 0, "series"]) == {"baseline"}
    rows = leader_rows(leader_steps(levels, series_points(flagged)))
    assert set(rows.loc[rows["top1"] == 0.60, "flags"]) == {"1 off MAC target"}
