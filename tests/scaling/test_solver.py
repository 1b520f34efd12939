"""The solver lands every point on its MAC budget, or says why it cannot."""

import pytest

from bench.scaling.solver import Planner

FAMILIES = ["efficientnet_b0", "resnet18", "resnet50", "vgg11"]
STRATEGIES = ["depth", "width", "resolution", "compound", "linear"]


def _planner(config, model, data="imagenet"):
    cfg = config(f"model={model}", f"data={data}")
    return Planner(cfg.model, int(cfg.data.resolution), int(cfg.data.num_classes)), cfg


@pytest.mark.parametrize("model", FAMILIES)
def test_every_point_meets_its_target_or_explains(config, model):
    planner, _ = _planner(config, model)
    for name in STRATEGIES:
        strategy = config(f"strategy={name}").strategy
        for phi in (1, 2, 3):
            p = planner.solve(strategy, phi)
            assert p.target_macs == pytest.approx(planner.baseline.cost.macs * 2**phi)
            if p.within_tolerance:
                assert abs(p.macs_ratio - 1) <= 0.05
                assert p.note == "" and not p.infeasible
            else:  # flagged, and trained: every preset point lands within plan.max_miss
                assert abs(p.macs_ratio - 1) <= planner.max_miss and not p.infeasible
                assert f"strategy={name} phi={phi}" in p.note
                assert "closest is" in p.note and "\n" not in p.note
                assert "not trained" not in p.note and "trained there and flagged" in p.note


def test_a_miss_beyond_max_miss_is_refused_and_says_so(config):
    planner, cfg = _planner(config, "vgg11")
    strict = Planner(cfg.model, 224, 1000, max_miss=0.05)  # vgg11 depth phi=3 misses by 5.9 %
    p = strict.solve(config("strategy=depth").strategy, 3)
    assert abs(p.macs_ratio - 1) > strict.max_miss and p.infeasible
    assert "not trained" in p.note and "closest is" in p.note


def test_phi_zero_is_the_shared_baseline(config):
    planner, _ = _planner(config, "efficientnet_b0")
    points = [planner.solve(config(f"strategy={n}").strategy, 0) for n in STRATEGIES]
    assert {(p.candidate.arch, p.candidate.resolution) for p in points} == {
        (planner.baseline.arch, 224)
    }
    assert all(p.macs_ratio == 1.0 for p in points)


def test_points_move_only_their_own_dimension(config):
    planner, _ = _planner(config, "resnet50")
    base = planner.baseline
    depth = planner.solve(config("strategy=depth").strategy, 2).candidate
    width = planner.solve(config("strategy=width").strategy, 2).candidate
    res = planner.solve(config("strategy=resolution").strategy, 2).candidate
    assert depth.arch.widths == base.arch.widths and depth.resolution == 224
    assert width.arch.depths == base.arch.depths and width.resolution == 224
    assert res.arch == base.arch and res.resolution > 224


def test_negative_phi_below_the_smallest_network_is_infeasible(config):
    planner, _ = _planner(config, "tiny", data="imagenet")
    depth = config("strategy=depth").strategy
    p = planner.solve(depth, -4)
    assert p.infeasible
    assert "nothing smaller exists" in p.note
    assert p.candidate.arch.depths == (1, 1, 1, 1)


def test_literal_compound_is_reported_not_matched(config):
    planner, _ = _planner(config, "efficientnet_b0")
    literal = config("strategy=compound", "strategy.mode=literal").strategy
    p = planner.solve(literal, 3)
    assert p.literal and not p.infeasible
    assert p.candidate.scale.d == pytest.approx(1.2**3)
    assert abs(p.macs_ratio - 1) > 0.05  # ceil rounding overshoots the 1.92**3 the powers give
    assert "literal compound scaling" in p.note


def test_precision_zero_finds_the_closest_rounding_step(config):
    cfg = config("model=efficientnet_b0", "data=imagenet")
    exact = Planner(cfg.model, 224, 1000, precision=0.0)
    width = config("strategy=width").strategy
    p = exact.solve(width, 1)
    assert abs(p.macs_ratio - 1) <= 0.005
