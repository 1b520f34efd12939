"""bench.plot and bench.figures: the results table, the CSV, every figure, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from fake_results import make_result, point_name, write_big_sweep, write_result, write_sweep
from PIL import Image

from bench.errors import UserError
from bench.figures import (
    DPI,
    FIGSIZE,
    FIGURE_NAMES,
    caption,
    pareto_front,
    plot_pareto,
    plot_top1_vs,
    prepare,
    strategy_colors,
)
from bench.plot import INTERFACE, build_report, load_results

REPO = Path(__file__).resolve().parent.parent
POINTS = 4 * 4 * 3  # write_sweep's default: strategies x levels x seeds


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One report built once for the tests that only read it (figures take seconds)."""
    sweep = write_sweep(tmp_path_factory.mktemp("runs") / "tiny-shapes-epochs5")
    return build_report([sweep])


def test_csv_has_one_row_per_point_and_the_interface_columns(report):
    csv = pd.read_csv(report.csv)
    assert report.csv == report.out_dir / "results.csv"
    assert len(csv) == len(report.table) == POINTS
    assert list(csv.columns[: len(INTERFACE)]) == INTERFACE
    assert not {"config", "history", "timings", "versions", "device"} & set(csv.columns)
    ok = csv[csv["status"] == "ok"].iloc[0]
    assert ok["depths"] == "1-2-2-2" and ok["widths"] == "16-24-40-64"
    assert ok["device_type"] == "cpu" and ok["sweep"] == "tiny-shapes-epochs5"
    text = report.csv.read_text()  # integers stay integers although the failed row has none
    assert ",2610194,129778,82578," in text and "2610194.0" not in text
    assert set(csv["status"]) == {"ok", "diverged", "failed"}
    assert (csv["status"] == "failed").sum() == 1 and (csv["status"] == "diverged").sum() == 1
    assert not [p for p in report.csv.parent.iterdir() if p.name.endswith(".tmp")]


def test_pending_point_folders_are_counted_and_clutter_ignored(report):
    assert report.missing == 1  # compound_phi4_seed0 has no result.json yet
    assert "trained" not in set(report.table["point"])
    assert report.table["point"].str.match(r".+_phi.+_seed\d+").all()


def test_every_figure_in_three_formats(report):
    assert set(report.figures) == set(FIGURE_NAMES)
    for name, paths in report.figures.items():
        assert [p.suffix for p in paths] == [".png", ".pdf", ".svg"], name
        assert all(
            p.parent == report.out_dir / "figures" and p.stat().st_size > 1000 for p in paths
        )
        png, pdf, svg = paths
        with Image.open(png) as image:
            image.verify()
        with Image.open(png) as image:
            assert image.size == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))
        assert pdf.read_bytes().startswith(b"%PDF")
        assert b"<svg" in svg.read_bytes()[:2000]


def test_tables_are_written(report):
    assert report.tables["markdown"] == report.out_dir / "tables" / "results_table.md"
    assert "| 3 | width" in report.tables["markdown"].read_text()
    assert r"\toprule" in report.tables["latex"].read_text()


def test_diverged_and_failed_points_are_drawn_and_counted(report):
    fig = plot_top1_vs(report.table, "top1_vs_macs", missing=report.missing)
    try:
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert labels == ["depth", "width", "resolution", "compound", "diverged", "failed"]
        text = fig.get_suptitle()
        assert "tiny on shapes · 5 epochs per point · seeds: 3" in text
        assert "1 diverged, 1 failed" in text and "1 pending" in text
        ax = fig.axes[0]
        colors = strategy_colors(report.table["strategy"])
        marks = {line.get_marker(): line for line in ax.get_lines() if line.get_marker() in "x+"}
        assert set(marks) == {"x", "+"}
        assert marks["x"].get_color() == colors["width"]  # width phi=3 seed 1 diverged
        assert marks["+"].get_color() == colors["resolution"]
        # placed at the point's MACs, on the bottom edge of the axes
        width3 = report.table.query("strategy == 'width' and phi == 3 and status == 'diverged'")
        assert marks["x"].get_xdata()[0] == pytest.approx(width3["macs"].iloc[0])
        assert list(marks["x"].get_ydata()) == [0]
        phi_labels = {t.get_text() for t in ax.texts}
        assert {"0", "1", "2", "3"} <= phi_labels
        assert ax.get_xlabel() == "FLOPs (multiply-adds)"
        assert ax.get_ylabel() == "Top-1 accuracy (%)"
        assert ax.get_xscale() == "log"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["2.6M", "5.2M", "10M", "21M"]
    finally:
        plt.close(fig)


def test_mean_curve_and_band_are_the_seed_mean_and_interval(tmp_path):
    top1 = {("depth", 1, 0): 0.70, ("depth", 1, 1): 0.72, ("depth", 1, 2): 0.75}
    sweep = write_sweep(
        tmp_path / "s",
        strategies=("depth",),
        phis=(0, 1),
        top1=top1,
        diverged=(),
        failed=(),
        pending=(),
    )
    fig = plot_top1_vs(load_results([sweep])[0])
    try:
        ax = fig.axes[0]
        curve = next(line for line in ax.get_lines() if line.get_marker() == "o")
        assert curve.get_ydata()[1] == pytest.approx(100 * (0.70 + 0.72 + 0.75) / 3)
        band = ax.collections[0].get_paths()[0].vertices[:, 1]
        half = 4.3027 * pd.Series([70.0, 72.0, 75.0]).std() / 3**0.5
        assert band.max() == pytest.approx(72.3333 + half, abs=1e-3)
    finally:
        plt.close(fig)


def test_strategy_colours_are_stable_across_figures_and_calls(report):
    everything = strategy_colors(["fast", "linear", "depth", "zeta", "compound_tiny_shapes"])
    assert strategy_colors(["depth"])["depth"] == everything["depth"]
    assert strategy_colors(["linear", "width"])["linear"] == everything["linear"]
    assert len(set(everything.values())) == len(everything)
    assert strategy_colors(["zeta", "depth"]) == strategy_colors(["depth", "zeta"])

    prep = prepare(report.table)
    seen: dict[str, set] = {}
    for name in FIGURE_NAMES:
        fig = plot_pareto(prep) if name == "pareto" else plot_top1_vs(prep, name)
        for handle in fig.legends[0].legend_handles:
            if handle.get_label() in prep.strategies:
                seen.setdefault(handle.get_label(), set()).add(handle.get_color())
        plt.close(fig)
    assert all(len(colors) == 1 for colors in seen.values())
    assert {s: next(iter(c)) for s, c in seen.items()} == {
        s: c for s, c in strategy_colors(prep.strategies).items()
    }


def test_pareto_front_keeps_only_undominated_levels():
    levels = pd.DataFrame(
        {
            "sweep": "s",
            "strategy": ["depth", "width", "depth", "width", "compound"],
            "phi": [0, 0, 1, 1, 1],
            "macs": [1.0, 1.0, 2.0, 2.1, 1.9],
            "top1_mean": [0.5, 0.5, 0.6, 0.7, 0.65],
        }
    )
    front = pareto_front(levels)
    assert list(front["strategy"]) == ["depth", "compound", "width"]
    assert list(front["macs"]) == [1.0, 1.9, 2.1]


def test_combining_two_sweeps(tmp_path):
    a = write_sweep(tmp_path / "epochs", strategies=("depth", "width"), phis=(0, 1, 2))
    b = write_sweep(
        tmp_path / "flops",
        strategies=("depth", "compound_tiny_shapes"),
        phis=(0, 1, 2),
        budget="flops",
        diverged=(),
        failed=(),
        pending=(),
    )
    report = build_report([a, b])
    assert report.out_dir == a / "combined"
    assert not (a / "results.csv").exists() and not (b / "figures" / "top1_vs_macs.png").exists()
    csv = pd.read_csv(report.csv)
    assert list(dict.fromkeys(csv["sweep"])) == ["epochs", "flops"]
    assert len(csv) == 2 * 3 * 3 + 2 * 3 * 3
    fig = plot_top1_vs(report.table)
    try:
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert labels[:5] == ["depth", "width", "compound_tiny_shapes", "epochs", "flops"]
        styles = {h.get_label(): h.get_linestyle() for h in fig.legends[0].legend_handles}
        assert styles["epochs"] != styles["flops"]
        assert "equal training FLOPs" in fig.get_suptitle()
    finally:
        plt.close(fig)
    out = build_report([a, b], out_dir=tmp_path / "both")
    assert out.csv == tmp_path / "both" / "results.csv"
    assert (tmp_path / "both" / "figures" / "pareto.svg").exists()


def test_same_named_sweep_folders_stay_apart(tmp_path):
    a = write_sweep(tmp_path / "cpu" / "tiny", strategies=("depth",), phis=(0, 1), pending=())
    b = write_sweep(tmp_path / "gpu" / "tiny", strategies=("depth",), phis=(0, 1), pending=())
    table, _ = load_results([a, b])
    assert list(dict.fromkeys(table["sweep"])) == ["cpu/tiny", "gpu/tiny"]


def test_duplicate_point_folders_keep_one_row(tmp_path):
    sweep = write_sweep(
        tmp_path / "s",
        strategies=("depth",),
        phis=(0, 1),
        seeds=(0,),
        diverged=(),
        failed=(),
        pending=(),
    )
    twin = sweep / "depth_phi1.0_seed0"
    twin.mkdir()
    (twin / "result.json").write_text(json.dumps(make_result("depth", 1, 0, "failed")))
    table, _ = load_results([sweep])
    assert len(table) == 2 and set(table["status"]) == {"ok"}


def test_failed_point_without_costs_is_placed_at_its_level(tmp_path):
    sweep = write_sweep(
        tmp_path / "s",
        strategies=("depth",),
        phis=(0, 1),
        seeds=(0, 1),
        diverged=(),
        failed=(),
        pending=(),
    )
    failed = make_result("depth", 1, 2, "failed")
    assert failed["macs"] is None  # as bench.point.record_failure writes it
    write_result(sweep, failed)
    table, _ = load_results([sweep])
    fig = plot_top1_vs(table)
    try:
        plus = next(line for line in fig.axes[0].get_lines() if line.get_marker() == "+")
        level = table.query("phi == 1 and status == 'ok'")["macs"].mean()
        assert plus.get_xdata()[0] == pytest.approx(level)
        assert "1 failed" in caption(table)
    finally:
        plt.close(fig)


def test_a_sweep_where_everything_failed_still_draws(tmp_path):
    sweep = tmp_path / "s"
    write_result(sweep, make_result("depth", 0, 0, "failed"))
    report = build_report([sweep])
    assert all(p.exists() for paths in report.figures.values() for p in paths)
    assert "failed" in report.tables["markdown"].read_text()


def test_missing_or_empty_sweep_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        build_report([tmp_path / "nope"])
    empty = tmp_path / "empty"
    (empty / point_name("depth", 1, 0)).mkdir(parents=True)
    (empty / "wandb").mkdir()
    with pytest.raises(UserError, match=r"no result.json under .*empty \(1 point folder without"):
        build_report([empty])
    with pytest.raises(UserError, match="no sweep folder"):
        build_report([])


def test_two_hundred_points_render(tmp_path):
    sweep = write_big_sweep(tmp_path / "big")
    report = build_report([sweep])
    assert len(report.table) == 200
    assert all(p.stat().st_size > 0 for paths in report.figures.values() for p in paths)


# ---------------------------------------------------------------- CLI


def bench_plot(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "bench.plot", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
    )


def test_cli_writes_and_prints_the_paths(tmp_path):
    sweep = write_sweep(tmp_path / "s", strategies=("depth", "width"), phis=(0, 1))
    proc = bench_plot(str(sweep))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("12 points (")
    written = [Path(line) for line in lines if line.startswith(str(sweep))]
    assert sweep / "results.csv" in written and sweep / "figures" / "top1_vs_macs.svg" in written
    assert sweep / "tables" / "results_table.tex" in written
    assert all(p.exists() for p in written)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing", "does not exist"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "no result.json under"),
    ],
    ids=["missing-path", "empty-folder"],
)
def test_cli_errors_are_one_line(tmp_path, make, message):
    proc = bench_plot(str(make(tmp_path)))
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_cli_help_and_bad_options(tmp_path):
    help_ = bench_plot("--help")
    assert help_.returncode == 0 and "usage: python -m bench.plot" in help_.stdout
    bad = bench_plot("--colour", str(tmp_path))
    assert bad.returncode == 1 and bad.stderr.startswith("error: unknown option --colour")
    no_out = bench_plot(str(tmp_path), "--out")
    assert no_out.returncode == 1 and "--out needs a folder" in no_out.stderr
