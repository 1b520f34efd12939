"""bench.report.curves: the learning-curve figure from generated results."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from helpers.fake_results import make_result

from bench.report.curves import WIDE, learning_curves, plot_learning_curves
from bench.report.style import FIGSIZE, FORMATS

EPOCHS = 8
PHIS = (0, 1, 2)
SEEDS = (0, 1)


def long_history(strategy: str, phi: float, seed: int, epochs: int = EPOCHS) -> list[dict]:
    """A saturating top-1 and a falling loss, distinct per point, one entry per epoch."""
    final = make_result(strategy, phi, seed)["top1"]
    return [
        {
            "epoch": float(e),
            "step": 78 * e,
            "train_loss": 2.3 * math.exp(-0.3 * e) + 0.1 * (1 + phi),
            "top1": final * (1 - math.exp(-0.6 * e)),
            "top5": None,
            "lr": 0.1 * (1 + math.cos(math.pi * e / epochs)) / 2,
            "train_seconds": 5.0 * e,
            "eval_seconds": 0.5,
        }
        for e in range(1, epochs + 1)
    ]


def results_for(strategies, phis=PHIS, seeds=SEEDS, baseline_only=None) -> list[dict]:
    """ok results with long histories; ``baseline_only`` alone carries phi=0."""
    out = []
    for strategy in strategies:
        for phi in phis:
            if phi == 0 and baseline_only and strategy != baseline_only:
                continue
            for seed in seeds:
                result = make_result(strategy, phi, seed)
                result["history"] = long_history(strategy, phi, seed)
                out.append(result)
    return out


def curves(ax) -> list:
    """The per-seed lines of a panel (markers such as a diverged point's x left out)."""
    return [line for line in ax.get_lines() if line.get_label().startswith("phi=")]


@pytest.fixture
def close_figures():
    yield
    plt.close("all")


def test_panels_lines_and_colours(close_figures):
    strategies = ("compound", "depth", "width")  # drawn in the project's order
    fig = plot_learning_curves(results_for(strategies))
    assert fig.get_figwidth() == pytest.approx(WIDE)
    assert len(fig.axes) == 2 * len(strategies)
    top, bottom = fig.axes[:3], fig.axes[3:]
    assert [ax.get_title() for ax in top] == ["depth", "width", "compound"]
    for ax in fig.axes:
        lines = curves(ax)
        assert len(lines) == len(PHIS) * len(SEEDS)
        labels = sorted(line.get_label() for line in lines)
        assert labels == sorted(f"phi={p} seed={s}" for p in PHIS for s in SEEDS)
        colors = {}
        for line in lines:
            colors.setdefault(line.get_label().split()[0], set()).add(line.get_color())
        assert all(len(c) == 1 for c in colors.values())  # seeds share their phi's colour
        assert len({c.pop() for c in colors.values()}) == len(PHIS)  # phis do not
    assert top[0].get_ylabel().startswith("Top-1") and bottom[0].get_ylabel() == "Training loss"
    assert bottom[0].get_yscale() == "log"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["0", "1", "2"]


def test_lines_follow_the_history(close_figures):
    results = results_for(["depth"], phis=(1,), seeds=(0,))
    history = results[0]["history"]
    fig = plot_learning_curves(results)
    assert fig.get_figwidth() == pytest.approx(FIGSIZE[0])
    (top1,), (loss,) = curves(fig.axes[0]), curves(fig.axes[1])
    np.testing.assert_allclose(top1.get_xdata(), [e["epoch"] for e in history])
    np.testing.assert_allclose(top1.get_ydata(), [100 * e["top1"] for e in history])
    np.testing.assert_allclose(loss.get_ydata(), [e["train_loss"] for e in history])


def test_colours_are_the_same_phi_in_every_panel(close_figures):
    fig = plot_learning_curves(results_for(["depth", "width"]))
    by_panel = [{line.get_label(): line.get_color() for line in curves(ax)} for ax in fig.axes]
    assert all(panel == by_panel[0] for panel in by_panel[1:])


def test_baseline_appears_in_every_strategy(close_figures):
    results = results_for(["depth", "width", "resolution"], baseline_only="depth")
    fig = plot_learning_curves(results)
    for ax in fig.axes:
        baseline = [line for line in curves(ax) if line.get_label().startswith("phi=0 ")]
        assert len(baseline) == len(SEEDS)


def test_points_without_history_are_skipped(close_figures):
    results = results_for(["depth", "width"], phis=(0, 1), seeds=(0,))
    results.append(make_result("width", 2, 0, "failed"))  # no history key at all
    empty = make_result("depth", 2, 0)
    empty["history"] = []
    results.append(empty)
    none = make_result("depth", 3, 0)
    none["history"] = None
    results.append(none)
    diverged = make_result("width", 2, 1, "diverged")
    diverged["history"] = long_history("width", 2, 1, epochs=3)
    diverged["history"][-1]["top1"] = None  # evaluated after the loss went bad
    results.append(diverged)
    fig = plot_learning_curves(results)
    depth_top, width_top = fig.axes[:2]
    assert len(curves(depth_top)) == 2  # phi 0 and 1; phi 2 and 3 had no history
    assert len(curves(width_top)) == 3  # phi 0, 1 and the diverged phi 2
    stopped = [line for line in curves(width_top) if line.get_label() == "phi=2 seed=1"][0]
    assert len(stopped.get_xdata()) == 2  # the entry without a top-1 is left out
    assert len(width_top.get_lines()) == 4  # plus the x where it diverged
    assert "3 points without a history" in fig.get_suptitle()


def test_nothing_to_draw(close_figures):
    fig = plot_learning_curves([make_result("depth", 1, 0, "failed")])
    assert len(fig.axes) == 2 and not fig.legends
    assert "1 point without a history" in fig.get_suptitle()
    fig.draw_without_rendering()


def test_writes_every_format_and_the_caption(tmp_path):
    out = tmp_path / "figures"
    out.mkdir()
    before = len(plt.get_fignums())
    paths = learning_curves(results_for(["depth", "width", "compound"]), out)
    names = [f"learning_curves.{f}" for f in FORMATS] + ["learning_curves.txt"]
    assert sorted(p.name for p in paths) == sorted(names)
    assert all(p.parent == out and p.stat().st_size > 0 for p in paths)
    assert paths[0].read_bytes().startswith(b"\x89PNG")
    assert "one line per seed" in (out / "learning_curves.txt").read_text()
    assert len(plt.get_fignums()) == before  # closed after saving


def test_formats_and_no_caption(tmp_path, close_figures):
    paths = learning_curves(results_for(["depth"]), tmp_path, formats=["pdf"], caption=False)
    assert [p.name for p in paths] == ["learning_curves.pdf", "learning_curves.txt"]
    assert plot_learning_curves(results_for(["depth"]), caption=False).get_suptitle() == ""
    wide = plot_learning_curves(results_for(["depth"]), width="double")
    assert wide.get_figwidth() == pytest.approx(WIDE)


def test_a_narrow_loss_range_still_has_readable_ticks(close_figures):
    results = results_for(("depth",), seeds=(0,))
    for r in results:  # 3 epochs of a short run: the loss between 0.8 and 1.7
        r["history"] = [dict(h, train_loss=1.7 - 0.3 * h["epoch"]) for h in r["history"][:3]]
    fig = plot_learning_curves(results)
    fig.canvas.draw()
    ax = fig.axes[1]
    lo, hi = ax.get_ylim()
    labels = [t.get_text() for t in ax.get_yticklabels(minor=True) + ax.get_yticklabels()
              if t.get_text() and lo <= t.get_position()[1] <= hi]  # fmt: skip
    assert len(labels) >= 3, labels
    assert ax.get_yscale() == "linear"  # a log axis over 0.8-1.7 labels only 1 (and 0.9)
