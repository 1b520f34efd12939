"""bench.report.frontier and frontier_plot: the frontier's Markdown and figure carry the flags."""

from __future__ import annotations

import matplotlib.pyplot as plt
from analysis.frontier_points import HAND

from bench.analysis.flags import FLAGS
from bench.analysis.frontier import frontier_levels, series_points
from bench.analysis.frontier_leaders import crossover_lines, leader_rows, leader_steps
from bench.report.frontier import frontier_markdown
from bench.report.frontier_plot import plot_frontier
from bench.report.prepared import prepare


def test_the_markdown_and_figure_carry_the_flags():
    flagged = HAND.assign(still_improving=False, above_chance=True, within_tolerance=True)
    flagged.loc[flagged["top1"] == 0.70, "still_improving"] = True
    flagged.loc[flagged["top1"] == 0.60, "within_tolerance"] = False
    levels = frontier_levels(flagged)
    steps = leader_steps(levels, series_points(flagged))
    text = frontier_markdown(levels, leader_rows(steps), crossover_lines(levels, steps))
    assert "| width | 1 | 1 epoch | 70.0 | 1 | 1 still improving |" in text
    assert (
        "| depth | 1 | 1 epoch | 60.0 | 1 | 3 | leads by mean (one seed) | 1 off MAC target |"
        in (text)
    )
    fig = plot_frontier(prepare(flagged), levels, steps, [])
    try:
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert "baseline trained longer" in labels
        assert [f.label for f in FLAGS if f.label in labels] == ["still improving",
                                                                 "off MAC target"]  # fmt: skip
    finally:
        plt.close(fig)
