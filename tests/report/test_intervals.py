"""plot.interval: t95, sd and range around a level's mean, never outside [0, 100] %."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from helpers.fake_results import write_sweep

from bench.analysis.levels import summarize_levels
from bench.analysis.results import load_results
from bench.report.prepared import prepare
from bench.report.tables import to_latex, to_markdown
from bench.report.top1_vs_cost import caption, plot_top1_vs
from bench.schema import Plot


def sweep_with(tmp_path, top1: dict, seeds=(0, 1, 2)):
    """depth at phi 0 and 1 with the top-1 values given, nothing diverged or pending."""
    return write_sweep(tmp_path / "s", strategies=("depth",), phis=(0, 1), seeds=seeds, top1=top1,
                       diverged=(), failed=(), pending=(), clutter=False)  # fmt: skip


def artists(ax, gid: str) -> list:
    return [a for a in ax.get_children() if a.get_gid() == gid]


def y_extent(artist) -> tuple[float, float]:
    """Lowest and highest y a band, a range bar or a line reaches."""
    if hasattr(artist, "get_ydata"):
        y = np.asarray(artist.get_ydata(), float)
    else:
        y = np.concatenate([p.vertices[:, 1] for p in artist.get_paths()])
    return float(y.min()), float(y.max())


# ---------------------------------------------------------------- drawn and tabulated


def test_two_seeds_draw_each_seed_and_their_range_inside_the_axes(tmp_path):
    # naive t95 on two seeds: 50 +- 12.7 * 63.6 / sqrt(2) = -521 % .. 621 %
    top1 = {
        ("depth", 0, 0): 0.5,
        ("depth", 0, 1): 0.5,
        ("depth", 1, 0): 0.05,
        ("depth", 1, 1): 0.95,
    }
    table = load_results([sweep_with(tmp_path, top1, seeds=(0, 1))])[0]
    fig = plot_top1_vs(table)
    try:
        ax = fig.axes[0]
        assert not artists(ax, "band")  # no band on two seeds
        (bar,) = artists(ax, "range")
        assert y_extent(bar) == pytest.approx((5.0, 95.0))
        (seeds,) = artists(ax, "seeds")
        assert sorted(seeds.get_ydata()) == pytest.approx([5.0, 50.0, 50.0, 95.0])
        low, high = ax.get_ylim()
        assert low >= 0 and high <= 100
        assert "levels with 2 seeds: each seed and their range" in fig.get_suptitle()
    finally:
        plt.close(fig)
    text = to_markdown(table)
    assert "50.0 [5.0, 95.0]" in text and "Top-1 (%, mean [min, max])" in text
    assert "levels with 2 seeds: mean [lowest, highest] seed" in text.splitlines()[0]


@pytest.mark.parametrize("interval", ["t95", "sd", "range"])
def test_no_interval_ever_leaves_0_to_100(tmp_path, interval):
    top1 = {("depth", 0, s): v for s, v in enumerate((0.01, 0.02, 0.60))}
    top1 |= {("depth", 1, s): v for s, v in enumerate((0.99, 1.0, 0.40))}
    table = load_results([sweep_with(tmp_path, top1)])[0]
    levels = summarize_levels(table, interval)
    assert (levels["top1_low"] >= 0).all() and (levels["top1_high"] <= 1).all()
    assert set(levels["top1_interval"]) == {interval}
    fig = plot_top1_vs(prepare(table, options=Plot(interval=interval)))
    try:
        (band,) = artists(fig.axes[0], "band")
        low, high = y_extent(band)
        assert low >= 0 and high <= 100
        if interval != "range":  # the unclipped interval would leave [0, 100]: it was clipped
            assert low == 0 or high == 100
            assert "clipped to [0, 100]%" in fig.get_suptitle()
        else:
            assert (low, high) == pytest.approx((1.0, 100.0))
    finally:
        plt.close(fig)


def test_a_clipped_t_interval_shows_its_ends_and_says_so(tmp_path):
    top1 = {("depth", 1, s): v for s, v in enumerate((0.99, 0.999, 0.90))}
    table = load_results([sweep_with(tmp_path, top1)])[0]
    text = to_markdown(table)
    row = next(line for line in text.splitlines() if line.startswith("| 1 | depth"))
    assert row.rstrip(" |").endswith(", 100.0]")
    assert "the interval's ends where it is clipped to [0, 100]%" in text.splitlines()[0]
    assert r"clipped to [0, 100]\%" in to_latex(table)


@pytest.mark.parametrize(
    ("interval", "header", "words"),
    [
        ("t95", "Top-1 (%, mean ± t95)", "band: 95% t-interval of the mean, clipped"),
        ("sd", "Top-1 (%, mean ± SD)", "band: mean ± 1 SD, clipped"),
        ("range", "Top-1 (%, mean [min, max])", "band: lowest to highest seed"),
    ],
)
def test_every_caption_and_header_names_the_interval(tmp_path, interval, header, words):
    top1 = {("depth", 1, s): v for s, v in enumerate((0.70, 0.72, 0.75))}
    table = load_results([sweep_with(tmp_path, top1)])[0]
    assert words in caption(prepare(table, options=Plot(interval=interval)))
    assert header in to_markdown(table, interval=interval)
    row = next(line for line in to_markdown(table, interval=interval).splitlines()
               if line.startswith("| 1 | depth"))  # fmt: skip
    expected = {"t95": "72.3 ± 6.3", "sd": "72.3 ± 2.5", "range": "72.3 [70.0, 75.0]"}[interval]
    assert expected in row


def test_one_seed_has_no_interval(tmp_path):
    table = load_results([sweep_with(tmp_path, {}, seeds=(0,))])[0]
    fig = plot_top1_vs(table)
    try:
        ax = fig.axes[0]
        assert not artists(ax, "band") and not artists(ax, "range") and not artists(ax, "seeds")
        assert "one seed per level: no interval" in fig.get_suptitle()
    finally:
        plt.close(fig)
    assert "Top-1 (%) |" in to_markdown(table)
