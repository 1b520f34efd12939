"""bench.report.cam: Grad-CAM grids drawn from real (tiny) sweeps trained in-process."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from conftest import SMALL, write_tree

from bench.config.compose import compose_config
from bench.config.validate import validate
from bench.data import load_data
from bench.models import build_model
from bench.report import build_report
from bench.report.cam import cam_figure, draw_cam, held_out, pick_images, target_layer
from bench.scaling.rounding import scale_arch
from bench.scaling.strategies import Scale
from bench.schema import Plot
from bench.train.point import run_point

STRATEGIES = ("depth", "width", "resolution")


def train_sweep(runs: Path, points: list[tuple[str, float]], *overrides: str) -> Path:
    """Run each (strategy, phi) point of one sweep in this process; returns the sweep folder.

    On one thread (``threads=1``): on a busy machine two threads wait on each other for
    most of a step. Torch's thread count is restored for the tests that follow.
    """
    threads = torch.get_num_threads()
    try:
        for strategy, phi in points:
            where = [f"runs_dir={runs}", f"strategy={strategy}", f"phi={phi}", "threads=1"]
            cfg = compose_config([*overrides, *where])
            result = run_point(cfg)
            assert result["status"] == "ok", result.get("reason")
    finally:
        torch.set_num_threads(threads)
    return runs / str(cfg.sweep)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny on a small shapes task: every strategy at phi 0 (one shared training) and 1."""
    points = [(s, phi) for s in STRATEGIES for phi in (0, 1)]
    return train_sweep(tmp_path_factory.mktemp("runs"), points, *SMALL)


def cells(fig: plt.Figure) -> list[plt.Axes]:
    return [ax for ax in fig.axes if ax.get_subplotspec() is not None]


def grid(fig: plt.Figure) -> tuple[int, int]:
    spec = cells(fig)[0].get_subplotspec().get_gridspec()
    return spec.nrows, spec.ncols


def column(fig: plt.Figure, c: int) -> list[plt.Axes]:
    return [ax for ax in cells(fig) if ax.get_subplotspec().colspan.start == c]


def test_grid_has_the_baseline_and_each_strategy_at_the_top_level(sweep, tmp_path):
    paths = cam_figure(sweep, tmp_path / "figures")
    assert [p.name for p in paths] == ["cam.png", "cam.pdf", "cam.txt"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    assert "Grad-CAM of the predicted class at stages.3" in paths[2].read_text()

    fig = draw_cam(sweep, images=3)
    try:
        assert grid(fig) == (3, 1 + len(STRATEGIES)) and len(cells(fig)) == 3 * 4
        titles = [column(fig, c)[0].get_title() for c in range(4)]
        assert titles[0].startswith("baseline · phi=0") and "40 px" in titles[0]
        for title, strategy in zip(titles[1:], STRATEGIES, strict=True):
            assert title.startswith(f"{strategy} · phi=1") and "MACs" in title and "top-1" in title
        assert all(len(ax.images) == 1 for ax in cells(fig))  # no empty cell
        # each column at its own input side: resolution scaling feeds 56 px, the others 40
        sides = [column(fig, c)[0].images[0].get_array().shape[:2] for c in range(4)]
        assert sides == [(40, 40), (40, 40), (40, 40), (56, 56)]
        truths = [ax.get_ylabel().split("\n")[0] for ax in column(fig, 0)]
        assert len(set(truths)) == 3  # three classes
        assert all(ax.get_xlabel()[0] in "✓✗" for ax in cells(fig))
        assert "stages.3" in fig.get_suptitle()  # vgg_tiny has four stages
    finally:
        plt.close(fig)


def test_the_same_images_and_maps_on_every_call(sweep):
    first, second = draw_cam(sweep), draw_cam(sweep)
    try:
        assert grid(first) == grid(second) == (4, 4)
        assert [ax.get_ylabel() for ax in column(first, 0)] == [
            ax.get_ylabel() for ax in column(second, 0)
        ]
        for a, b in zip(cells(first), cells(second), strict=True):
            assert np.array_equal(a.images[0].get_array(), b.images[0].get_array())
            assert a.get_xlabel() == b.get_xlabel()
    finally:
        plt.close(first)
        plt.close(second)


def test_held_out_images_are_the_evaluation_rows_across_batches():
    config = validate(compose_config([*SMALL, "train.eval_batch_size=3"]))
    data = load_data(config.data)
    x, rgb = held_out(data, config, 40, [1, 3, 7])
    reference, _ = held_out(data, validate(compose_config(list(SMALL))), 40, list(range(8)))
    assert torch.equal(x, reference[[1, 3, 7]])
    assert rgb.shape == (3, 40, 40, 3) and 0 <= rgb.min() < rgb.max() <= 1


def test_a_strategy_without_checkpoint_keeps_its_column_and_says_why(sweep, tmp_path):
    copy = shutil.copytree(sweep, tmp_path / sweep.name)
    key = json.loads((copy / "width_phi1_seed0" / "result.json").read_text())["point_key"]
    (copy / "trained" / key / "checkpoint.pt").unlink()
    fig = draw_cam(copy)
    try:
        assert grid(fig) == (4, 4)
        empty = column(fig, 2)
        assert empty[0].get_title().startswith("width · phi=1")
        assert not any(ax.images for ax in empty)
        assert "no checkpoint" in empty[0].texts[0].get_text()
        assert all(ax.images for c in (0, 1, 3) for ax in column(fig, c))
    finally:
        plt.close(fig)


def test_a_sweep_without_checkpoints_gives_no_figure_and_one_line(sweep, tmp_path, caplog):
    copy = shutil.copytree(sweep, tmp_path / "kept-none", ignore=shutil.ignore_patterns("trained"))
    with caplog.at_level(logging.INFO, logger="bench.plot"):
        assert cam_figure(copy, copy / "figures") is None
    lines = [r.getMessage() for r in caplog.records if r.name == "bench.plot"]
    assert lines == [
        f"no class activation maps: no trained checkpoint under {copy / 'trained'} "
        "(the sweep kept none)"
    ]
    assert not (copy / "figures").exists()
    assert cam_figure(tmp_path / "no-such-sweep", tmp_path / "figures") is None


def test_the_report_draws_the_grid_when_checkpoints_exist(sweep, tmp_path, caplog):
    out = tmp_path / "report"
    options = Plot(formats=["svg", "png"], cam_images=2, caption=False)
    report = build_report([sweep], out, options, strategies=["depth", "width"])
    assert [p.name for p in report.figures["cam"]] == ["cam.png", "cam.txt"]  # no SVG of bitmaps
    assert "Grad-CAM" in (out / "figures" / "cam.txt").read_text()
    fig = draw_cam(sweep, images=2, strategies=["depth", "width"])
    try:
        assert grid(fig) == (2, 3)  # the baseline, depth and width: the filter holds
    finally:
        plt.close(fig)
    # one evaluation per point (train.epochs=1): nothing to draw a learning curve from
    assert "learning_curves" not in report.figures
    with caplog.at_level(logging.INFO, logger="bench.plot"):
        none = build_report([sweep], out, Plot(formats=["png"], cam_images=0))
    assert "cam" not in none.figures
    assert "no class activation maps: plot.cam_images=0" in [r.getMessage() for r in caplog.records]


def test_another_family_uses_its_own_last_stage(tmp_path):
    overrides = (*SMALL, "model=resnet18", "model.width_mult=0.25")
    runs = train_sweep(tmp_path, [("width", 0), ("width", 1)], *overrides)
    fig = draw_cam(runs, images=2)
    try:
        assert grid(fig) == (2, 2) and all(ax.images for ax in cells(fig))
        assert "layer4" in fig.get_suptitle()  # "layer{n}" with n = 4
    finally:
        plt.close(fig)


def test_a_streamed_image_folder_works(tmp_path):
    tree = write_tree(tmp_path / "tree", per_class=(8, 2))
    overrides = (
        "data=imagefolder",
        f"data.path={tree}",
        "data.in_memory=false",
        "data.workers=0",
        "train.batch_size=8",
        "train.epochs=1",
        "logger.mode=disabled",
    )
    fig = draw_cam(train_sweep(tmp_path / "runs", [("depth", 0)], *overrides), images=3)
    try:
        assert grid(fig) == (3, 1) and all(ax.images for ax in cells(fig))
        truths = [ax.get_ylabel().split("\n")[0] for ax in column(fig, 0)]
        assert truths == ["ant", "bee", "cow"]  # one image per class, in evaluation order
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    ("model", "stages", "expected"),
    [("vgg11", "stages.{i}", "stages.4"), ("resnet50", "layer{n}", "layer4"), ("tiny", None, None)],
)
def test_target_layer_is_the_last_stage_or_the_last_conv(model, stages, expected):
    config = validate(compose_config([f"model={model}", "model.width_mult=0.25"])).model
    config = config.model_copy(update={"stages": stages})
    net = build_model(config, scale_arch(config, Scale()), 10)
    name, layer = target_layer(net, config)
    if expected is None:  # no stages pattern: the last Conv2d of the network
        expected = [n for n, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)][-1]
    assert name == expected and layer is net.get_submodule(expected)


@pytest.mark.parametrize(
    ("labels", "count", "expected"),
    [
        ([3, 3, 1, 3, 0, 2], 3, [0, 2, 4]),  # first image of each class, in order
        ([3, 3, 1, 3, 0, 2], 4, [0, 2, 4, 5]),
        ([0, 0, 1, 1], 3, [0, 1, 2]),  # fewer classes than rows: the next images
        ([0, 1], 5, [0, 1]),
    ],
)
def test_pick_images(labels, count, expected):
    assert pick_images(labels, count) == expected
