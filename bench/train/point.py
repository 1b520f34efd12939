"""One point of a sweep, top to bottom: plan, data, budget, reuse or claim, build, fit, record.

:func:`run_point` is the job ``bench.run`` gives Hydra. Each step below is a
function with explicit inputs and outputs; what the first steps decide is one
:class:`Point` that the later steps read. What a point trains is identified
by a hash of everything that decides what it learns (:func:`training_key`),
so identical points (phi=0 of every strategy is one baseline) train once in
``runs/<sweep>/trained/<key>/`` and share the outcome. A finished point is
skipped on a re-run and a killed one resumes from its checkpoint. In a sweep
a job never raises: a failure is recorded in result.json and the sweep, with
its figures, completes.
"""

from __future__ import annotations

import logging
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import torch

from bench.claims import ClaimLost, reuse_or_claim
from bench.config.compose import hydra_job
from bench.data import load_data
from bench.data.batches import BatchSpec, Preprocess
from bench.data.inputs import FirstImages, make_batches
from bench.errors import UserError, fail
from bench.hardware import distributed as ddp
from bench.hardware.device import device_info, prepare, resolve_device, traits
from bench.provenance import versions
from bench.record import (
    FINAL,
    SUMMARY_KEYS,
    PointResult,
    config_record,
    record_failure,
    reuse_finished,
)
from bench.scaling.budget import plan_budget
from bench.scaling.planning import plan_point
from bench.scaling.regularization import regularised
from bench.schema import Run, resolve_auto
from bench.store import (
    PointPaths,
    atomic_write_json,
    point_paths,
    read_json,
    read_json_or_none,
    remove_leftovers,
    set_aside,
)
from bench.track.tracker import RunSpec, Tracker, warm_up
from bench.train import stop
from bench.train.identity import Point, run_id, training_key
from bench.train.inference import PeakMemory
from bench.train.loop import Outcome, Setup, fit, new_state
from bench.train.network import build, held_out_evaluations, inference_cost
from bench.train.progress import Progress, label
from bench.train.record import record
from bench.train.tuning import tune
from bench.validate import validate

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
    strategy = config.strategy.name
    paths = point_paths(config.runs_dir, config.sweep, strategy, config.phi, config.seed)
    if not multirun:  # a sweep's job process asks its child (bench.sweep.supervise)
        stop.listen(signal.SIGTERM, signal.SIGUSR2)
    dist = ddp.Dist()
    try:
        device, dist = start(config)
        result = tune(config, lambda c: run_candidate(c, paths, device, dist, started))
        if result.lr_candidates and dist.is_main:  # the chosen training's, with every candidate
            atomic_write_json(paths.result, result.to_json())
    except stop.Stopped as exc:
        if not multirun:
            fail(f"{exc}; run the same command again to resume")
        raise
    except Exception as exc:  # before a W&B run of its own opened: one is opened to say so
        result = failed(config, paths, dist, exc, None)
    finally:
        ddp.teardown(dist)
    if result.status == "failed":
        if not multirun:
            fail(str(result.reason))
        log.error("error: %s", " ".join(str(result.reason).split()))
        return {"status": "failed", "reason": result.reason}
    return result.to_json()


def run_candidate(
    config: Run, paths: PointPaths, device: torch.device, dist: ddp.Dist, started: float
) -> PointResult:
    """One training of the point (one learning rate when tuning): plan, data, budget, reuse
    or claim, build, fit, record. A failure after its W&B run opened is recorded there."""
    point, timings = plan_data_budget(config, paths, device, dist)
    previous = finished(point)
    if previous is not None:
        return previous
    tracker = open_tracker(point.config, point.paths, dist)
    try:
        return train_and_record(point, tracker, timings, started)
    except stop.Stopped as exc:
        tracker.summary({"status": "stopped", "reason": str(exc)})
        tracker.finish(exit_code=1)
        raise
    except Exception as exc:
        return failed(point.config, paths, dist, exc, tracker)


def start(config: Run) -> tuple[torch.device, ddp.Dist]:
    """The device and this process's place among torchrun's processes."""
    device = resolve_device(config.device)
    dist = ddp.setup(device)
    if traits(device).cuda and dist.world > 1:
        device = torch.device("cuda", dist.local_rank)
    prepare(device)
    if config.threads:
        torch.set_num_threads(config.threads)
    return device, dist


def plan_data_budget(
    config: Run, paths: PointPaths, device: torch.device, dist: ddp.Dist
) -> tuple[Point, dict[str, float]]:
    """Plan the network, load the data, fix the budget and the training key."""
    timings: dict[str, float] = {}
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
    point = Point(config, planned, budget, data, paths, device, dist, amp)
    return replace(point, paths=replace(paths, key=training_key(point))), timings


def finished(point: Point) -> PointResult | None:
    """The point's own result when a previous run finished this very training."""
    previous = read_json_or_none(point.paths.result)
    if not previous or previous.get("status") not in FINAL:
        return None
    if previous.get("point_key") != point.paths.key:
        return None
    log.info("%s already finished (%s): %s", label(point.config), previous["status"],
             point.paths.result)  # fmt: skip
    return reuse_finished(previous, point.paths)


def train_and_record(
    point: Point, tracker: Tracker, timings: dict[str, float], started: float
) -> PointResult:
    """Reuse a shared training or train this one; record the result."""
    paths, dist = point.paths, point.dist
    if dist.is_main:
        remove_leftovers(paths.dir)
        usable_outcome(paths)
    outcome, shared = reuse_or_claim(
        paths.trained,
        paths.outcome,
        lambda guard: train(point, tracker, timings, guard),
        dist,
        label(point.config),
    )
    if shared:
        outcome = Outcome.from_json(read_json(paths.outcome)) if dist.is_main else None
    result = record(point, outcome, shared, timings, started)
    if dist.is_main:
        atomic_write_json(paths.result, result.to_json())
        tracker.summary({k: getattr(result, k) for k in SUMMARY_KEYS})
        top1 = "n/a" if result.top1 is None else f"{100 * result.top1:.2f}%"
        log.info("%s %s: top-1 %s -> %s", label(point.config), result.status, top1, paths.result)
    tracker.finish(exit_code=0 if result.status == "ok" else 1)  # a diverged run fails
    return result


def usable_outcome(paths: PointPaths) -> None:
    """Set aside an ``outcome.json`` that cannot be read back, so the training runs again."""
    if not paths.outcome.exists():
        return
    try:
        Outcome.from_json(read_json(paths.outcome))
    except (ValueError, TypeError, OSError) as exc:
        aside = set_aside(paths.outcome)
        log.warning("%s moved aside to %s: it cannot be read (%s); training again",
                    paths.outcome, aside.name, type(exc).__name__)  # fmt: skip


def train(
    point: Point, tracker: Tracker, timings: dict[str, float], guard: Callable[[], None]
) -> Outcome:
    """Build, fit and evaluate the point; writes ``outcome.json`` for identical points.

    ``guard()`` raises when this worker no longer holds the training's claim; it is called
    before every checkpoint and before the outcome is written.
    """
    config, paths, dist = point.config, point.paths, point.dist
    if dist.is_main:
        remove_leftovers(paths.trained)  # the claim is ours: a killed writer's files go
    torch.manual_seed(config.seed)
    tic = time.perf_counter()
    net = build(point)
    timings["build"] = time.perf_counter() - tic
    tic = time.perf_counter()
    spec = BatchSpec(point.planned.candidate.resolution, config.train.batch_size, point.device,
                     True, config.seed, preprocess=Preprocess.of(config.data),
                     channels_last=net.channels_last, shard=dist.shard)  # fmt: skip
    train_b, test_b = make_batches(point.data, spec, config.train.eval_batch_size)
    timings["batches"] = time.perf_counter() - tic
    progress = Progress(label(config), config.train.log_every_seconds, dist.is_main)
    setup = Setup(config.train, point.device, point.amp, paths.checkpoint, progress, tracker.log,
                  dist.is_main, partial(ddp.average, d=dist), guard)  # fmt: skip
    with PeakMemory(point.device) as peak:
        state = new_state(net.model, config.train, point.budget, net.eval_model)
        curve = FirstImages(test_b, config.eval.curve_images)
        outcome = fit(state, train_b, curve, point.budget, setup)
    ddp.barrier(dist)
    measured = {**inference_cost(point, net, outcome),
                **held_out_evaluations(point, net, outcome, test_b)}  # fmt: skip
    outcome = replace(outcome, **measured, peak_memory_mb=peak.mb,
                      compiled=net.compiled, channels_last=net.channels_last, amp=point.amp,
                      sync_bn=net.sync_bn, device=device_info(point.device, dist.world),
                      trained_by=paths.name, versions=versions(),
                      unreadable={"train": skipped(train_b), "test": skipped(test_b)})  # fmt: skip
    if dist.is_main:
        guard()
        atomic_write_json(paths.outcome, outcome.to_json())
        if config.logger.log_checkpoints:
            tracker.log_checkpoint(paths.checkpoint)
    return outcome


def skipped(batches: Any) -> int:
    """Unreadable files the streamed batches met (none in memory: the decode dropped them)."""
    return len(getattr(batches, "unreadable", ()))


def failed(
    config: Run, paths: PointPaths, dist: ddp.Dist, exc: Exception, tracker: Tracker | None
) -> PointResult:
    """Record a point that failed: its result.json, and its W&B run (its own, or one opened
    to say so). A lost claim is one line and no record: the claim's new owner records it."""
    one_line = isinstance(exc, (UserError, ClaimLost, OSError))
    reason = str(exc) if isinstance(exc, (UserError, ClaimLost)) else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, torch.OutOfMemoryError):
        reason = f"out of memory: {exc}"
    if not one_line:
        log.error("point failed: %s\n%s", reason, traceback.format_exc())
    if dist.is_main and not isinstance(exc, ClaimLost):
        record_failure(config, paths, reason)
        tracker = tracker or open_tracker(config, paths, dist)
        tracker.summary({"status": "failed", "reason": reason})
        tracker.finish(exit_code=1)
    return PointResult(status="failed", reason=reason, lr=config.train.lr)


def open_tracker(config: Run, paths: PointPaths, dist: ddp.Dist) -> Tracker:
    """The point's W&B run: group = sweep, job type = strategy (a no-op off rank 0)."""
    tags = [config.model.name, config.data.name, f"budget={config.train.budget}",
            f"phi={config.phi:g}"]  # fmt: skip
    spec = RunSpec(paths.sweep_dir, paths.name, config.sweep, config.strategy.name, tags,
                   config_record(config), enabled=dist.is_main, run_id=run_id(paths))  # fmt: skip
    return Tracker(config.logger, spec)
