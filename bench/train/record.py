"""A trained point's result, made from its plan, budget and outcome.

The record's definition (its keys, CSV columns, summary keys) is shared vocabulary and lives
on the floor, in :mod:`bench.record`; its names are re-exported here for code that imports
them from ``bench.train.record``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bench.provenance import version_note, versions
from bench.record import (  # noqa: F401 - re-exported: the old place of the definition
    DEVICE_COLUMNS,
    FINAL,
    INTERFACE,
    NESTED,
    PLAN_COLUMNS,
    SUMMARY_KEYS,
    PointResult,
    config_record,
    csv_columns,
    csv_row,
    int_columns,
    log,
    record_failure,
    reuse_finished,
)

if TYPE_CHECKING:
    from bench.train.identity import Point
    from bench.train.outcome import Outcome

# result keys the training's outcome holds under the same name
FROM_OUTCOME = (
    "latency_ms", "inference_images_per_sec", "peak_memory_mb", "images_per_sec", "steps",
    "trained_by", "compiled", "channels_last", "amp", "sync_bn", "resumed_from_step", "device",
    "history", "val_top1",
)  # fmt: skip


def record(
    point: Point, outcome: Outcome, shared: bool, timings: dict[str, float], started: float
) -> PointResult:
    """A trained (or shared) point's result, from its plan, budget and outcome."""
    from bench.train.diagnostics import above_chance, still_improving
    from bench.train.eval_sides import sides_fields

    config, budget, data = point.config, point.budget, point.data
    wall = time.perf_counter() - started
    ok = outcome.status == "ok"
    tested = len(data.test) - outcome.unreadable.get("test", 0)  # readable held-out images
    return PointResult(
        status=outcome.status,
        reason=outcome.reason,
        seed=config.seed,
        **point.planned.fields(),
        top1=outcome.top1,
        top5=outcome.top5,
        still_improving=still_improving(outcome.history) if ok else None,
        above_chance=above_chance(outcome.top1, tested, data.num_classes),
        num_classes=data.num_classes,
        test_images=tested,
        epochs=budget.epochs,
        train_flops=budget.train_flops,
        wall_seconds=wall,
        samples_seen=outcome.steps * budget.batch_size,
        budget=budget.mode,
        model=config.model.name,
        data=config.data.name,
        sweep=config.sweep,
        point_key=point.paths.key,
        shared=shared,
        compile_seconds=outcome.compile_seconds(),
        drop_rate=config.model.drop_rate,
        drop_path_rate=config.model.drop_path_rate,
        timings={**timings, **outcome.timings, "job_wall": wall},
        budget_detail=budget.as_dict(),
        data_info={
            "description": data.description,
            "skipped": data.skipped + sum(outcome.unreadable.values()),
        },
        config=config_record(config),
        versions=versions(),
        version_note=version_note(outcome.versions)
        or version_note(outcome.resumed_versions, "resumed from a checkpoint"),
        **sides_fields(
            outcome.top1_by_test_resolution,
            outcome.val_top1_by_test_resolution,
            point.planned.candidate.resolution,
        ),
        lr=config.train.lr,
        **{k: getattr(outcome, k) for k in FROM_OUTCOME},
    )
