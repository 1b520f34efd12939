"""Class activation maps of networks scaled each way at equal FLOPs (EfficientNet's Figure 7).

EfficientNet's Figure 7 argues that compound scaling attends to more of the
object than depth, width or resolution alone at the same FLOPs. Here: one
column per network (the phi=0 baseline, then every strategy at the sweep's
largest trained phi), one row per held-out image, each cell the image at the
column's own input side under the Grad-CAM map of the predicted class.

Networks are rebuilt from result.json (config, rounded architecture) and
``trained/<point_key>/checkpoint.pt``. Images are chosen by test index alone
and batched as evaluation batches them, so every column and rerun shows the
same ones. Grad-CAM is pytorch_grad_cam's, at the last stage's output (the
model's ``stages`` pattern, else the last Conv2d); on the CPU, since a few
images through a few small networks cost less than starting a GPU.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from bench.analysis.levels import strategy_order
from bench.config.validate import validate
from bench.data import Data, ImageSet, StreamSet, load_data, num_classes
from bench.data.batches import BatchSpec, Preprocess
from bench.data.inputs import held_out_batches
from bench.errors import UserError
from bench.models import build_model
from bench.report.cam_draw import CELL, render
from bench.report.cam_maps import Column, Maps
from bench.report.style import save_and_close
from bench.scaling.rounding import scale_arch
from bench.scaling.strategies import Scale
from bench.schema import ModelConfig, Run
from bench.store import is_point_folder, read_json_or_none

__all__ = [
    "CELL", "CPU", "FORMATS", "Column", "Maps", "cam_figure", "checkpoint_of", "choose_columns",
    "column_maps", "draw_cam", "held_out", "pick_images", "read_points", "rebuild",
    "target_layer", "test_labels",
]  # fmt: skip

log = logging.getLogger("bench.plot")

FORMATS = ("png", "pdf")  # an SVG of embedded bitmaps adds nothing
CPU = torch.device("cpu")


def cam_figure(
    sweep_dir: Path,
    out_dir: Path,
    images: int = 4,
    formats: Sequence[str] = FORMATS,
    caption: bool = True,
    strategies: Sequence[str] | None = None,
) -> list[Path] | None:
    """Write ``cam.<format>`` and its caption ``cam.txt`` into ``out_dir``; None (and one log
    line) when there is no checkpoint to draw from. ``caption`` also prints it on the grid;
    ``strategies`` limits the columns (the baseline stays)."""
    fig = draw_cam(sweep_dir, images, strategies)
    if fig is None:
        return None
    text = fig.get_suptitle()
    if not caption:  # written beside the files only
        fig.suptitle("").set_in_layout(False)
    return save_and_close(fig, Path(out_dir), "cam", formats, text)


def draw_cam(
    sweep_dir: Path, images: int = 4, strategies: Sequence[str] | None = None
) -> Figure | None:
    """The grid of :func:`cam_figure`, not saved (the caller closes it); None when the sweep
    kept no checkpoint of a finished point, or its test split cannot be indexed."""
    if images < 1:
        raise ValueError(f"images={images}: a grid needs at least one row")
    sweep_dir = Path(sweep_dir)
    points = read_points(sweep_dir)
    if strategies:
        points = [r for r in points if r.get("strategy") in strategies]
    columns = choose_columns(sweep_dir, points)
    drawn = [c.result for c in columns if c.result is not None]
    if not drawn:
        kept = any((sweep_dir / "trained").glob("*/checkpoint.pt"))
        why = f"no trained checkpoint under {sweep_dir / 'trained'} (the sweep kept none)"
        if kept:
            why = f"no finished point of {sweep_dir} has its checkpoint"
        log.warning("no class activation maps: %s", why)
        return None
    config = validate(drawn[0]["config"])  # a sweep folder holds one data config
    data = load_data(config.data)
    labels = test_labels(data)
    if labels is None:
        why = "is not ImageFolder-like (no .samples and .targets)"
        log.warning("no class activation maps: the streamed test split of %s %s", sweep_dir, why)
        return None
    indices = pick_images(labels, images)
    at_side = functools.cache(lambda side: held_out(data, config, side, indices))
    threads = torch.get_num_threads()
    # a few small images leave a second thread nothing to do, and on a busy machine
    # waiting for it made the maps 5x slower (measured)
    torch.set_num_threads(1)
    try:
        maps = [column_maps(c, sweep_dir, at_side) for c in columns]
    finally:
        torch.set_num_threads(threads)
    rows = {i: labels[i] for i in indices}
    return render(columns, maps, data.classes, rows, sweep_dir.name)


# ----------------------------------------------------------------------------- choosing
def read_points(sweep_dir: Path) -> list[dict[str, Any]]:
    """Every point's result.json under the sweep, in folder-name order."""
    if not sweep_dir.is_dir():
        return []
    folders = sorted(d for d in sweep_dir.iterdir() if d.is_dir() and is_point_folder(d.name))
    return [r for r in (read_json_or_none(d / "result.json") for d in folders) if r]


def checkpoint_of(sweep_dir: Path, result: dict[str, Any]) -> Path | None:
    """The checkpoint of the training a finished point used, if the sweep kept it."""
    key = result.get("point_key")
    path = sweep_dir / "trained" / str(key) / "checkpoint.pt"
    return path if key and result.get("status") == "ok" and path.is_file() else None


def choose_columns(sweep_dir: Path, points: list[dict[str, Any]]) -> list[Column]:
    """The baseline (phi=0), then every strategy at the largest phi any finished point with a
    checkpoint reached; per column its lowest such seed. [] when there is none."""
    ok = [r for r in points if checkpoint_of(sweep_dir, r)]
    if not ok:
        return []
    order = strategy_order(r["strategy"] for r in points)

    def first(rs: list[dict[str, Any]]) -> dict[str, Any] | None:
        return min(rs, key=lambda r: (r["seed"], order.index(r["strategy"])), default=None)

    columns = [Column("baseline", 0.0, first([r for r in ok if r["phi"] == 0]), "no phi=0 point")]
    top = max(r["phi"] for r in ok)
    for strategy in order if top > 0 else ():
        mine = first([r for r in ok if r["strategy"] == strategy and r["phi"] == top])
        at = [r for r in points if r["strategy"] == strategy and r["phi"] == top]
        bad = ", ".join(sorted({str(r["status"]) for r in at} - {"ok"}))
        columns.append(Column(strategy, top, mine, (bad or "no checkpoint") if at else "not run"))
    return columns


def pick_images(labels: list[int], count: int) -> list[int]:
    """The first test image of each class in evaluation order, ``count`` of them (then the
    next images, when there are fewer classes): fixed by the split alone."""
    first: dict[int, int] = {}
    for i, label in enumerate(labels):
        first.setdefault(int(label), i)
        if len(first) == count:
            break
    chosen = set(first.values())
    rest = islice((i for i in range(len(labels)) if i not in chosen), count - len(chosen))
    return sorted(chosen | set(rest))


# ----------------------------------------------------------------------------- computing
def test_labels(data: Data) -> list[int] | None:
    """The test split's labels in evaluation order; None for a streamed dataset that is not
    ImageFolder-like (no ``samples`` list to pick from and ``targets`` to read)."""
    if isinstance(data.test, ImageSet):
        return data.test.labels.tolist()
    dataset = data.test.dataset
    if not (hasattr(dataset, "samples") and hasattr(dataset, "targets")):
        return None
    return [int(t) for t in dataset.targets]


def held_out(
    data: Data, config: Run, side: int, indices: list[int]
) -> tuple[torch.Tensor, np.ndarray]:
    """Test images ``indices`` as evaluation batches them at ``side`` px: the network's input,
    and the same pixels un-normalised to RGB in [0, 1] (N, H, W, 3) for display."""
    wanted = indices
    if isinstance(data.test, StreamSet):  # read only the chosen files, in this process
        picked = copy.copy(data.test.dataset)
        picked.samples = [picked.samples[i] for i in indices]
        test_set = StreamSet(picked, workers=0)
        data = replace(data, train=StreamSet(data.train.dataset, workers=0), test=test_set)
        wanted = list(range(len(indices)))
    spec = BatchSpec(
        side, config.train.eval_batch_size, CPU, False, 0, preprocess=Preprocess.of(config.data)
    )
    test = held_out_batches(data, spec)
    found: dict[int, torch.Tensor] = {}
    start = 0
    for x, _ in test.epoch(0):
        found |= {i: x[i - start] for i in wanted if start <= i < start + len(x)}
        start += len(x)
        if len(found) == len(wanted):
            break
    x = torch.stack([found[i] for i in wanted])
    rgb = ((x * test.std + test.mean) / 255).clamp(0, 1)
    return x, rgb.permute(0, 2, 3, 1).numpy().astype(np.float32)


def rebuild(result: dict[str, Any], checkpoint: Path) -> tuple[nn.Module, Run]:
    """The point's trained network (eval mode, frozen) from its recorded config and arch."""
    config = validate(result["config"])
    extra = result.get("extra_blocks") or 0.0
    scale = Scale(d=result["depth_mult"], w=result["width_mult"], r=result["res_mult"], extra=extra)
    arch = scale_arch(config.model, scale)
    if (list(arch.depths), list(arch.widths)) != (result["depths"], result["widths"]):
        recorded = f"{result['depths']} {result['widths']}"
        raise ValueError(f"rebuilds as {list(arch.depths)} {list(arch.widths)}, not {recorded}")
    model = build_model(config.model, arch, num_classes(config.data))
    model.load_state_dict(torch.load(checkpoint, map_location=CPU, weights_only=True)["model"])
    return model.eval().requires_grad_(False), config


def target_layer(model: nn.Module, config: ModelConfig) -> tuple[str, nn.Module]:
    """The last stage (``stages`` formatted with its index i and n = i + 1), else the last
    Conv2d: the deepest map that still has a spatial layout."""
    if config.stages:
        i = len(config.depths) - 1
        name = config.stages.format(i=i, n=i + 1)
        return name, model.get_submodule(name)
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)][-1]


def column_maps(column: Column, sweep_dir: Path, at_side: Callable[[int], tuple]) -> Maps | str:
    """Grad-CAM of the predicted class for each chosen image (``at_side(px)``: the images as
    :func:`held_out` gives them), or why the column is empty."""
    from pytorch_grad_cam import GradCAM  # imports scikit-learn: a second or more
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    result = column.result
    if result is None:
        return column.missing
    try:
        model, config = rebuild(result, checkpoint_of(sweep_dir, result))
    except (UserError, ValueError, TypeError, RuntimeError, OSError, KeyError) as exc:
        log.warning("class activation maps: %s left empty: %s", column.label, exc)
        return "cannot rebuild it"
    name, layer = target_layer(model, config.model)
    x, rgb = at_side(int(result["resolution"]))
    with torch.no_grad():
        predicted = model(x).argmax(1).tolist()
    targets = [ClassifierOutputTarget(p) for p in predicted]
    with GradCAM(model=model, target_layers=[layer]) as cam:
        # the input alone asks for gradients, so the frozen weights keep none
        cams = cam(input_tensor=x.detach().requires_grad_(), targets=targets)
    return Maps(rgb, cams, predicted, name)
