"""bench.analysis.levels: seeds pooled per (sweep, strategy, phi), and the strategies' order."""

from __future__ import annotations

import statistics

import pytest
from helpers.fake_results import write_sweep

from bench.analysis.levels import strategy_order, summarize_levels
from bench.analysis.results import load_results

# compound at phi=2: three seeds with a known spread, checked against a hand computation
SEEDS = {("compound", 2, 0): 0.70, ("compound", 2, 1): 0.72, ("compound", 2, 2): 0.75}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    sweep = write_sweep(tmp_path_factory.mktemp("runs") / "tiny-shapes-epochs5", top1=SEEDS)
    return load_results([sweep])[0]


def test_levels_pool_ok_seeds_and_count_the_rest(table):
    levels = summarize_levels(table).set_index(["strategy", "phi"])
    assert len(levels) == 4 * 4
    width3 = levels.loc[("width", 3.0)]
    assert (width3["n"], width3["n_ok"], width3["n_diverged"], width3["n_failed"]) == (3, 2, 1, 0)
    ok_top1 = table.query("strategy == 'width' and phi == 3 and status == 'ok'")["top1"]
    assert width3["top1_mean"] == pytest.approx(ok_top1.mean())
    compound2 = levels.loc[("compound", 2.0)]
    assert compound2["top1_mean"] == pytest.approx(statistics.mean(SEEDS.values()))


def test_known_strategies_come_first_in_their_order_then_others_sorted():
    names = ["compound_tiny_shapes", "linear", "depth", "abc", "compound"]
    assert strategy_order(names) == ["depth", "compound", "linear", "abc", "compound_tiny_shapes"]
