"""bench.scaling.regularization: dropout and drop-path growing with MACs, as in EfficientNet."""

import math

import pytest
from conftest import bench

from bench.scaling.regularization import CEILING, SLOPE, regularised


def test_the_rule_reproduces_efficientnet_b0_to_b7(config):
    model = config("model=efficientnet_b0", "model.drop_rate=0.2").model
    b7 = regularised(model, "scaled", 37 / 0.39)  # B7's FLOPs over B0's
    assert b7.drop_rate == pytest.approx(0.5)
    b3 = regularised(model, "scaled", 1.8 / 0.39)
    assert round(b3.drop_rate, 1) == 0.3  # the paper's B3
    assert pytest.approx(0.3 / math.log2(37 / 0.39)) == SLOPE


def test_fixed_keeps_the_models_rates_and_scaled_grows_them_per_doubling(config):
    model = config("model=tiny", "model.drop_rate=0.1", "model.drop_path_rate=0.05").model
    assert regularised(model, "fixed", 4.0) is model
    doubled = regularised(model, "scaled", 2.0)
    assert doubled.drop_rate == pytest.approx(0.1 + SLOPE, abs=1e-4)
    assert doubled.drop_path_rate == pytest.approx(0.05 + SLOPE, abs=1e-4)
    assert regularised(model, "scaled", 0.5).drop_rate == pytest.approx(0.1)  # below baseline
    assert regularised(model, "scaled", 2.0**40).drop_rate == CEILING
    high = config("model=tiny", "model.drop_rate=0.7").model
    assert regularised(high, "scaled", 8.0).drop_rate == 0.7  # never lowered


def test_drop_path_grows_only_where_the_family_uses_it(config):
    model = config("model=tiny", "model.drop_path_rate=0").model
    assert regularised(model, "scaled", 4.0).drop_path_rate == 0.0


def test_a_bad_mode_is_one_line():
    proc = bench("plan", "train.regularization=grown")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "train.regularization" in proc.stderr
    assert "fixed" in proc.stderr and "scaled" in proc.stderr
