"""Everything scalebench needs to know from a GPU, measured in one call.

    python benchmarks/gpu.py --quick                # one H100: within 8 minutes
    python benchmarks/gpu.py --quick --out F.json   # F.json rewritten after every measurement
    python benchmarks/gpu.py --smoke                # the same code on CPU, seconds (tests)
    python benchmarks/gpu.py --smoke --device cuda  # a short correctness check on a GPU
    python benchmarks/gpu.py --quick --only sweep   # some of: throughput,plain,sweep,compile,cudnn

GPUs are lent to this project rarely and briefly, so one run measures
everything and survives any one measurement failing: each runs under a time
limit inside the run's budget (440 s after the imports), an out-of-memory
error halves the batch and retries, and whatever is not measured is null
with its reason in ``skipped``. Progress goes to stderr; the LAST stdout
line is one JSON object:

- ``mode``, ``date``, ``device``, ``gpu_name`` (the CPU's name on CPU), ``torch``,
  ``cuda``; ``amp``, ``channels_last``, ``cudnn_benchmark``: how bench trains on
  this device (``train.amp``, ``train.channels_last``, ``bench.hardware.device.prepare``),
  and so how every figure below ran unless it says otherwise; ``peak_flops``:
  989e12, an H100's (and H200's) dense bf16 FLOP/s.
- ``images_per_sec``, ``mfu``, ``macs``, ``batch_size``, ``steps``, ``resolution``,
  ``peak_memory_gb``: dicts keyed ``"<model>@<side>"``, model one of tiny,
  resnet18, efficientnet_b0, side 32 (``data=cifar10`` shape: 10 classes) or
  224 (``data=imagenet`` shape: 1000 classes; --smoke runs it at 64 px, as
  ``resolution`` says), e.g. ``{"tiny@32": ..., "tiny@224": ...}``. bench's
  own loop (``bench.train.loop.fit``) on one synthetic batch held on the device;
  ``mfu`` = 6 x MACs x images/s / ``peak_flops``.
- ``speedup_vs_plain``, ``bench_loop_images_per_sec``, ``plain_images_per_sec``:
  keyed ``"tiny@32"``, ``"resnet18@32"``, at the pipeline's batch (128). bench's
  loop over ``DeviceBatches`` (synthetic uint8 images held on the device;
  crop, flip and normalisation there) against a DataLoader over a
  TensorDataset of the same images on the CPU, normalised per batch, with an
  fp32 NCHW step and PyTorch's defaults (no cuDNN autotuning).
- ``compile_speedup``, ``compile_seconds``, ``compiled_images_per_sec``: keyed
  ``"tiny@32"``, ``"resnet18@32"``, ``"tiny@32/reduce-overhead"`` (CUDA graphs):
  bench's loop on ``DeviceBatches`` with ``torch.compile(model)`` against the
  same model uncompiled; compile seconds = the first compiled step (forward
  and backward are compiled there).
- ``shared_gpu_speedup``: wall clock of four tiny points (``shapes``, seeds 0-3)
  run one after another (``hydra.launcher.n_jobs=1``) over the same four at
  once on one GPU (``n_jobs=4``), each a ``python -m bench.run -m`` through the
  joblib launcher; ``shared_gpu_seconds`` = both walls as ``{"1": s, "4": s}``,
  ``shared_gpu_point_seconds`` = a point's mean wall inside its job, likewise.
- ``cudnn_benchmark_speedup``: keyed ``"resnet18@224"``, ``"efficientnet_b0@224"``:
  ``torch.backends.cudnn.benchmark`` on against off, back to back on one model.
- ``skipped``: ``{"<key>" or "<key>.<entry>": reason}`` for every null value;
  ``total_seconds``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

import torch
from torch import nn

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO, REPO / "benchmarks"):  # bench from this tree; common beside this file
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
import common  # noqa: E402
from common import (  # noqa: E402
    H100_BF16_DENSE,
    STARTED,
    NoEval,
    SyntheticBatches,
    forever,
    sync,
)

MODELS = ("tiny", "resnet18", "efficientnet_b0")
SIDES = (32, 224)
PLAIN_MODELS = ("tiny", "resnet18")
CUDNN_MODELS = ("resnet18", "efficientnet_b0")
COMPILE_RUNS = {  # key -> (model, torch.compile mode)
    "tiny@32": ("tiny", None),
    "resnet18@32": ("resnet18", None),
    "tiny@32/reduce-overhead": ("tiny", "reduce-overhead"),
}
SWEEP_SMOKE_NOTE = (
    "not in --smoke: the 2-point joblib sweep, run twice, took 44-117 s on this project's "
    "2-core CPU (2026-11-26), more than --smoke's ~30 s; --sweep runs it anyway"
)


@dataclass(frozen=True)
class Settings:
    """How much work each measurement does; sized to fit the mode's time."""

    side_224: int  # the side the ImageNet-shape ("@224") measurements run at
    batch: dict[int, int]  # nominal side -> batch for images_per_sec
    warmup: int  # steps run before every timed run (kernels, allocator, compile)
    min_steps: int
    max_steps: int
    target_seconds: float  # a timed run aims at this long, within [min_steps, max_steps]
    split_images: int  # synthetic uint8 images for the loop comparisons
    plain_models: tuple[str, ...]
    compile_keys: tuple[str, ...]
    sweep_points: int
    sweep_train_size: int
    sweep_epochs: int
    budget_seconds: float  # the whole run; later phases are skipped rather than overrun
    phase_seconds: dict[str, float] = field(default_factory=dict)  # time limit per phase kind


SETTINGS = {
    "smoke": Settings(side_224=64, batch={32: 8, 224: 4}, warmup=1, min_steps=2, max_steps=2,
                      target_seconds=0.5, split_images=256, plain_models=("tiny",),
                      compile_keys=("tiny@32",), sweep_points=2, sweep_train_size=256,
                      sweep_epochs=1, budget_seconds=240,
                      phase_seconds={"measure": 60, "compile": 120, "sweep": 150}),
    "quick": Settings(side_224=224, batch={32: 256, 224: 256}, warmup=10, min_steps=100,
                      max_steps=400, target_seconds=5.0, split_images=16384,
                      plain_models=PLAIN_MODELS, compile_keys=tuple(COMPILE_RUNS),
                      sweep_points=4, sweep_train_size=4096, sweep_epochs=16, budget_seconds=440,
                      phase_seconds={"measure": 90, "compile": 180, "sweep": 240}),
}  # fmt: skip
NEEDED = {"measure": 20, "compile": 60, "sweep": 60}  # quick: seconds a phase needs to start


log = partial(common.log, tag="gpu")


def cpu_name() -> str:
    """The CPU's model name (platform.processor() is empty on most Linux)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def one_line(exc: BaseException, limit: int = 400) -> str:
    """An exception as one short line for ``skipped``."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def free_memory() -> None:
    """Drop what a finished (or failed) measurement left on the device."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# -- running every measurement inside the budget ---------------------------------------------
@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in this (main) thread after ``seconds``: a stuck compile ends too."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"over its {seconds:.0f} s limit")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Context:
    """What every measurement shares: the settings, the device, the clock and the output."""

    mode: str
    s: Settings
    dev: torch.device
    out: dict[str, Any]
    started: float = STARTED  # the budget counts from the script's start
    out_file: Path | None = None

    def left(self) -> float:
        """Seconds left of the run's budget."""
        return self.s.budget_seconds - (time.perf_counter() - self.started)

    def skip(self, metrics: tuple[str, ...], entry: str | None, reason: str) -> None:
        """Null ``metrics`` (at ``entry`` in each, when given) with ``reason`` in skipped."""
        for metric in metrics:
            if entry is None:
                self.out[metric] = None
                self.out["skipped"][metric] = reason
            else:
                self.out[metric][entry] = None
                self.out["skipped"][f"{metric}.{entry}"] = reason

    def attempt(self, phase: str, metrics: tuple[str, ...], entry: str | None,
                fn: Callable[[], None]) -> None:  # fmt: skip
        """Run ``fn`` under the phase's time limit; any failure becomes a reason in skipped."""
        needed = NEEDED[phase] if self.mode == "quick" else 0
        left = self.left()
        name = metrics[0] + (f".{entry}" if entry else "")
        if left < needed:
            self.skip(metrics, entry, f"not enough time left ({left:.0f} s; needs ~{needed} s)")
            return
        try:
            with time_limit(min(self.s.phase_seconds[phase], left)):
                fn()
        except Exception as exc:
            log(f"{name}: {one_line(exc)}")
            self.skip(metrics, entry, one_line(exc))
        finally:
            free_memory()
            self.save()

    def save(self) -> None:
        """Rewrite --out with what is known so far: a killed run still leaves its figures."""
        if self.out_file is not None:
            tmp = self.out_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.out, sort_keys=True, indent=1))
            tmp.replace(self.out_file)


# -- models as the pipeline builds them, and bench's loop ------------------------------------
@cache
def preset(name: str, side: int, side_224: int = 224) -> Any:
    """The validated config of ``model=<name>`` on cifar10 (32 px) or imagenet (224 px) shape.

    ``side_224`` replaces 224 px (--smoke runs the ImageNet shape at 64 px).
    """
    from bench.config.compose import compose_config
    from bench.config.validate import validate

    overrides = [f"model={name}", "data=cifar10" if side == 32 else "data=imagenet"]
    if side == 224 and side_224 != 224:
        overrides.append(f"data.resolution={side_224}")
    return validate(compose_config(overrides))


def build(run: Any, dev: torch.device) -> tuple[nn.Module, int]:
    """The baseline model of ``run`` on ``dev`` (channels_last as the pipeline), and its MACs."""
    from bench.models import build_model
    from bench.scaling.complexity import complexity
    from bench.scaling.rounding import scale_arch
    from bench.scaling.strategies import Scale

    arch = scale_arch(run.model, Scale())
    macs = complexity(run.model, arch, run.data.resolution, run.data.num_classes).macs
    model = build_model(run.model, arch, run.data.num_classes).to(dev)
    if channels_last(run):
        model = model.to(memory_format=torch.channels_last)
    return model, int(macs)


def channels_last(run: Any) -> bool:
    """As bench.train.point: ``train.channels_last=auto`` is on everywhere."""
    from bench.schema import resolve_auto

    return resolve_auto(run.train.channels_last, True)


def setup_for(run: Any, dev: torch.device) -> Any:
    """bench's Setup for ``run``'s recipe (bf16 on CUDA), evaluating and checkpointing never."""
    from bench.schema import resolve_auto
    from bench.train.loop import Setup

    recipe = run.train.model_copy(update={"eval_every": 10**6, "checkpoint_every": 10**6})
    return Setup(recipe, dev, amp=resolve_auto(recipe.amp, dev.type == "cuda"))


def run_fit(model: nn.Module, batches: Any, steps: int, batch: int, setup: Any, side: int,
            eval_model: nn.Module | None = None) -> Any:  # fmt: skip
    """``steps`` steps of bench.train.loop.fit; its images/s is synced at both ends (loss read)."""
    from bench.scaling.budget import Budget
    from bench.train.loop import fit, new_state

    budget = Budget("epochs", steps, batch, len(batches), steps * batch, 1.0, 0.0, 0)
    sync(setup.device)  # nothing queued before counts
    state = new_state(model, setup.recipe, budget, eval_model)
    outcome = fit(state, batches, NoEval(setup.device, side), budget, setup)
    if outcome.status != "ok" or outcome.steps != steps:
        raise RuntimeError(f"training stopped at step {outcome.steps}: {outcome.reason}")
    return outcome


def timed_rate(model: nn.Module, batches: Any, batch: int, setup: Any, side: int, s: Settings,
               eval_model: nn.Module | None = None) -> tuple[float, int, float]:  # fmt: skip
    """Images/s of bench's loop after a warm-up; (rate, timed steps, first warm-up step's s).

    The warm-up sizes the timed run to about ``target_seconds``, so fast and
    slow models are measured over similar times.
    """
    warm = run_fit(model, batches, s.warmup, batch, setup, side, eval_model)
    first = warm.timings["first_step"]
    per_step = (warm.timings["train"] - first) / max(1, s.warmup - 1)
    steps = int(min(s.max_steps, max(s.min_steps, s.target_seconds / max(per_step, 1e-6))))
    timed = run_fit(model, batches, steps, batch, setup, side, eval_model)
    return timed.images_per_sec, steps, first


# -- images/s and MFU per model and input size -----------------------------------------------
THROUGHPUT_METRICS = ("images_per_sec", "mfu", "macs", "batch_size", "steps", "resolution",
                      "peak_memory_gb")  # fmt: skip


def throughput(ctx: Context, name: str, side: int) -> None:
    """images_per_sec and mfu of one model at one size; an out-of-memory halves the batch."""
    key, batch = f"{name}@{side}", ctx.s.batch[side]
    while True:
        try:
            row = measure_throughput(ctx, name, side, batch)
            break
        except torch.OutOfMemoryError:
            if batch < 2:
                raise
        free_memory()  # outside the except block: its traceback holds the tensors
        log(f"{key}: out of memory at batch {batch}; trying {batch // 2}")
        batch //= 2
    for metric, value in row.items():
        ctx.out[metric][key] = value
        if value is None:
            ctx.skip((metric,), key, f"measured on CUDA only, not on {ctx.dev.type}")
    log(f"{key}: {row['images_per_sec']:.0f} img/s at batch {batch}, "
        f"MFU {100 * row['mfu']:.2f}%")  # fmt: skip


def measure_throughput(ctx: Context, name: str, side: int, batch: int) -> dict[str, Any]:
    """One model at one size and batch through bench's loop on a synthetic device batch."""
    run = preset(name, side, ctx.s.side_224)
    torch.manual_seed(0)
    model, macs = build(run, ctx.dev)
    res, classes = run.data.resolution, run.data.num_classes
    batches = SyntheticBatches(batch, res, classes, ctx.dev, channels_last(run))
    if ctx.dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(ctx.dev)
    rate, steps, _ = timed_rate(model, batches, batch, setup_for(run, ctx.dev), res, ctx.s)
    memory = None
    if ctx.dev.type == "cuda":
        memory = torch.cuda.max_memory_allocated(ctx.dev) / 2**30
    return {"images_per_sec": rate, "mfu": 6 * macs * rate / H100_BF16_DENSE, "macs": macs,
            "batch_size": batch, "steps": steps, "resolution": res,
            "peak_memory_gb": memory}  # fmt: skip


def cudnn_benchmark(ctx: Context, name: str) -> None:
    """cudnn.benchmark on against off for one model at 224 px, back to back on one model."""
    if ctx.dev.type != "cuda":
        raise RuntimeError("cuDNN autotuning needs CUDA")
    run = preset(name, 224, ctx.s.side_224)
    model, _ = build(run, ctx.dev)
    res = run.data.resolution
    batch = ctx.out["batch_size"].get(f"{name}@224") or ctx.s.batch[224]  # what fitted
    batches = SyntheticBatches(batch, res, run.data.num_classes, ctx.dev, channels_last(run))
    setup = setup_for(run, ctx.dev)
    before = torch.backends.cudnn.benchmark
    try:
        torch.backends.cudnn.benchmark = False
        off, _, _ = timed_rate(model, batches, batch, setup, res, ctx.s)
        torch.backends.cudnn.benchmark = True
        on, _, _ = timed_rate(model, batches, batch, setup, res, ctx.s)
    finally:
        torch.backends.cudnn.benchmark = before
    ctx.out["cudnn_benchmark_speedup"][f"{name}@224"] = on / off
    log(f"{name}@224 cudnn.benchmark: {on:.0f} vs {off:.0f} img/s ({on / off:.2f}x)")


# -- bench's loop against a plain PyTorch loop -----------------------------------------------
def synthetic_split(n: int, side: int, classes: int) -> Any:
    """``n`` random uint8 images with labels, on the CPU, as a loader would hold them."""
    from bench.data import ImageSet

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, side, side), dtype=torch.uint8, generator=g)
    return ImageSet(images, torch.randint(0, classes, (n,), generator=g))


def device_batches(run: Any, split: Any, batch: int, dev: torch.device) -> Any:
    """bench's DeviceBatches over ``split``: the images move to the device once."""
    from bench.data.batches import BatchSpec, DeviceBatches, channel_stats

    mean, std = channel_stats(split.images)
    return DeviceBatches(split, BatchSpec(run.data.resolution, batch, dev, True, 0, mean, std,
                                          channels_last=channels_last(run)))  # fmt: skip


def plain_rate(model: nn.Module, split: Any, batch: int, steps: int, warmup: int,
               dev: torch.device) -> float:  # fmt: skip
    """What users write: DataLoader over CPU tensors, per-batch normalisation, fp32 NCHW."""
    workers = min(4, os.cpu_count() or 1) if dev.type == "cuda" else 0
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(split.images, split.labels), batch_size=batch,
        shuffle=True, drop_last=True, num_workers=workers, pin_memory=dev.type == "cuda",
        persistent_workers=workers > 0)  # fmt: skip
    mean, std = (torch.tensor([v] * 3, device=dev).view(1, 3, 1, 1) for v in (0.5, 0.25))

    def prepare(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (x.to(dev, non_blocking=True).float().div_(255) - mean) / std
        return x, y.to(dev, non_blocking=True)

    return common.plain_rate(model, forever(loader), prepare, steps, warmup, batch, dev)


def versus_plain(ctx: Context, name: str) -> None:
    """speedup_vs_plain for one model at 32 px and the pipeline's batch (train.batch_size)."""
    run = preset(name, 32)
    batch, key = run.train.batch_size, f"{name}@32"
    split = synthetic_split(ctx.s.split_images, 32, run.data.num_classes)
    torch.manual_seed(0)
    model, _ = build(run, ctx.dev)
    batches = device_batches(run, split, batch, ctx.dev)
    ours, steps, _ = timed_rate(model, batches, batch, setup_for(run, ctx.dev), 32, ctx.s)
    del model, batches
    torch.manual_seed(0)
    plain_model, _ = build(run, ctx.dev)
    plain_model = plain_model.to(memory_format=torch.contiguous_format)  # NCHW
    autotune = torch.backends.cudnn.benchmark
    try:  # PyTorch's defaults: no cuDNN autotuning either
        torch.backends.cudnn.benchmark = False
        plain = plain_rate(plain_model, split, batch, steps, ctx.s.warmup, ctx.dev)
    finally:
        torch.backends.cudnn.benchmark = autotune
    ctx.out["bench_loop_images_per_sec"][key] = ours
    ctx.out["plain_images_per_sec"][key] = plain
    ctx.out["speedup_vs_plain"][key] = ours / plain
    log(f"{key}: bench loop {ours:.0f} img/s, plain {plain:.0f} img/s ({ours / plain:.2f}x)")


# -- torch.compile ---------------------------------------------------------------------------
def compile_speedup(ctx: Context, key: str) -> None:
    """bench's loop with torch.compile(model) against without, on the same model and batches.

    Inductor on CUDA; on CPU the ``eager`` backend, which traces the same way
    but skips code generation (Inductor takes minutes on 2 cores). The model
    that evaluates stays uncompiled, as in bench.train.point.
    """
    name, mode = COMPILE_RUNS[key]
    if mode == "reduce-overhead" and ctx.dev.type != "cuda":
        raise RuntimeError("CUDA graphs need CUDA")
    run = preset(name, 32)
    batch = run.train.batch_size
    split = synthetic_split(ctx.s.split_images, 32, run.data.num_classes)
    torch.manual_seed(0)
    model, _ = build(run, ctx.dev)
    batches, setup = device_batches(run, split, batch, ctx.dev), setup_for(run, ctx.dev)
    eager, _, _ = timed_rate(model, batches, batch, setup, 32, ctx.s)
    torch._dynamo.reset()
    backend = "inductor" if ctx.dev.type == "cuda" else "eager"
    compiled = torch.compile(model, backend=backend, mode=mode)
    rate, _, first = timed_rate(compiled, batches, batch, setup, 32, ctx.s, eval_model=model)
    ctx.out["compile_speedup"][key] = rate / eager
    ctx.out["compile_seconds"][key] = first
    ctx.out["compiled_images_per_sec"][key] = rate
    log(f"{key} compiled ({backend}): {rate:.0f} vs {eager:.0f} img/s ({rate / eager:.2f}x), "
        f"compiling {first:.1f} s")  # fmt: skip


# -- several points on one GPU through the joblib launcher -----------------------------------
def sweep_overrides(work: Path, n_jobs: int, s: Settings, device: str) -> list[str]:
    """``bench.run -m`` arguments: distinct seeds, so no two points share one training."""
    seeds = ",".join(str(i) for i in range(s.sweep_points))
    threads = max(1, (os.cpu_count() or 1) // n_jobs)  # n_jobs processes share the CPU
    return [f"runs_dir={work / f'jobs{n_jobs}'}", "sweep=shared", "model=tiny", "strategy=depth",
            "phi=0", f"seed={seeds}", *sweep_data(s), f"train.epochs={s.sweep_epochs}",
            f"device={device}", "logger.mode=disabled", "hydra/launcher=joblib",
            f"hydra.launcher.n_jobs={n_jobs}", f"threads={threads}"]  # fmt: skip


def sweep_data(s: Settings) -> list[str]:
    """The sweep's data: the generated shapes task, small."""
    return ["data=shapes", f"data.train_size={s.sweep_train_size}", "data.test_size=512"]


def run_sweep(args: list[str], log_file: Path, timeout: float) -> float:
    """Wall seconds of ``python -m bench.run -m ARGS``; every process it starts ends with it."""
    env = {**os.environ, "WANDB_SILENT": "true", "HYDRA_FULL_ERROR": "1"}
    start = time.perf_counter()
    with log_file.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "bench.run", "-m", *args], cwd=REPO,
                                env=env, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
        code = None
        try:
            code = proc.wait(timeout=timeout)
        finally:
            if code != 0:  # timed out or failed: joblib's workers too, the whole group
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    wall = time.perf_counter() - start
    if code != 0:
        tail = " | ".join(log_file.read_text().strip().splitlines()[-3:])
        raise RuntimeError(f"bench.run exited {code}: {tail}")
    return wall


def check_points(runs_dir: Path, points: int, device: str) -> float:
    """Every point finished ok on the device asked for; their mean wall inside the job.

    A point that failed, or fell back to another device, would time nothing.
    """
    results = [json.loads(p.read_text()) for p in runs_dir.glob("*/*/result.json")]
    ok = [r for r in results if r.get("status") == "ok"]
    if len(ok) != points:
        raise RuntimeError(f"{len(ok)} of {points} points finished ok under {runs_dir}")
    kinds = {(r.get("device") or {}).get("type", device) for r in ok}
    if kinds != {device}:
        raise RuntimeError(f"points ran on {sorted(kinds)}, not {device}")
    walls = [(r.get("timings") or {}).get("job_wall") or 0.0 for r in ok]
    return sum(walls) / len(walls)


def shared_gpu(ctx: Context, work: Path) -> None:
    """Wall clock of the points one after another over all of them at once on one device."""
    from bench.config.compose import compose_config
    from bench.config.validate import validate
    from bench.data import load_data

    s, device = ctx.s, ctx.dev.type
    load_data(validate(compose_config(sweep_data(s))).data)  # generated once, cached for both
    walls, per_point = {}, {}
    for n_jobs in (1, s.sweep_points):  # one after another first: imports are warm for both
        args = sweep_overrides(work, n_jobs, s, device)
        timeout = max(1.0, ctx.left() / (2 if n_jobs == 1 else 1))
        walls[str(n_jobs)] = run_sweep(args, work / f"sweep{n_jobs}.log", timeout)
        per_point[str(n_jobs)] = check_points(work / f"jobs{n_jobs}", s.sweep_points, device)
        log(f"{s.sweep_points} tiny points with n_jobs={n_jobs}: {walls[str(n_jobs)]:.1f} s "
            f"(each {per_point[str(n_jobs)]:.1f} s inside its job)")  # fmt: skip
    ctx.out["shared_gpu_seconds"] = walls
    ctx.out["shared_gpu_point_seconds"] = per_point
    ctx.out["shared_gpu_speedup"] = walls["1"] / walls[str(s.sweep_points)]


# -- the run ---------------------------------------------------------------------------------
PLAIN_METRICS = ("speedup_vs_plain", "bench_loop_images_per_sec", "plain_images_per_sec")
COMPILE_METRICS = ("compile_speedup", "compile_seconds", "compiled_images_per_sec")
CUDNN_METRICS = ("cudnn_benchmark_speedup",)
NESTED = {  # metric dict -> its entries
    **{m: [f"{n}@{side}" for side in SIDES for n in MODELS] for m in THROUGHPUT_METRICS},
    **{m: [f"{n}@32" for n in PLAIN_MODELS] for m in PLAIN_METRICS},
    **{m: list(COMPILE_RUNS) for m in COMPILE_METRICS},
    **{m: [f"{n}@224" for n in CUDNN_MODELS] for m in CUDNN_METRICS},
}
SWEEP_METRICS = ("shared_gpu_speedup", "shared_gpu_seconds", "shared_gpu_point_seconds")
PHASES = ("throughput", "plain", "sweep", "compile", "cudnn")


@dataclass(frozen=True)
class Job:
    """One measurement: its phase, time class, the metrics it fills and at which entry."""

    phase: str
    kind: str  # measure | compile | sweep: which time limit applies
    metrics: tuple[str, ...]
    entry: str | None
    fn: Callable[[], None]


def jobs(ctx: Context, work: Path) -> list[Job]:
    """Every measurement, the keys the brief asks for first, extras last."""
    out = []
    for side in SIDES:
        for n in MODELS:
            fn = partial(throughput, ctx, n, side)
            out.append(Job("throughput", "measure", THROUGHPUT_METRICS, f"{n}@{side}", fn))
    for n in PLAIN_MODELS:
        fn = partial(versus_plain, ctx, n)
        out.append(Job("plain", "measure", PLAIN_METRICS, f"{n}@32", fn))
    out.append(Job("sweep", "sweep", SWEEP_METRICS, None, partial(shared_gpu, ctx, work)))
    compiling = [
        Job("compile", "compile", COMPILE_METRICS, k, partial(compile_speedup, ctx, k))
        for k in COMPILE_RUNS
    ]
    cudnn = [
        Job("cudnn", "measure", CUDNN_METRICS, f"{n}@224", partial(cudnn_benchmark, ctx, n))
        for n in CUDNN_MODELS
    ]
    return out + compiling[:2] + cudnn + compiling[2:]  # CUDA graphs last: the least sure


def why_not(ctx: Context, job: Job, only: set[str], sweep: bool) -> str | None:
    """Why ``job`` is not run in this mode, or None to run it."""
    if job.phase not in only:
        return "not asked for (--only)"
    if job.phase == "sweep" and ctx.mode == "smoke" and not sweep:
        return SWEEP_SMOKE_NOTE
    if job.phase == "compile" and job.entry not in ctx.s.compile_keys:
        return f"not in --{ctx.mode}: compiling takes tens of seconds"
    if job.phase == "plain" and job.entry.split("@")[0] not in ctx.s.plain_models:
        return f"not in --{ctx.mode}: the same code path as tiny@32"
    if job.phase == "cudnn" and ctx.dev.type != "cuda":
        return "cuDNN autotuning needs CUDA"
    return None


def prepare(dev: torch.device) -> None:
    """The pipeline's per-process device set-up (bench.hardware.device.prepare)."""
    import bench.hardware.device

    setup = getattr(bench.hardware.device, "prepare", None)  # trees before it set nothing
    if setup is not None:
        setup(dev)


def new_output(mode: str, dev: torch.device) -> dict[str, Any]:
    """The JSON's fixed part, with every nested metric present and empty."""
    run = preset("tiny", 32)
    return {
        "mode": mode,
        "date": time.strftime("%Y-%m-%d"),
        "device": dev.type,
        "gpu_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else cpu_name(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "amp": setup_for(run, dev).amp,
        "channels_last": channels_last(run),
        "cudnn_benchmark": torch.backends.cudnn.benchmark,  # as prepare() left it
        "peak_flops": H100_BF16_DENSE,
        **{metric: {} for metric in NESTED},
        **dict.fromkeys(SWEEP_METRICS),
        "skipped": {},
    }


def finish(out: dict[str, Any]) -> None:
    """Every entry present: anything still missing is null with a reason."""
    for metric, entries in NESTED.items():
        for entry in entries:
            if out[metric].get(entry) is None:
                out[metric][entry] = None
                out["skipped"].setdefault(f"{metric}.{entry}", "not measured")
    for metric in SWEEP_METRICS:
        if out[metric] is None:
            out["skipped"].setdefault(metric, "not measured")


def parse_args() -> argparse.Namespace:
    """--quick (default) or --smoke, the device, and what to run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="one H100, within 8 minutes")
    group.add_argument("--smoke", action="store_true", help="seconds on CPU; for the tests")
    parser.add_argument("--device", choices=("cuda", "cpu"),
                        help="default: cuda under --quick, cpu under --smoke")  # fmt: skip
    parser.add_argument("--only", default=",".join(PHASES), help=f"of {','.join(PHASES)}")
    parser.add_argument("--sweep", action="store_true", help="the joblib sweep under --smoke too")
    parser.add_argument("--out", type=Path, help="rewrite this JSON file after every phase")
    args = parser.parse_args()
    args.mode = "smoke" if args.smoke else "quick"
    args.device = args.device or ("cpu" if args.smoke else "cuda")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("no CUDA device here; --smoke (or --device cpu) runs on the CPU")
    unknown = set(args.only.split(",")) - set(PHASES)
    if unknown:
        parser.error(f"--only: unknown {sorted(unknown)}; choose from {','.join(PHASES)}")
    return args


def main() -> None:
    args = parse_args()
    dev = torch.device(args.device)
    if args.mode == "smoke" and dev.type == "cpu":
        # its figures mean nothing, and on a busy 2-core machine torch's two OpenMP
        # threads wait on each other: one thread ran a smoke step 10x faster there
        torch.set_num_threads(1)
    prepare(dev)
    try:
        out = new_output(args.mode, dev)
    except ImportError as exc:  # a bare GPU machine: bench's dependencies travel as wheels
        raise SystemExit(f"cannot import {exc.name}: install scalebench's dependencies") from exc
    ctx = Context(args.mode, SETTINGS[args.mode], dev, out, out_file=args.out)
    log(f"--{args.mode} on {out['gpu_name']} ({dev.type}), torch {torch.__version__}, "
        f"bf16 {out['amp']}, cudnn.benchmark {out['cudnn_benchmark']}; "
        f"budget {ctx.s.budget_seconds:.0f} s")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="scalebench-gpu-") as tmp:
        for job in jobs(ctx, Path(tmp)):
            reason = why_not(ctx, job, set(args.only.split(",")), args.sweep)
            if reason:
                ctx.skip(job.metrics, job.entry, reason)
            else:
                ctx.attempt(job.kind, job.metrics, job.entry, job.fn)
    finish(ctx.out)
    ctx.out["total_seconds"] = time.perf_counter() - ctx.started
    ctx.save()
    log(f"done in {ctx.out['total_seconds']:.0f} s; {len(ctx.out['skipped'])} values skipped")
    print(json.dumps(ctx.out, sort_keys=True))


if __name__ == "__main__":
    main()
