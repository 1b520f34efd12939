"""bench.report.build: the results table, the CSV, every top-1 figure, formats and captions."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from helpers.fake_results import make_result, point_name, write_big_sweep, write_result, write_sweep
from PIL import Image

from bench.analysis.fits import fit_strategies
from bench.analysis.results import INTERFACE, load_results
from bench.errors import UserError
from bench.report import FIGURE_NAMES, build_report
from bench.report.pareto import plot_pareto
from bench.report.prepared import prepare
from bench.report.style import DPI, FIGSIZE, WIDTHS, strategy_colors
from bench.report.top1_vs_cost import caption, plot_top1_vs
from bench.schema import Plot

PNG = Plot(formats=["png"])  # what most tests need: one format is a third of the time
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
    # bench.train.diagnostics' lines, for the caller to show
    assert [line.split(" (")[0].split(":")[0] for line in report.problems] == [
        "1 of 48 points failed",
        "1 of 48 points diverged",
        "10 of 48 points were still improving when their budget ended",
    ]
    assert "trained" not in set(report.table["point"])
    assert report.table["point"].str.match(r".+_phi.+_seed\d+").all()


def test_every_figure_in_three_formats_with_its_caption(report):
    assert set(FIGURE_NAMES) <= set(report.figures)
    assert "top1_vs_latency" in FIGURE_NAMES
    for name in FIGURE_NAMES:
        paths = report.figures[name]
        assert [p.suffix for p in paths] == [".png", ".pdf", ".svg", ".txt"], name
        assert all(p.parent == report.out_dir / "figures" and p.stat().st_size > 0 for p in paths)
        png, pdf, svg, txt = paths
        with Image.open(png) as image:
            image.verify()
        with Image.open(png) as image:
            assert image.size == (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))
        assert pdf.read_bytes().startswith(b"%PDF")
        assert b"<svg" in svg.read_bytes()[:2000]
        # the caption beside the figure is the one on it, unwrapped
        assert txt.read_text().startswith("tiny on shapes · 5 epochs per point · seeds: 3\n")
    assert "Pareto frontier" in report.figures["pareto"][-1].read_text()


def test_formats_width_and_captions_off_the_figure(tmp_path):
    sweep = write_sweep(tmp_path / "s", strategies=("depth", "width"), phis=(0, 1), pending=())
    options = Plot(formats=["pdf", "png"], width="double", caption=False)
    report = build_report([sweep], options=options)
    paths = report.figures["top1_vs_macs"]
    assert [p.name for p in paths] == ["top1_vs_macs.pdf", "top1_vs_macs.png", "top1_vs_macs.txt"]
    assert not (sweep / "figures" / "top1_vs_macs.svg").exists()
    with Image.open(paths[1]) as image:
        assert image.size[0] == round(WIDTHS["double"] * DPI)
    assert "band: 95% t-interval of the mean" in paths[2].read_text()  # written though not drawn
    prep = prepare(report.table, options=options)
    for fig in (plot_top1_vs(prep), plot_pareto(prep)):
        assert fig.get_suptitle() == "" and fig.get_figwidth() == WIDTHS["double"]
        plt.close(fig)


def test_tables_are_written(report):
    assert report.tables["markdown"] == report.out_dir / "tables" / "results_table.md"
    assert "| 3 | width" in report.tables["markdown"].read_text()
    assert r"\toprule" in report.tables["latex"].read_text()
    names = {k: p.name for k, p in report.tables.items() if k.startswith("fits_")}
    assert names == {"fits_csv": "fits.csv", "fits_markdown": "fits.md", "fits_latex": "fits.tex"}
    fits = pd.read_csv(report.tables["fits_csv"])
    assert list(fits["strategy"]) == ["depth", "width", "resolution", "compound"]
    assert (fits["b"] > 0).all()  # every fake strategy improves with MACs


def test_diverged_and_failed_points_are_drawn_and_counted(report):
    fig = plot_top1_vs(report.table, "top1_vs_macs", missing=report.missing)
    try:
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert labels == ["depth", "width", "resolution", "compound", "diverged", "failed",
                          "still improving"]  # fmt: skip
        text = fig.get_suptitle()
        assert "tiny on shapes · 5 epochs per point · seeds: 3" in text
        assert "1 diverged, 1 failed" in text and "1 pending" in text
        ax = fig.axes[0]
        colors = strategy_colors(report.table["strategy"])
        marks = {m: line for line in ax.get_lines() if (m := line.get_marker()) in ("x", "+")}
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
        curve = next(line for line in ax.get_lines() if line.get_gid() == "mean")
        assert curve.get_ydata()[1] == pytest.approx(100 * (0.70 + 0.72 + 0.75) / 3)
        (band,) = [c for c in ax.collections if c.get_gid() == "band"]
        band = band.get_paths()[0].vertices[:, 1]
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


def test_combining_two_sweeps(tmp_path, few_resamples):
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
    report = build_report([a, b], options=PNG)
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
    out = build_report([a, b], out_dir=tmp_path / "both", options=PNG)
    assert out.csv == tmp_path / "both" / "results.csv"
    assert (tmp_path / "both" / "figures" / "pareto.png").exists()


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
    assert failed["macs"] is None  # as bench.train.point.record_failure writes it
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
    report = build_report([sweep], options=PNG)
    assert {"top1_vs_macs", "pareto"} <= set(report.figures)
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
    # one evaluation per point and no checkpoint: the costly figures are skipped, and say so
    assert "learning_curves" not in report.figures and "cam" not in report.figures
    assert "no learning curves: no point evaluated more than once" in report.notes


# ---------------------------------------------------------------- options and wired-in parts


def test_strategy_filter_draws_and_tabulates_only_those(tmp_path):
    sweep = write_sweep(tmp_path / "s", phis=(0, 1), pending=())
    report = build_report([sweep], options=PNG, strategies=["width", "depth"])
    assert set(report.table["strategy"]) == {"depth", "width"}
    assert set(pd.read_csv(report.csv)["strategy"]) == {"depth", "width", "resolution", "compound"}
    markdown = report.tables["markdown"].read_text()
    assert "| 1 | depth" in markdown and "resolution" not in markdown
    assert set(pd.read_csv(report.tables["fits_csv"])["strategy"]) == {"depth", "width"}
    fig = plot_top1_vs(report.table)
    try:
        labels = [t.get_text() for t in fig.legends[0].get_texts()]
        assert labels[:2] == ["depth", "width"] and "compound" not in labels
    finally:
        plt.close(fig)
    with pytest.raises(UserError, match="strategy linear not in the results; they have: depth"):
        build_report([sweep], options=PNG, strategies=["linear"])


def test_latency_figure_names_the_device(report):
    fig = plot_top1_vs(report.table, "top1_vs_latency")
    try:
        ax = fig.axes[0]
        assert ax.get_xlabel() == "Latency, batch 1 (ms)" and ax.get_xscale() == "log"
        assert "latency: median, batch 1, on x86_64" in fig.get_suptitle()
        curve = next(line for line in ax.get_lines() if line.get_gid() == "mean")
        ok = report.table.query("strategy == 'depth' and status == 'ok'")
        expected = ok.groupby("phi")["latency_ms"].mean().to_numpy()
        assert list(curve.get_xdata()) == pytest.approx(list(expected))
    finally:
        plt.close(fig)
    assert "x86_64" in report.figures["top1_vs_latency"][-1].read_text()


def test_latency_is_skipped_when_no_point_measured_it(tmp_path):
    sweep = write_sweep(tmp_path / "old", strategies=("depth",), phis=(0, 1), pending=())
    for path in sweep.glob("*/result.json"):
        result = json.loads(path.read_text())
        path.write_text(json.dumps(result | {"latency_ms": None}))
    report = build_report([sweep], options=PNG)
    assert "top1_vs_latency" not in report.figures
    assert "no top1_vs_latency: no point recorded it" in report.notes


def test_fit_lines_on_top1_vs_macs_only(tmp_path):
    sweep = write_sweep(tmp_path / "s", strategies=("depth", "width"), pending=())
    report = build_report([sweep], options=Plot(formats=["png"], fit_lines=True))
    assert "dashed: fit err = a·MACs^−b" in report.figures["top1_vs_macs"][-1].read_text()
    assert "dashed" not in report.figures["top1_vs_params"][-1].read_text()
    prep = prepare(report.table, options=Plot(fit_lines=True))
    fig = plot_top1_vs(prep, fits=fit_strategies(report.table))
    try:
        fits = [a for a in fig.axes[0].get_children() if str(a.get_label()).startswith("_fit ")]
        assert sorted(a.get_label() for a in fits) == ["_fit depth", "_fit width"]
    finally:
        plt.close(fig)


def test_learning_curves_from_the_recorded_histories(tmp_path):
    history = [{"epoch": e, "top1": 0.1 * e, "train_loss": 2.0 / e} for e in (1.0, 2.0, 3.0)]
    keys = [(s, phi, seed) for s in ("depth", "width") for phi in (0, 1) for seed in (0, 1)]
    sweep = write_sweep(tmp_path / "s", strategies=("depth", "width"), phis=(0, 1), seeds=(0, 1),
                        extra={k: {"history": history} for k in keys}, pending=())  # fmt: skip
    report = build_report([sweep], options=PNG)
    assert [p.name for p in report.figures["learning_curves"]] == [
        "learning_curves.png",
        "learning_curves.txt",
    ]
    assert "history" not in report.table  # the flat table still drops it


def test_the_end_of_a_sweep_draws_with_the_sweeps_plot_options(tmp_path):
    """`bench.run -m plot.formats=[pdf] plot.interval=sd` reaches the end-of-sweep report."""
    from omegaconf import OmegaConf

    from bench.config.compose import compose_config
    from bench.sweep.finish import finish

    sweep = write_sweep(tmp_path / "s", strategies=("depth",), phis=(0, 1), pending=(),
                        diverged=(), failed=())  # fmt: skip
    overrides = ["plot.formats=[pdf]", "plot.interval=sd", "plot.cam_images=0",
                 "logger.mode=disabled"]  # fmt: skip
    finish(sweep, OmegaConf.create(compose_config(overrides)))
    figures = sorted(p.name for p in (sweep / "figures").glob("top1_vs_macs.*"))
    assert figures == ["top1_vs_macs.pdf", "top1_vs_macs.txt"]
    assert "Top-1 (%, mean ± SD)" in (sweep / "tables" / "results_table.md").read_text()
