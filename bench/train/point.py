"""One point of a sweep, top to bottom: plan, data, budget, reuse or claim, build, fit, record.

:func:`run_point` is the job ``bench.run`` gives Hydra. Each step below is a
function with explicit inputs and outputs. What a point trains is identified
by a hash of everything that decides what it learns (:func:`training_key`),
so identical points (phi=0 of every strategy is one baseline) train once in
``runs/<sweep>/trained/<key>/`` and share the outcome. A finished point is
skipped on a re-run and a killed one resumes from its checkpoint. In a sweep
a job never raises: a failure is recorded in result.json and the sweep, with
its figures, completes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
from dataclasses import replace
from typing import Any

import torch

from bench.config.compose import hydra_job
from bench.config.validate import validate
from bench.data import Data, load_data
from bench.data.batches import Preprocess
from bench.data.inputs import held_out_batches, make_batches, preprocessing
from bench.errors import UserError, fail
from bench.hardware import distributed as ddp
from bench.hardware.device import device_info, prepare, resolve_device, traits
from bench.hardware.syncbn import synchronise_batch_norm
from bench.models import build_model
from bench.plan import plan_point
from bench.scaling.budget import Budget, plan_budget
from bench.scaling.regularization import regularised
from bench.scaling.solver import PlannedPoint
from bench.schema import Run, resolve_auto
from bench.store import (
    PointPaths,
    atomic_write_json,
    point_paths,
    read_json,
    read_json_or_none,
    sweep_dir,
)
from bench.sweep.claims import reuse_or_claim
from bench.track.tracker import Tracker, warm_up
from bench.train.inference import PeakMemory, measure_inference
from bench.train.loop import Outcome, Setup, autocast_for, evaluate, fit, new_state
from bench.train.progress import Progress
from bench.train.record import (
    FINAL,
    SUMMARY_KEYS,
    PointResult,
    config_record,
    record,
    record_failure,
)
from bench.train.test_resolution import top1_by_side
from bench.train.tuning import tune

log = logging.getLogger("bench.run")


def run_point(cfg: Any) -> dict[str, Any]:
    """Run one job and return its result.json; a single run exits 1 when the point fails."""
    started = time.perf_counter()
    multirun, _ = hydra_job()
    try:
        config = validate(cfg)
    except UserError as exc:  # a sweep checked every job before any started: rare here
        if not multirun:
            fail(str(exc))
        log.error("error: %s", exc)
        return {"status": "failed", "reason": str(exc)}
    paths = point_paths(
        config.runs_dir, config.sweep, config.strategy.name, config.phi, config.seed
    )
    dist = ddp.Dist()
    try:
        device = resolve_device(config.device)
        dist = ddp.setup(device)
        if traits(device).cuda and dist.world > 1:
            device = torch.device("cuda", dist.local_rank)
        prepare(device)
        if config.threads:
            torch.set_num_threads(config.threads)
        result = tune(config, lambda c: train_and_record(c, paths, device, dist, started))
        if result.lr_candidates and dist.is_main:  # the chosen training's, with every candidate
            atomic_write_json(paths.result, result.to_json())
        return result.to_json()
    except Exception as exc:
        reason = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, torch.OutOfMemoryError):
            reason = f"out of memory: {exc}"
        if not isinstance(exc, UserError):
            log.error("point failed: %s\n%s", reason, traceback.format_exc())
        if dist.is_main:
            record_failure(config, paths, reason)
            if not getattr(exc, "reported", False):  # failed before its W&B run opened
                tracker = open_tracker(config, paths, dist)
                tracker.summary({"status": "failed", "reason": reason})
                tracker.finish(exit_code=1)
        if not multirun:
            fail(reason)
        log.error("error: %s", " ".join(reason.split()))
        return {"status": "failed", "reason": reason}
    finally:
        ddp.teardown(dist)


def train_and_record(
    config: Run, paths: PointPaths, device: torch.device, dist: ddp.Dist, started: float
) -> PointResult:
    """Plan, load, budget, then reuse the result, reuse a shared training, or train; record."""
    tag, timings = label(config), {}
    tic = time.perf_counter()
    planned = plan_point(config)
    cost = planned.candidate.cost.macs
    model = regularised(config.model, config.train.regularization, cost / planned.base_macs)
    config = config.model_copy(update={"model": model})  # the rates this point trains with
    timings["plan"] = time.perf_counter() - tic
    if dist.is_main:
        warm_up(config.logger)  # W&B's service starts while the data loads
    tic = time.perf_counter()
    data = load_data(config.data)
    timings["data"] = time.perf_counter() - tic
    budget = plan_budget(config.train, len(data.train), cost, planned.base_macs)
    ddp.check_batch(budget.batch_size, dist)
    amp = resolve_auto(config.train.amp, traits(device).bf16_by_default)
    split_bn = dist.world > 1 and not resolve_auto(config.train.sync_bn, True)
    paths = replace(paths, key=training_key(config, planned, budget, data, amp, split_bn))

    previous = read_json_or_none(paths.result)
    if previous and previous.get("status") in FINAL and previous.get("point_key") == paths.key:
        log.info("%s already finished (%s): %s", tag, previous["status"], paths.result)
        return PointResult.from_json(previous)

    tracker = open_tracker(config, paths, dist)
    try:
        outcome, shared = reuse_or_claim(
            paths.trained,
            paths.outcome,
            lambda: train(
                config, planned, data, budget, paths, device, dist, amp, tracker, timings
            ),
            dist,
            tag,
        )
        if shared:
            outcome = Outcome.from_json(read_json(paths.outcome)) if dist.is_main else None
        result = record(config, planned, budget, data, outcome, shared, paths, timings, started)
        if dist.is_main:
            atomic_write_json(paths.result, result.to_json())
            tracker.summary({k: getattr(result, k) for k in SUMMARY_KEYS})
            top1 = "n/a" if result.top1 is None else f"{100 * result.top1:.2f}%"
            log.info("%s %s: top-1 %s -> %s", tag, result.status, top1, paths.result)
        tracker.finish(exit_code=0 if result.status == "ok" else 1)  # a diverged run fails
    except BaseException as exc:
        tracker.summary({"status": "failed", "reason": f"{type(exc).__name__}: {exc}"})
        tracker.finish(exit_code=1)
        exc.reported = True  # type: ignore[attr-defined]
        raise
    return result


def train(
    config: Run,
    planned: PlannedPoint,
    data: Data,
    budget: Budget,
    paths: PointPaths,
    device: torch.device,
    dist: ddp.Dist,
    amp: bool,
    tracker: Tracker,
    timings: dict[str, float],
) -> Outcome:
    """Build, fit and evaluate the point; writes ``outcome.json`` for identical points."""
    recipe, seed = config.train, config.seed
    torch.manual_seed(seed)
    tic = time.perf_counter()
    model = build_model(config.model, planned.candidate.arch, data.num_classes).to(device)
    channels_last = resolve_auto(recipe.channels_last, True)  # oneDNN is faster with it too
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    sync_bn = dist.world > 1 and resolve_auto(recipe.sync_bn, True)
    if sync_bn:
        model = synchronise_batch_norm(model, traits(device).cuda)
    eval_model = model
    model = ddp.wrap(model, dist, device)
    long_enough = budget.steps >= recipe.compile_min_steps
    compiled = resolve_auto(recipe.compile, traits(device).compile_by_default and long_enough)
    if compiled:
        model = torch.compile(model)
    timings["build"] = time.perf_counter() - tic

    tic = time.perf_counter()
    resolution = planned.candidate.resolution
    batch = (recipe.batch_size, recipe.eval_batch_size)
    train_b, test_b = make_batches(
        data, resolution, batch, device, seed, dist.shard, channels_last, Preprocess.of(config.data)
    )
    timings["batches"] = time.perf_counter() - tic

    progress = Progress(label(config), recipe.log_every_seconds, dist.is_main)
    setup = Setup(recipe, device, amp, paths.checkpoint, progress, tracker.log, dist.is_main)
    setup.average = lambda t: ddp.average(t, dist)
    with PeakMemory(device) as peak:
        outcome = fit(new_state(model, recipe, budget, eval_model), train_b, test_b, budget, setup)
    ddp.barrier(dist)
    cost = {"peak_memory_mb": peak.mb}
    if dist.is_main and outcome.status == "ok":
        tic = time.perf_counter()
        run = measure_inference(eval_model, device, resolution, recipe.eval_batch_size,
                                channels_last, amp)  # fmt: skip
        cost |= {k: run[k] for k in ("latency_ms", "inference_images_per_sec")}
        outcome.timings["inference"] = time.perf_counter() - tic
        tic = time.perf_counter()
        cost["top1_by_test_resolution"] = test_resolutions(
            config, eval_model, data, resolution, outcome, device, channels_last, amp
        )
        outcome.timings["test_resolutions"] = time.perf_counter() - tic
        if data.val is not None:
            cost["val_top1"] = evaluate(
                eval_model,
                held_out_batches(data, resolution, recipe.eval_batch_size, device, channels_last,
                                 Preprocess.of(config.data), data.val),
                autocast_for(device, amp),
            )[0]  # fmt: skip
    outcome = replace(
        outcome,
        **cost,
        compiled=compiled,
        channels_last=channels_last,
        amp=amp,
        sync_bn=sync_bn,
        device=device_info(device, dist.world),
        trained_by=paths.name,
    )
    if dist.is_main:
        atomic_write_json(paths.outcome, outcome.to_json())
        if config.logger.log_checkpoints:
            tracker.log_checkpoint(paths.checkpoint)
    return outcome


def test_resolutions(
    config: Run,
    model: torch.nn.Module,
    data: Data,
    resolution: int,
    outcome: Outcome,
    device: torch.device,
    channels_last: bool,
    amp: bool,
) -> dict[str, float]:
    """Top-1 at each side of ``eval.test_scales`` (bench.train.test_resolution)."""
    preprocess, batch = Preprocess.of(config.data), config.train.eval_batch_size
    autocast = autocast_for(device, amp)
    return top1_by_side(
        model, resolution, config.eval.test_scales, config.model.min_resolution, outcome.top1,
        lambda side: held_out_batches(data, side, batch, device, channels_last, preprocess),
        lambda m, batches: evaluate(m, batches, autocast),
    )  # fmt: skip


def training_key(
    config: Run, planned: PlannedPoint, budget: Budget, data: Data, amp: bool, split_bn: bool
) -> str:
    """Hash of everything that decides what a point learns, listed explicitly.

    The model family and its settings, the rounded architecture and input
    size, the data's identity and preprocessing (including in-memory versus
    streamed and the normalisation), the recipe's learning keys, the
    precision, whether batch norm saw per-process slices of the batch (DDP
    without sync_bn), the number of steps and the seed. How a point is
    watched (logging, checkpoints, evaluation batch) is not part of it.
    """
    payload = {
        "model": config.model.model_dump(mode="json"),
        "arch": planned.candidate.arch.as_dict(),
        "resolution": planned.candidate.resolution,
        "data": data.identity,
        "preprocessing": preprocessing(data, Preprocess.of(config.data)),
        "recipe": {k: getattr(config.train, k) for k in config.train.LEARNING},
        "bf16": amp,
        "bn_statistics": "per process" if split_bn else "global batch",
        "steps": budget.steps,
        "seed": config.seed,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_id(paths: PointPaths) -> str:
    """The point's W&B run id: from its sweep, folder and training key, so that a killed and
    resumed point continues its own run, and a point whose training changed gets a new one."""
    text = f"{paths.sweep_dir.name}/{paths.name}/{paths.key or 'untrained'}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def open_tracker(config: Run, paths: PointPaths, dist: ddp.Dist) -> Tracker:
    """The point's W&B run: group = sweep, job type = strategy (a no-op off rank 0)."""
    return Tracker(
        config.logger,
        directory=paths.sweep_dir,
        name=paths.name,
        group=config.sweep,
        job_type=config.strategy.name,
        tags=[
            config.model.name,
            config.data.name,
            f"budget={config.train.budget}",
            f"phi={config.phi:g}",
        ],
        config=config_record(config),
        enabled=dist.is_main,
        run_id=run_id(paths),
    )


def label(config: Run) -> str:
    """``[k/n depth phi=1 seed=0]``: the point and, in a sweep, its place in it."""
    multirun, num = hydra_job()
    where = ""
    if multirun and num is not None:
        manifest = sweep_dir(config.runs_dir, config.sweep) / "sweep.json"
        total = (read_json_or_none(manifest) or {}).get("jobs")
        where = f"{num + 1}/{total} " if total else f"{num + 1} "
    return f"[{where}{config.strategy.name} phi={config.phi:g} seed={config.seed}]"
