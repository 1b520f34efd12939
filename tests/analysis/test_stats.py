"""bench.report.stats: the t quantile and the interval on a mean over seeds."""

import math
import statistics

import pytest

from bench.report.stats import mean_ci, t_quantile


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
