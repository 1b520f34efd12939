"""Several sweeps: rankings by training budget (Bello et al. 2021), model families together."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from helpers.fake_results import write_sweep
from matplotlib.colors import to_rgb

from bench.analysis.compare import compare
from bench.analysis.results import load_sweeps
from bench.report import build_report
from bench.report.by_budget import plot_top1_by_budget
from bench.report.by_family import plot_top1_by_family
from bench.report.prepared import prepare
from bench.report.style import PALETTE
from bench.schema import Plot

PNG = Plot(formats=["png"])
STRATEGIES = ("depth", "width", "compound")
# at 2 epochs width wins phi=1 (70 % on every seed), at 4 epochs compound (75 %): both by far
# more than the seed noise, so the paired test decides both; at phi=2 compound leads by mean
# by less than its seeds' spread (3 points), which no paired test decides
NOISY = {("depth", 2): (0.60, 0.66, 0.57), ("width", 2): (0.64, 0.58, 0.62),
         ("compound", 2): (0.63, 0.61, 0.67)}  # fmt: skip
PHI2 = {(st, phi, s): v for (st, phi), values in NOISY.items() for s, v in enumerate(values)}
FLIP = {("width", 1, s): 0.70 for s in range(3)} | PHI2
FLIP_LONG = {("compound", 1, s): 0.75 for s in range(3)} | PHI2


def budget_sweeps(tmp_path, top1_short=FLIP, top1_long=FLIP_LONG, **kw):
    short = write_sweep(tmp_path / "tiny-shapes-epochs2", strategies=STRATEGIES, phis=(0, 1, 2),
                        epochs=2.0, top1=top1_short, pending=(), **kw)  # fmt: skip
    long = write_sweep(tmp_path / "tiny-shapes-epochs4", strategies=STRATEGIES, phis=(0, 1, 2),
                       epochs=4.0, top1=top1_long, pending=(), **kw)  # fmt: skip
    return short, long


@pytest.fixture(scope="module")
def by_budget(tmp_path_factory, few_resamples):
    """The report of a 2-epoch and a 4-epoch sweep, given in the wrong order."""
    short, long = budget_sweeps(tmp_path_factory.mktemp("runs"))
    return build_report([long, short], options=PNG)


def test_budget_sweeps_get_the_figure_and_the_ranking(by_budget):
    assert "top1_vs_macs_by_budget" in by_budget.figures
    assert {"ranking_csv", "ranking_markdown"} <= set(by_budget.tables)
    assert "top1_by_family" not in by_budget.figures  # one model
    caption = by_budget.figures["top1_vs_macs_by_budget"][-1].read_text()
    assert caption.startswith("tiny on shapes · one panel per training budget")
    assert "band: 95% t-interval of the mean" in caption


def test_budget_sweeps_get_the_compute_frontier_and_its_fits(by_budget):
    out = by_budget.out_dir
    assert by_budget.figures["compute_frontier"][0] == out / "figures" / "compute_frontier.png"
    table = pd.read_csv(out / "tables" / "frontier.csv")
    assert list(table.columns[:5]) == ["train_flops", "strategy", "phi", "top1", "on_frontier"]
    assert {"budget", "seed"} <= set(table.columns)
    assert len(table) == len(by_budget.table[by_budget.table["status"] == "ok"])
    fits = pd.read_csv(out / "tables" / "frontier_fits.csv")
    assert list(fits["strategy"]) == list(STRATEGIES)
    assert set(fits["held_out_budget"]) == {"4 epochs"}
    assert "training FLOPs" in (out / "tables" / "frontier.md").read_text()
    assert by_budget.findings  # the crossovers in words, printed by bench.plot


def test_one_panel_per_budget_on_shared_axes(by_budget):
    prep = prepare(by_budget.table)
    found = compare(by_budget.table, {})  # the budgets come from the table
    fig = plot_top1_by_budget(prep, found.budgets)
    try:
        axes = fig.axes
        assert [ax.get_title() for ax in axes] == ["2 epochs", "4 epochs"]  # shortest first
        assert axes[0].get_ylim() == axes[1].get_ylim()
        assert axes[0].get_xlim() == axes[1].get_xlim() and axes[0].get_xscale() == "log"
        width = [ln for ln in axes[0].get_lines() if ln.get_gid() == "mean" and "width" in
                 ln.get_label()][0]  # fmt: skip
        assert width.get_ydata()[1] == pytest.approx(70.0)  # the 2-epoch sweep's width phi=1
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert labels == list(STRATEGIES)  # no sweep line styles: the panels say the budget
    finally:
        plt.close(fig)


def test_ranking_says_where_the_winner_changes(by_budget):
    ranking = pd.read_csv(by_budget.tables["ranking_csv"])
    assert 0 not in set(ranking["phi"])  # the shared baseline is not ranked
    winners = ranking[ranking["winner"]].set_index(["phi", "budget"])["strategy"]
    assert winners[(1, "2 epochs")] == "width" and winners[(1, "4 epochs")] == "compound"
    assert 2 not in set(winners.index.get_level_values("phi"))  # fakes' noise: undecided
    leaders = ranking[ranking["leader"]].set_index(["phi", "budget"])
    assert leaders.loc[(2, "2 epochs"), "strategy"] == "compound"
    assert leaders.loc[(2, "2 epochs"), "verdict"] == "leads by mean (undecided)"
    changes = ranking.groupby("phi")["winner_changes"].first()
    assert bool(changes[1]) and not bool(changes[2])
    first = ranking[(ranking["phi"] == 1) & (ranking["budget"] == "2 epochs")]
    assert list(first["rank"]) == [1, 2, 3] and first["top1_mean"].iloc[0] == pytest.approx(0.70)
    assert (first["top1_low"] <= first["top1_mean"]).all()
    assert (first["top1_high"] <= 1).all() and set(first["interval"]) == {"t95"}
    text = by_budget.tables["ranking_markdown"].read_text()
    row = next(line for line in text.splitlines() if line.startswith("| 1 | 2 epochs"))
    assert "width 70.0 ± 0.0 > compound" in row and row.rstrip(" |").endswith("yes")
    assert "95% t-interval" in text.splitlines()[0]
    assert text.rstrip().endswith(
        "The winner changes between budgets at phi = 1 (decided winners, paired test)."
    )


def test_when_the_winner_holds_the_ranking_says_so(tmp_path, few_resamples):
    short, long = budget_sweeps(tmp_path, top1_short=None, top1_long=None, seeds=(0,))
    report = build_report([short, long], options=PNG)
    ranking = pd.read_csv(report.tables["ranking_csv"])
    assert not ranking["winner_changes"].any() and set(ranking["interval"]) == {"one"}
    assert not ranking["winner"].any()  # one seed decides nothing
    text = report.tables["ranking_markdown"].read_text()
    assert "The leader by mean is the same at every budget at every ranked phi" in text
    assert "one seed per level, no interval" in text


def test_sweeps_that_differ_in_more_than_the_budget_are_not_compared(tmp_path):
    short, long = budget_sweeps(tmp_path)
    for path in long.glob("*/result.json"):
        result = json.loads(path.read_text())
        result["config"]["train"] = {"lr": 0.4, "epochs": 4.0, "eval_every": 2}
        path.write_text(json.dumps(result))
    report = build_report([short, long], options=PNG)
    assert "top1_vs_macs_by_budget" not in report.figures
    assert "no by-budget comparison: the sweeps also differ in train.lr" in report.notes
    same = write_sweep(tmp_path / "again", strategies=("depth",), phis=(0, 1), epochs=2.0)
    found = compare(load_sweeps([short, same]).table, load_sweeps([short, same]).results)
    assert not found.by_budget
    assert found.notes == ["no by-budget comparison: again, tiny-shapes-epochs2 share a budget"]


@pytest.fixture(scope="module")
def families(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    tiny = write_sweep(runs / "tiny-shapes-epochs5", strategies=("depth", "width"), phis=(0, 1, 2),
                       pending=())  # fmt: skip
    vgg = write_sweep(runs / "vgg11-shapes-epochs5", strategies=("width", "linear"),
                      phis=(0, 1, 2), model="vgg11", pending=(),
                      top1={("linear", 2, s): 0.9 for s in range(3)})  # fmt: skip
    return build_report([tiny, vgg], options=PNG)


def test_families_are_drawn_side_by_side_with_the_front(families):
    assert "top1_by_family" in families.figures
    assert "top1_vs_macs_by_budget" not in families.figures  # the models differ
    caption = families.figures["top1_by_family"][-1].read_text()
    assert "colour: model family" in caption and "marker: strategy" in caption
    fig = plot_top1_by_family(prepare(families.table))
    try:
        ax = fig.axes[0]
        assert ax.get_xscale() == "log" and ax.get_xlabel() == "FLOPs (multiply-adds)"
        curves = [ln for ln in ax.get_lines() if ln.get_gid() == "family"]
        colors = {(to_rgb(ln.get_color()), ln.get_marker()) for ln in curves}
        assert colors == {(PALETTE[0], "o"), (PALETTE[0], "s"), (PALETTE[1], "s"),
                          (PALETTE[1], "v")}  # fmt: skip
        (front,) = [ln for ln in ax.get_lines() if ln.get_gid() == "front"]
        assert max(front.get_ydata()) == pytest.approx(90.0)  # vgg11 linear phi=2 owns the top
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert labels[:2] == ["tiny", "vgg11"] and "Pareto front" in labels
        assert {"depth", "width", "linear"} <= set(labels)
    finally:
        plt.close(fig)


def test_other_data_gives_no_family_figure(tmp_path):
    tiny = write_sweep(tmp_path / "a", strategies=("depth",), phis=(0, 1), pending=())
    vgg = write_sweep(tmp_path / "b", strategies=("depth",), phis=(0, 1), model="vgg11",
                      data="cifar10", pending=())  # fmt: skip
    loaded = load_sweeps([tiny, vgg])
    found = compare(loaded.table, loaded.results)
    assert not found.by_family and not found.by_budget
    assert found.notes == ["no cross-family figure: the sweeps differ in data (cifar10, shapes)"]
