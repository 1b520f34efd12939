"""Generated results stores for the plot and table tests: no training, just result.json files.

Every number is a deterministic function of (strategy, phi, seed), so tests
can recompute what a table or figure should show. Results are built from the
one result record (:class:`bench.train.record.PointResult`): ok and diverged
points carry every field; failed points only what a failure records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bench.store import point_name as _point_name
from bench.train.record import PointResult

BASE_MACS = 2_610_194
BASE_PARAMS = 129_778
BASE_ACTIVATIONS = 82_578
BASE_RESOLUTION = 32
# (a, b, c): how a strategy splits log2 of the MAC ratio among depth, width, resolution
WEIGHTS = {
    "depth": (1.0, 0.0, 0.0),
    "width": (0.0, 1.0, 0.0),
    "resolution": (0.0, 0.0, 1.0),
    "compound": (0.28, 0.30, 0.42),
    "linear": (1.0, 0.0, 0.0),
    "uniform": (1 / 3, 1 / 3, 1 / 3),
    "fast": (0.1, 0.8, 0.1),
}
# the large layout (``points=``): 5 strategies x 8 levels, 5 seeds make 200 points
BIG_STRATEGIES = ("depth", "width", "resolution", "compound", "linear")
BIG_PHIS = (-1, 0, 1, 2, 3, 4, 5, 6)
GAIN = {"depth": 2.0, "width": 2.5, "resolution": 1.5, "compound": 3.5, "linear": 1.0}


def point_name(strategy: str, phi: float, seed: int) -> str:
    """The point folder's name (``depth_phi1_seed0``), as bench.store defines it."""
    return _point_name(strategy, phi, seed)


def fake_top1(strategy: str, phi: float, seed: int) -> float:
    """A plausible top-1: rises with phi at a per-strategy rate, plus seed noise."""
    gain = GAIN.get(strategy, 3.0)
    salt = len(strategy) if phi else 0  # phi=0 is one shared baseline
    noise = ((seed * 7 + int(phi * 3) + salt) % 5 - 2) * 0.004
    return round(0.60 + gain * 0.01 * phi + noise, 4)


def make_result(
    strategy: str,
    phi: float,
    seed: int,
    status: str = "ok",
    *,
    top1: float | None = None,
    sweep: str = "tiny-shapes-epochs5",
    model: str = "tiny",
    data: str = "shapes",
    budget: str = "epochs",
    epochs: float = 5.0,
) -> dict[str, Any]:
    """One point's result.json content."""
    common = {"strategy": strategy, "phi": float(phi), "seed": seed, "model": model, "data": data,
              "sweep": sweep, "config": {"strategy": {"name": strategy}, "phi": phi}}  # fmt: skip
    if status == "failed":
        return PointResult(status="failed", reason="CUDA out of memory", **common).to_json()
    a, b, c = WEIGHTS.get(strategy, (0.3, 0.3, 0.4))
    d, w, r = 2 ** (a * phi), 2 ** (b * phi / 2), 2 ** (c * phi / 2)
    target = BASE_MACS * 2**phi
    ratio = 1.0 + 0.01 * ((len(strategy) + int(phi * 2)) % 5 - 2) if phi else 1.0
    macs = int(round(target * ratio))
    value = fake_top1(strategy, phi, seed) if top1 is None else top1
    samples = int(epochs * 10_000)
    throughput = 5e9 / macs
    result = PointResult(
        status=status,
        reason="loss is nan at step 40" if status == "diverged" else None,
        top1=value if status == "ok" else None,
        top5=min(1.0, value + 0.3) if status == "ok" else None,
        macs=macs,
        params=int(BASE_PARAMS * d * w**2),
        activations=int(BASE_ACTIVATIONS * d * w * r**2),
        depth_mult=d,
        width_mult=w,
        res_mult=r,
        resolution=int(8 * round(BASE_RESOLUTION * r / 8)),
        depths=[max(1, math.ceil(d * n)) for n in (1, 2, 2, 2)],
        widths=[int(8 * round(w * c0 / 8)) for c0 in (16, 24, 40, 64)],
        extra_blocks=0.0 if strategy != "linear" else 2**phi - 1.0,
        target_macs=int(round(target)),
        macs_ratio=macs / target,
        within_tolerance=abs(macs / target - 1) <= 0.05,
        still_improving=phi >= 3,  # the largest networks were still learning
        above_chance=status == "ok",
        num_classes=10,
        test_images=2000,
        latency_ms=0.5 + macs / 2e6,
        inference_images_per_sec=2e10 / macs,
        peak_memory_mb=100.0 + macs / 1e5,
        epochs=epochs,
        train_flops=6.0 * macs * samples,
        wall_seconds=samples / throughput + 3.0 + seed * 0.5,
        images_per_sec=throughput * (1 + 0.02 * seed),
        samples_seen=samples,
        steps=samples // 128,
        budget=budget,
        device={"type": "cpu", "name": "x86_64", "world_size": 1, "threads": 2},
        shared=phi == 0 and strategy != "depth",
        history=[{"epoch": 1.0, "step": 78, "top1": value - 0.05}],
        timings={"plan": 0.04, "train": 40.0},
        versions={"scalebench": "0.1.0", "torch": "2.14.1"},
        **common,
    )
    return result.to_json()


def write_result(sweep_dir: Path, result: Mapping[str, Any]) -> Path:
    """Write ``result`` as ``<sweep_dir>/<point>/result.json``; returns the file."""
    folder = Path(sweep_dir) / point_name(result["strategy"], result["phi"], result["seed"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "result.json"
    path.write_text(json.dumps(result, indent=2))
    return path


def write_sweep(
    sweep_dir: Path,
    strategies: Iterable[str] = ("depth", "width", "resolution", "compound"),
    phis: Iterable[float] = (0, 1, 2, 3),
    seeds: Iterable[int] = (0, 1, 2),
    *,
    diverged: Iterable[tuple[str, float, int]] = (("width", 3, 1),),
    failed: Iterable[tuple[str, float, int]] = (("resolution", 3, 2),),
    pending: Iterable[tuple[str, float, int]] = (("compound", 4, 0),),
    top1: Mapping[tuple[str, float, int], float] | None = None,
    extra: Mapping[tuple[str, float, int], Mapping[str, Any]] | None = None,
    clutter: bool = True,
    points: int | None = None,
    **fields: Any,
) -> Path:
    """A sweep folder with every (strategy, phi, seed) point, some diverged or failed.

    ``extra`` sets fields of single points (``{("depth", 2, 0): {"above_chance":
    False}}``). ``pending`` points get a folder but no result.json (still running, or
    killed); ``clutter`` adds the folders a real sweep has besides its points
    (``trained/``, ``wandb/``, ``.hydra/``, ``figures/``). ``points=N`` writes
    exactly N points of the large layout instead (5 strategies x 8 levels x
    as many seeds as needed, the last seed cut short). ``fields`` go to
    :func:`make_result` (``sweep=``, ``budget=``, ``epochs=``...).
    """
    sweep_dir = Path(sweep_dir)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    fields.setdefault("sweep", sweep_dir.name)
    bad = {tuple(p): "diverged" for p in diverged} | {tuple(p): "failed" for p in failed}
    top1 = dict(top1 or {})
    if points is not None:
        strategies, phis, seeds = BIG_STRATEGIES, BIG_PHIS, range(math.ceil(points / 40))
    keys = [(st, phi, seed) for seed in seeds for st in strategies for phi in phis]
    for key in keys[:points]:
        status = bad.get(key, "ok")
        result = make_result(*key, status, top1=top1.get(key), **fields)
        write_result(sweep_dir, result | dict((extra or {}).get(key, {})))
    for strategy, phi, seed in pending:
        (sweep_dir / point_name(strategy, phi, seed) / ".hydra").mkdir(parents=True, exist_ok=True)
    if clutter:
        for name in ("trained/abc123", "wandb/offline-run-1", ".hydra", "figures"):
            (sweep_dir / name).mkdir(parents=True, exist_ok=True)
        (sweep_dir / "trained" / "abc123" / "checkpoint.pt").write_bytes(b"\0")
        (sweep_dir / "sweep.json").write_text('{"sweep": "x", "jobs": 1}')
    return sweep_dir


def write_big_sweep(sweep_dir: Path, points: int = 200) -> Path:
    """200 points by default (5 strategies x 8 levels x 5 seeds): the performance target."""
    return write_sweep(
        sweep_dir,
        points=points,
        diverged=(("width", 6, 0), ("width", 6, 3)),
        failed=(("resolution", 6, 1),),
        pending=(),
    )
