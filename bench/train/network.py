"""The network a point trains: built from its plan, placed, wrapped and compiled as configured,
and what it costs to run once trained."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from bench.data.batches import BatchSpec, Preprocess
from bench.data.inputs import held_out_batches
from bench.hardware import distributed as ddp
from bench.hardware.device import traits
from bench.hardware.syncbn import synchronise_batch_norm
from bench.models import build_model
from bench.schema import resolve_auto
from bench.train.eval_sides import top1_by_side
from bench.train.identity import Point
from bench.train.inference import Workload, measure_inference
from bench.train.loop import Outcome, autocast_for, evaluate


@dataclass(frozen=True)
class Network:
    """The built network: what trains, what evaluates, and how it was set up."""

    model: nn.Module  # wrapped for DDP and compiled, as configured
    eval_model: nn.Module
    compiled: bool
    channels_last: bool
    sync_bn: bool


def build(point: Point) -> Network:
    """The network of the plan, in the memory format, batch norm and wrappers configured."""
    recipe, dist = point.config.train, point.dist
    model = build_model(point.config.model, point.planned.candidate.arch, point.data.num_classes)
    model = model.to(point.device)
    channels_last = resolve_auto(recipe.channels_last, True)  # oneDNN is faster with it too
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    sync_bn = dist.world > 1 and resolve_auto(recipe.sync_bn, True)
    if sync_bn:
        model = synchronise_batch_norm(model, traits(point.device).cuda)
    eval_model = model
    model = ddp.wrap(model, dist, point.device)
    long_enough = point.budget.steps >= recipe.compile_min_steps
    compiled = resolve_auto(recipe.compile, traits(point.device).compile_by_default and long_enough)
    if compiled:
        model = torch.compile(model, backend=recipe.compile_backend)
    return Network(model, eval_model, compiled, channels_last, sync_bn)


def inference_cost(point: Point, net: Network, outcome: Outcome) -> dict[str, Any]:
    """Latency and throughput of the trained network (main process, a point that trained)."""
    if not (point.dist.is_main and outcome.status == "ok"):
        return {}
    tic = time.perf_counter()
    workload = Workload(point.planned.candidate.resolution, point.config.train.eval_batch_size,
                        net.channels_last, point.amp)  # fmt: skip
    run = measure_inference(
        net.eval_model, point.device, workload, point.config.eval.inference_seconds
    )
    outcome.timings["inference"] = time.perf_counter() - tic
    return {k: run[k] for k in ("latency_ms", "inference_images_per_sec")}


def held_out_evaluations(
    point: Point, net: Network, outcome: Outcome, test_batches: Any
) -> dict[str, Any]:
    """The final evaluations of a point that trained (main process): top-1 and top-5 on every
    image of ``test_batches`` (the test split at the training side), top-1 at every side of
    ``eval.test_scales`` (bench.train.eval_sides) and, with ``data.val_fraction``, on the
    validation split too (where the best side is chosen); each image and its mirror averaged
    when ``eval.flip``. The learning curve (``outcome.history``) saw only ``eval.curve_images``
    of the test images, without flipping."""
    if not (point.dist.is_main and outcome.status == "ok"):
        return {}
    tic = time.perf_counter()
    config, data, device = point.config, point.data, point.device
    preprocess, batch = Preprocess.of(config.data), config.train.eval_batch_size
    autocast = autocast_for(device, point.amp)
    resolution = point.planned.candidate.resolution

    def score(batches: Any) -> tuple[float, float]:
        return evaluate(net.eval_model, batches, autocast, config.eval.flip)

    def batches(side: int, split: Any = None) -> Any:
        spec = BatchSpec(side, batch, device, False, 0, preprocess=preprocess,
                         channels_last=net.channels_last)  # fmt: skip
        return held_out_batches(data, spec, split)

    def by_side(top1: float, split: Any = None) -> dict[str, float]:
        return top1_by_side(net.eval_model, resolution, config.eval.test_scales,
                            config.model.min_resolution, top1, lambda side: batches(side, split),
                            lambda m, b: score(b))  # fmt: skip

    top1, top5 = score(test_batches)
    out: dict[str, Any] = {"top1": top1, "top5": top5, "top1_by_test_resolution": by_side(top1)}
    outcome.timings["test_resolutions"] = time.perf_counter() - tic
    if data.val is not None:
        tic = time.perf_counter()
        out["val_top1"] = score(batches(resolution, data.val))[0]
        out["val_top1_by_test_resolution"] = by_side(out["val_top1"], data.val)
        outcome.timings["validation"] = time.perf_counter() - tic
    return out
