import math

import pytest

from bench.errors import UserError
from bench.scaling.strategies import (
    Compound,
    Multiplicative,
    linear_extra_blocks,
    round_depth,
    round_resolution,
    round_width,
    strategy_from_config,
)


def test_round_width_is_nearest_multiple_of_8_never_10_percent_below():
    assert round_width(32, 1.0) == 32
    assert round_width(32, 1.1) == 32  # 35.2 -> 32 (9% below: allowed)
    assert round_width(40, 1.1) == 48  # 44 -> 48 (round half up)
    assert round_width(16, 0.6) == 16  # 9.6 -> 8 would be 17% below: bumped up
    assert round_width(1280, 2.0) == 2560
    assert round_width(1280, 1.1) == 1408
    for c in (16, 24, 40, 80, 112, 192, 320, 1280):
        for w in (0.3, 0.5, 0.77, 1.0, 1.13, 1.4, 2.0, 3.1):
            r = round_width(c, w)
            assert r % 8 == 0 and r >= 0.9 * c * w


def test_round_depth_is_ceil_and_at_least_one():
    assert round_depth(2, 1.0) == 2
    assert round_depth(2, 1.1) == 3
    assert round_depth(3, 3.1) == 10
    assert round_depth(1, 0.1) == 1


def test_round_resolution_multiples_of_8_and_of_4_under_64():
    assert round_resolution(224, 1.0) == 224
    assert round_resolution(260, 1.0) == 260  # the baseline's own side stays as given
    assert round_resolution(224, 1.15) == 256  # 257.6
    assert round_resolution(32, 1.1) == 36  # 35.2 under 64 px: multiple of 4
    assert round_resolution(32, 1.5) == 48
    assert round_resolution(32, 2.0) == 64
    assert round_resolution(224, 0.01) == 4


def test_linear_extra_blocks_spreads_evenly_deepest_first():
    assert linear_extra_blocks(0.0, 5) == (0, 0, 0, 0, 0)
    assert linear_extra_blocks(1.0, 5) == (1, 1, 1, 1, 1)
    assert linear_extra_blocks(0.4, 5) == (0, 0, 0, 1, 1)
    assert linear_extra_blocks(1.2, 5) == (1, 1, 1, 1, 2)
    assert linear_extra_blocks(1.4, 5) == (1, 1, 1, 2, 2)
    assert sum(linear_extra_blocks(-0.2, 5)) == -1
    totals = [sum(linear_extra_blocks(k / 10, 4)) for k in range(-10, 40)]
    assert totals == sorted(totals)


@pytest.mark.parametrize("name", ["depth", "width", "resolution", "compound", "uniform", "fast"])
@pytest.mark.parametrize("phi", [-1.0, 0.5, 1.0, 2.0, 3.0])
def test_multiplicative_factors_multiply_to_2_pow_phi(config, name, phi):
    strategy = config(f"strategy={name}").strategy
    s = strategy.scale(phi)
    assert s.d * s.w**2 * s.r**2 == pytest.approx(2**phi, rel=1e-9)


def test_pure_strategies_move_one_dimension(config):
    depth, width, res = (
        config(f"strategy={n}").strategy.scale(2.0) for n in ("depth", "width", "resolution")
    )
    assert (depth.d, depth.w, depth.r) == (4.0, 1.0, 1.0)
    assert (width.d, width.w, width.r) == (1.0, 2.0, 1.0)
    assert (res.d, res.w, res.r) == (1.0, 1.0, 2.0)


def test_compound_weights_from_alpha_beta_gamma(config):
    c = config("strategy=compound").strategy
    a, b, g = c.weights
    assert (a, b, g) == pytest.approx((0.28, 0.30, 0.42), abs=0.01)
    assert a + b + g == pytest.approx(1.0)
    assert c.matched


def test_compound_literal_is_the_papers_powers(config):
    c = config("strategy=compound", "strategy.mode=literal").strategy
    assert not c.matched
    s = c.scale(3)
    assert (s.d, s.w, s.r) == pytest.approx((1.2**3, 1.1**3, 1.15**3))
    assert c.product == pytest.approx(1.2 * 1.1**2 * 1.15**2)


def test_fast_and_uniform_follow_dollar_et_al(config):
    fast = config("strategy=fast").strategy
    uniform = config("strategy=uniform").strategy
    assert fast.weights == pytest.approx((0.1, 0.8, 0.1))
    assert uniform.weights == pytest.approx((1 / 3, 1 / 3, 1 / 3))


def test_linear_scale_asks_for_extra_blocks_only(config):
    lin = config("strategy=linear").strategy
    s = lin.scale(1.0)
    assert (s.d, s.w, s.r) == (1.0, 1.0, 1.0)
    assert s.extra == pytest.approx(1.0)
    assert lin.scale(0.0).extra == 0.0


@pytest.mark.parametrize(
    "node,message",
    [
        ({"_target_": "bench.scaling.Multiplicative", "name": "bad", "weights": [0.5, 0.6, 0.0]},
         "strategy.weights=[0.5, 0.6, 0.0] must be three non-negative numbers summing to 1"),
        ({"_target_": "bench.scaling.Compound", "name": "bad", "alpha": 0.9},
         "strategy.alpha=0.9 must be greater than or equal to 1"),
        ({"_target_": "bench.scaling.Compound", "name": "bad", "mode": "exact"},
         "strategy.mode='exact' must be 'matched' or 'literal'"),
        ({"_target_": "bench.scaling.Compound", "name": "bad", "alpha": 1, "beta": 1, "gamma": 1},
         "strategy: alpha * beta^2 * gamma^2 must be above 1"),
        ({"_target_": "bench.scaling.strategies.Linear", "name": "x", "speed": 2},
         "strategy.speed is not a key of strategy"),
        ({"_target_": "bench.scaling.Scale", "name": "x"}, "is not a bench.scaling.Strategy"),
        ({"_target_": "nowhere.Strategy", "name": "x"}, "cannot be imported"),
    ],
)  # fmt: skip
def test_invalid_strategies_are_one_line_user_errors(node, message):
    with pytest.raises(UserError) as err:
        strategy_from_config(node)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_strategies_are_data():
    ok = Compound(name="ok", alpha=1.2, beta=1.1, gamma=1.15)
    assert math.isfinite(ok.product) and ok.matched
    assert Multiplicative(name="m", weights=(1, 0, 0)).scale(1.0).d == 2.0
