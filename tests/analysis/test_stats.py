"""bench.analysis.stats: the t quantile, the interval on a mean over seeds, and the interval
shown around a level (plot.interval: t95, sd, range), never outside [0, 1]."""

import math
import statistics

import pytest

from bench.analysis.stats import mean_ci, seed_interval, t_quantile


def test_t_quantiles_match_reference_values():
    # two-sided 95 % Student t quantiles, from statistical tables
    for df, ref in {1: 12.7062, 2: 4.3027, 4: 2.7764, 30: 2.0423, 100: 1.9840}.items():
        assert t_quantile(df) == pytest.approx(ref, abs=2e-4)
    assert math.isnan(t_quantile(0))


def test_mean_ci_is_the_t_interval():
    values = [0.70, 0.72, 0.75]
    mean, half = mean_ci(values)
    assert mean == pytest.approx(statistics.mean(values))
    assert half == pytest.approx(4.3027 * statistics.stdev(values) / math.sqrt(3), rel=1e-4)
    assert mean_ci([0.5, None, float("nan")]) == (0.5, pytest.approx(math.nan, nan_ok=True))
    assert math.isnan(mean_ci([])[0])


def test_t95_is_the_t_interval_and_is_clipped_to_the_bounds():
    values = [0.70, 0.72, 0.75]
    half = t_quantile(2) * statistics.stdev(values) / math.sqrt(3)
    got = seed_interval(values, "t95")
    assert got.kind == "t95" and not got.clipped
    assert (got.low, got.high) == pytest.approx((statistics.mean(values) - half,
                                                 statistics.mean(values) + half))  # fmt: skip
    near_one = seed_interval([0.99, 0.999, 0.90], "t95")
    assert near_one.clipped and near_one.high == 1.0 and 0 <= near_one.low < near_one.mean


def test_sd_and_range():
    values = [0.1, 0.2, 0.6]
    sd = seed_interval(values, "sd")
    assert sd.high - sd.mean == pytest.approx(statistics.stdev(values)) and sd.kind == "sd"
    assert seed_interval([0.0, 0.01, 0.5], "sd").low == 0.0  # clipped at 0
    assert seed_interval(values, "range")[1:] == (0.1, 0.6, "range", False)


def test_too_few_values_for_a_band():
    # two seeds: t = 12.7 would give -25 % .. 100 %+; their range is what is shown
    assert seed_interval([0.3, 0.9], "t95") == (pytest.approx(0.6), 0.3, 0.9, "range", False)
    assert seed_interval([0.4, None, math.nan], "sd")[1:] == (0.4, 0.4, "one", False)
    assert seed_interval([], "range").kind == "none"
    with pytest.raises(ValueError, match="interval 'ci' must be one of t95, sd, range"):
        seed_interval([0.5], "ci")
