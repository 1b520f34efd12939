"""Flagged points drawn and footnoted: overlays on every top-1 figure, marks in the tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from helpers.fake_results import write_sweep
from matplotlib.colors import to_rgb

from bench.analysis.results import load_results
from bench.report.flags import FLAGS, OVERLAYS
from bench.report.pareto import plot_pareto
from bench.report.prepared import prepare
from bench.report.tables import to_latex, to_markdown
from bench.report.top1_vs_cost import AXES, plot_top1_vs

KINDS = ["still improving", "not above chance", "off MAC target"]


@pytest.fixture(scope="module")
def table(flagged_sweep):
    return load_results([flagged_sweep])[0]


def overlays(ax, flag) -> list[tuple[float, float]]:
    """(x, y) data positions of a kind's overlay markers."""
    look = OVERLAYS[flag.key]
    return [
        xy
        for line in ax.get_lines()
        if line.get_marker() == look.marker and line.get_markerfacecolor() != "white"
        and line.get_gid() is None and line.get_markersize() == look.size
        for xy in zip(line.get_xdata(), line.get_ydata(), strict=True)
    ]  # fmt: skip


def level(table, strategy, phi, column):
    ok = table[(table["strategy"] == strategy) & (table["phi"] == phi) & (table["status"] == "ok")]
    return ok[column].astype(float).mean()


@pytest.mark.parametrize("name", list(AXES))
def test_every_top1_figure_marks_each_kind_with_a_legend_entry(table, name):
    column = AXES[name].column
    fig = plot_top1_vs(prepare(table), name)
    try:
        ax = fig.axes[0]
        improving, chance, off = (overlays(ax, f) for f in FLAGS)
        assert sorted(x for x, _ in improving) == pytest.approx(
            sorted(level(table, s, 3, column) for s in ("depth", "width"))
        )
        expected = (level(table, "depth", 2, column), 100 * level(table, "depth", 2, "top1"))
        assert chance == [pytest.approx(expected)]
        assert off == [pytest.approx((level(table, "width", 1, column),
                                      100 * level(table, "width", 1, "top1")))]  # fmt: skip
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert labels[-3:] == KINDS
    finally:
        plt.close(fig)


def test_overlays_survive_greyscale_and_differ_in_shape(table):
    fig = plot_top1_vs(table)
    try:
        handles = {h.get_label(): h for h in fig.legends[0].legend_handles}
        shapes = set()
        for kind in KINDS:
            handle = handles[kind]
            r, g, b = to_rgb(handle.get_markeredgecolor())
            assert r == g == b and r < 0.5  # dark ink, not a hue
            shapes.add(handle.get_marker())
        assert len(shapes) == 3
        assert handles["still improving"].get_markerfacecolor() == "none"  # an open ring
    finally:
        plt.close(fig)


def test_the_pareto_front_marks_its_flagged_levels(table):
    fig = plot_pareto(table)
    try:
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert "still improving" in labels  # phi 3 is on the front
    finally:
        plt.close(fig)


def test_a_sweep_without_problems_has_no_flag_entries(tmp_path):
    sweep = write_sweep(tmp_path / "s", strategies=("depth",), phis=(0, 1, 2), pending=())
    fig = plot_top1_vs(load_results([sweep])[0])
    try:
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert not set(KINDS) & set(labels)
    finally:
        plt.close(fig)


def test_tables_footnote_the_flagged_levels(table):
    text = to_markdown(table)
    rows = {tuple(c.strip() for c in line.split("|")[1:3]): line for line in text.splitlines()
            if line.startswith("| ")}  # fmt: skip
    assert "‡" in rows[("2", "depth")] and "‡" not in rows[("2", "width")]
    assert "§" in rows[("1", "width")] and "§" not in rows[("1", "depth")]
    assert "†" in rows[("3", "depth")] and "†" in rows[("3", "width")]
    assert not any(m in rows[("0", "depth")] for m in "†‡§")
    first = text.splitlines()[0]
    for flag in FLAGS:
        assert f"{flag.mark} {flag.note}" in first
    tex = to_latex(table)
    for mark in (r"$^{\dagger}$", r"$^{\ddagger}$", r"$^{\S}$"):
        assert mark in tex.split(r"\midrule", 1)[1]  # in the cells
        assert mark in tex.split(r"\begin{tabular}")[0]  # and explained in the caption
    assert not {"†", "‡", "§"} & set(tex)
