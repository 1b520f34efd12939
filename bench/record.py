"""The one definition of a point's result: result.json, the CSV row, the W&B summary, the plan row.

Every key a point records is a field of :class:`PointResult`, in the order
result.json lists them; the first sixteen are an interface that scripts read
(``status`` ... ``wall_seconds``), so they keep their names and places. A
field's metadata says where else it appears:

- ``summary``: a key of the point's W&B run summary (:data:`SUMMARY_KEYS`),
- ``nested``: a structure kept in result.json only, never in results.csv.

``bench.plan``'s table and CSV are the plan's fields (:data:`PLAN_COLUMNS`),
in the order its first columns have always had.

A failed point is the same record with what it never got left null. A trained point's
record is made from its outcome by :func:`bench.train.record.record`.
"""

from __future__ import annotations

import logging
import typing
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from bench.provenance import version_note, versions
from bench.store import atomic_write_json, read_json_or_none

log = logging.getLogger("bench.run")

if TYPE_CHECKING:  # the plot reads results without importing torch
    from bench.schema import Run
    from bench.store import PointPaths


def _key(summary: bool = False, nested: bool = False) -> Any:
    return field(default=None, metadata={"summary": summary, "nested": nested})


@dataclass
class PointResult:
    """Everything one point records. Fractions are in [0, 1]; MACs are per image."""

    # -- the interface (fixed names, in this order) -------------------------------------------
    status: str | None = _key(summary=True)  # ok | diverged | failed
    reason: str | None = _key()  # why a point is not ok
    strategy: str | None = _key()
    phi: float | None = _key()
    seed: int | None = _key()
    top1: float | None = _key(summary=True)  # held-out top-1 after the last step
    top5: float | None = _key(summary=True)
    macs: int | None = _key(summary=True)  # measured multiply-adds of the network
    params: int | None = _key(summary=True)
    activations: int | None = _key(summary=True)  # conv/linear outputs (pycls)
    depth_mult: float | None = _key(summary=True)
    width_mult: float | None = _key(summary=True)
    resolution: int | None = _key(summary=True)  # input side in pixels
    epochs: float | None = _key(summary=True)  # the budget's passes over the training set
    train_flops: float | None = _key(summary=True)  # the budget's 6 x MACs x samples
    wall_seconds: float | None = _key()  # the job's wall time
    # -- the plan -------------------------------------------------------------------------------
    target_macs: int | None = _key()
    macs_ratio: float | None = _key(summary=True)  # achieved / target MACs
    res_mult: float | None = _key(summary=True)
    depths: list[int] | None = _key()  # blocks per stage after rounding
    widths: list[int] | None = _key()  # channels per stage after rounding
    extra_blocks: float | None = _key()  # linear scaling's extra blocks (fraction)
    within_tolerance: bool | None = _key(summary=True)  # macs_ratio within plan.tolerance
    plan_note: str | None = _key()  # why a point is off its target, in words
    # -- is it a finding? (bench.train.diagnostics) ------------------------------------------
    still_improving: bool | None = _key(summary=True)  # top-1 or loss still rising at the end
    above_chance: bool | None = _key(summary=True)  # top-1 significantly above 1 / classes
    num_classes: int | None = _key()
    test_images: int | None = _key()  # held-out images top-1 was measured on
    # -- what it costs to run (bench.train.inference) -----------------------------------------
    latency_ms: float | None = _key(summary=True)  # batch 1, median, on the training device
    inference_images_per_sec: float | None = _key(summary=True)  # at train.eval_batch_size
    peak_memory_mb: float | None = _key(summary=True)  # peak memory of training (see README)
    # -- the training ---------------------------------------------------------------------------
    images_per_sec: float | None = _key(summary=True)  # training throughput
    samples_seen: int | None = _key()  # steps done x batch
    steps: int | None = _key()  # optimiser steps done
    budget: str | None = _key()  # epochs | flops
    model: str | None = _key()
    data: str | None = _key()
    sweep: str | None = _key()
    point_key: str | None = _key()  # hash of everything that decides what the point learns
    shared: bool | None = _key(summary=True)  # reused another point's identical training
    trained_by: str | None = _key()  # the point folder that trained it
    compiled: bool | None = _key()  # torch.compile was on
    compile_seconds: float | None = _key()  # the first step's excess over a steady one
    channels_last: bool | None = _key()
    amp: bool | None = _key()  # bf16 autocast was on
    sync_bn: bool | None = _key()  # batch-norm statistics over every DDP process
    resumed_from_step: int | None = _key()  # 0 unless it continued from a checkpoint
    drop_rate: float | None = _key(summary=True)  # dropout this point used (train.regularization)
    drop_path_rate: float | None = _key(summary=True)  # stochastic depth this point used
    # -- testing at other sides (bench.train.eval_sides) ---------------------------------
    # the side is chosen on the validation split, never the test split: null without one
    best_test_resolution: int | None = _key(summary=True)  # side of the best validation top-1
    top1_at_best_test_resolution: float | None = _key(summary=True)  # test top-1 at that side
    val_top1_at_best_test_resolution: float | None = _key(summary=True)  # what chose the side
    val_top1: float | None = _key(summary=True)  # on the validation split (data.val_fraction)
    lr: float | None = _key(summary=True)  # the peak learning rate trained with (tune.lrs' choice)
    # -- details (result.json only) -------------------------------------------------------------
    device: dict[str, Any] | None = _key()  # type, name, world_size, threads (flattened in CSV)
    top1_by_test_resolution: dict[str, float] | None = _key(nested=True)  # side (str) -> top-1
    val_top1_by_test_resolution: dict[str, float] | None = _key(nested=True)  # the same, val
    lr_candidates: list[dict[str, Any]] | None = _key(nested=True)  # tune.lrs: {lr, val_top1}
    timings: dict[str, float] | None = _key(nested=True)  # seconds per phase of the job
    budget_detail: dict[str, Any] | None = _key(nested=True)  # bench.scaling.budget.Budget
    history: list[dict[str, Any]] | None = _key(nested=True)  # one entry per evaluation
    data_info: dict[str, Any] | None = _key(nested=True)  # description, skipped files
    config: dict[str, Any] | None = _key(nested=True)  # the validated, resolved config
    versions: dict[str, Any] | None = _key(nested=True)  # python, torch, timm, ... packages
    version_note: str | None = _key()  # reused from a run of other versions: which differ

    def to_json(self) -> dict[str, Any]:
        """result.json's content, keys in field order."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PointResult:
        """A result.json read back; keys this version does not know are dropped."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _names(flag: str) -> tuple[str, ...]:
    return tuple(f.name for f in fields(PointResult) if f.metadata[flag])


INTERFACE = tuple(f.name for f in fields(PointResult))[:16]
PLAN_COLUMNS = (
    "strategy", "phi", "depth_mult", "width_mult", "resolution", "macs", "params", "activations",
    "target_macs", "macs_ratio", "res_mult", "depths", "widths", "extra_blocks", "within_tolerance",
    "plan_note",
)  # fmt: skip
SUMMARY_KEYS = _names("summary")
NESTED = frozenset(_names("nested"))
DEVICE_COLUMNS = ("device_type", "device_name", "device_world_size", "device_threads")


def csv_columns() -> list[str]:
    """results.csv's columns: every field but the nested ones, the device flattened."""
    out: list[str] = []
    for f in fields(PointResult):
        if f.name == "device":
            out += DEVICE_COLUMNS
        elif f.name not in NESTED:
            out.append(f.name)
    return out


def csv_row(result: dict[str, Any]) -> dict[str, Any]:
    """A result.json as results.csv's row: nested keys left out, lists joined ("2-3-3-4"),
    the device flattened; keys of other versions kept, so that nothing read is lost."""
    row: dict[str, Any] = {}
    for key, value in result.items():
        if key in NESTED:
            continue
        if key == "device":
            device = value or {}
            row |= {c: device.get(c.removeprefix("device_")) for c in DEVICE_COLUMNS}
        elif isinstance(value, list):
            row[key] = "-".join(str(v) for v in value)
        elif not isinstance(value, dict):
            row[key] = value
    return row


def int_columns() -> list[str]:
    """The CSV columns that hold whole numbers (kept integers even where some are null)."""
    hints = typing.get_type_hints(PointResult)
    return [n for n, t in hints.items() if t == int | None] + list(DEVICE_COLUMNS[2:])


FINAL = ("ok", "diverged")  # statuses a re-run keeps; a failed point is tried again


def reuse_finished(previous: dict[str, Any], paths: PointPaths) -> PointResult:
    """A finished result.json read back for a re-run; one made by other versions (which a
    training key with major.minor versions lets through) gets its ``version_note``, saved."""
    result = PointResult.from_json(previous)
    note = version_note(previous.get("versions"))
    if note and note != result.version_note:
        result.version_note = note
        atomic_write_json(paths.result, result.to_json())
    return result


def record_failure(config: Run, paths: PointPaths, reason: str) -> None:
    """Write a ``failed`` result.json, unless the point already holds a final one.

    When even that cannot be written (a full disk), one line says so and the
    sweep goes on: its end counts the point as missing.
    """
    previous = read_json_or_none(paths.result) or {}
    if previous.get("status") in FINAL:
        return  # never replace a finished result with a failure
    result = PointResult(
        status="failed",
        reason=reason,
        strategy=config.strategy.name,
        phi=config.phi,
        seed=config.seed,
        model=config.model.name,
        data=config.data.name,
        sweep=config.sweep,
        config=config_record(config),
        versions=versions(),
    )
    try:
        atomic_write_json(paths.result, result.to_json())
    except OSError as exc:
        log.error("error: %s could not be written (%s): %s", paths.result, exc.strerror, reason)


def config_record(config: Run) -> dict[str, Any]:
    """The validated config as result.json keeps it (the strategy with its class)."""
    out = config.model_dump(mode="json")
    strategy = config.strategy
    out["strategy"] = {
        "_target_": f"{type(strategy).__module__}.{type(strategy).__qualname__}",
        **strategy.model_dump(mode="json"),
    }
    return out
