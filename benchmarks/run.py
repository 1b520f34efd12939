"""scalebench's benchmarks, measured side by side in one process.

    python benchmarks/run.py --quick      # our 2-core CPU: within 15 minutes
    python benchmarks/run.py --smoke      # seconds; the test suite runs this
    python benchmarks/run.py              # full: longer runs, tighter figures

Prints progress, a table, and as its last line one JSON object with the keys
``speedup_vs_plain``, ``data_path_overhead``, ``cpu_utilization`` (and
``gpu_utilization`` on CUDA), ``plan_5x5_seconds``, ``point_overhead``,
``plot_200_seconds`` and ``joblib_sweep_seconds`` (the 4-point sweep with 1 and
2 joblib workers, as ``{"1": s, "2": s}``); null where a measurement was skipped, with the reason in
``skipped``. Runs where ``../shared`` is absent too (it then skips the
comparison on the CIFAR-10 tree).

``--only loop,data_224`` runs the named groups (loop, plan, point, plot, sweep,
data_224; all by default). ``data_224`` (benchmarks/data_path.py) adds
``stream_images_per_sec_224``, ``timm_loader_images_per_sec_224`` and
``stream_vs_timm`` (and the same three for evaluation, ``*_eval*``): our
streamed ImageNet-protocol path against timm's loader on a generated
ImageNet-like JPEG tree.

Benchmarks are the place for speed targets; the unit tests only run --smoke.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from common import (
    H100_BF16_DENSE,
    NoEval,
    SyntheticBatches,
    device,
    forever,
    log,
    plain_rate,
)
from data_path import data_224

REPO = Path(__file__).resolve().parent.parent
SHARED_CIFAR = REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"

# runs: fresh processes for the planning and point-overhead figures (the best is kept)
SETTINGS = {
    "smoke": {"steps": 4, "warmup": 1, "batch": 32, "point_seconds": 3, "runs": 1,
              "plan_levels": 2, "plot_points": 20, "sweep": False},
    "quick": {"steps": 80, "warmup": 5, "batch": 128, "point_seconds": 120, "runs": 2,
              "plan_levels": 5, "plot_points": 200, "sweep": True},
    "full": {"steps": 200, "warmup": 10, "batch": 128, "point_seconds": 120, "runs": 3,
             "plan_levels": 5, "plot_points": 200, "sweep": True},
}  # fmt: skip


# -- the CIFAR-10 tree -----------------------------------------------------------------------
def cifar_tree(cache: Path) -> Path | None:
    """The CIFAR-10 JPEG tree from ../shared, unpacked once into ``cache``."""
    root = cache / "cifar10"
    if (root / "train").is_dir() and (root / "test").is_dir():
        return root
    if not SHARED_CIFAR.exists():
        return None
    log(f"unpacking {SHARED_CIFAR} into {cache}")
    cache.mkdir(parents=True, exist_ok=True)
    with tarfile.open(SHARED_CIFAR) as tar:
        tar.extractall(cache, filter="data")
    return root


def model_for(name: str, num_classes: int, dev: torch.device, resolution: int):
    from bench.config.compose import compose_config
    from bench.config.validate import validate
    from bench.models import build_model
    from bench.scaling.complexity import complexity
    from bench.scaling.rounding import scale_arch
    from bench.scaling.strategies import Scale

    cfg = validate(compose_config([f"model={name}"])).model
    arch = scale_arch(cfg, Scale())
    macs = complexity(cfg, arch, resolution, num_classes).macs
    return build_model(cfg, arch, num_classes).to(dev), macs


# -- training-loop throughput ----------------------------------------------------------------
def bench_loop_rate(model, batches, steps: int, batch: int, dev: torch.device) -> float:
    """Images/s of bench's own training loop over ``steps`` steps (evaluation excluded)."""
    from bench.scaling.budget import Budget
    from bench.schema import Train, resolve_auto
    from bench.train.loop import Setup, fit, new_state

    budget = Budget("epochs", steps, batch, len(batches), steps * batch, 1.0, 0.0, 0)
    recipe = Train(lr=0.05, eval_every=10**6, checkpoint_every=10**6)
    setup = Setup(recipe, dev, amp=resolve_auto(recipe.amp, dev.type == "cuda"))
    outcome = fit(new_state(model, recipe, budget), batches, NoEval(dev), budget, setup)
    return outcome.images_per_sec


def plain_loop_rate(tree: Path, model, steps: int, warmup: int, batch: int,
                    dev: torch.device) -> float:  # fmt: skip
    """The recipe users would otherwise write: ImageFolder, per-sample transforms, fp32."""
    from torchvision import datasets, transforms

    tf = transforms.Compose([
        transforms.RandomCrop(32, padding=4, padding_mode="reflect"),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26)),
    ])  # fmt: skip
    data = datasets.ImageFolder(tree / "train", transform=tf)
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=2,
                                         drop_last=True, persistent_workers=False)  # fmt: skip
    return plain_rate(model, forever(loader), lambda x, y: (x.to(dev), y.to(dev)), steps,
                      warmup, batch, dev, label_smoothing=0.1)  # fmt: skip


def peak_flops(dev: torch.device) -> float:
    """The machine's peak: a measured large fp32 matmul on CPU; the H100's dense bf16 on CUDA."""
    if dev.type == "cuda":
        return H100_BF16_DENSE
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        a @ b
    reps = 10
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - start)


def loop_benchmarks(s: dict[str, Any], cache: Path, out: dict[str, Any]) -> None:
    """speedup_vs_plain, data_path_overhead and utilisation on the CIFAR-10 tree (or shapes)."""
    from bench.data import load_data
    from bench.data.batches import BatchSpec, DeviceBatches, channel_stats
    from bench.data.imagefolder import ImageFolderConfig
    from bench.data.shapes import ShapesConfig

    dev = device()
    steps, warmup, batch = s["steps"], s["warmup"], s["batch"]
    channels_last = True  # as bench.run's train.channels_last=auto; the plain loop keeps NCHW
    tree = cifar_tree(cache)
    if tree is not None:
        data = load_data(ImageFolderConfig(
            kind="imagefolder", name="cifar10", path=str(tree), num_classes=10, resolution=32,
            decode_size=32, in_memory=True, memory_limit_gb=4, workers=2,
            cache_dir=str(cache / "decoded")))  # fmt: skip
        resolution, source = 32, f"CIFAR-10 tree {tree}"
    else:
        out["skipped"]["speedup_vs_plain"] = "no ../shared/data/cifar10-jpeg.tar.gz"
        data = load_data(ShapesConfig(
            kind="shapes", name="shapes", num_classes=10, resolution=40, native_resolution=96,
            train_size=4096, test_size=256, seed=0, cache_dir=None))  # fmt: skip
        resolution, source = 40, "shapes (CIFAR-10 tree absent)"
    mean, std = channel_stats(data.train.images)
    spec = BatchSpec(resolution, batch, dev, True, 0, mean, std, channels_last=channels_last)
    batches = DeviceBatches(data.train, spec)
    torch.manual_seed(0)
    model, macs = model_for("tiny", 10, dev, resolution)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    bench_loop_rate(model, batches, warmup, batch, dev)  # warm up kernels and caches
    synthetic = SyntheticBatches(batch, resolution, 10, dev, channels_last, len(batches))
    # interleaved, best of two each: a shared machine's slow spells hit both sides alike
    rates, synth_rates = [], []
    for _ in range(2):
        rates.append(bench_loop_rate(model, batches, steps // 2, batch, dev))
        synth_rates.append(bench_loop_rate(model, synthetic, steps // 2, batch, dev))
    rate, synth_rate = max(rates), max(synth_rates)
    out["bench_images_per_sec"] = rate
    out["synthetic_images_per_sec"] = synth_rate
    out["data_path_overhead"] = max(0.0, 1.0 - rate / synth_rate)
    peak = peak_flops(dev)
    util = 6 * macs * rate / peak
    out["cpu_peak_flops" if dev.type == "cpu" else "gpu_peak_flops"] = peak
    out["cpu_utilization" if dev.type == "cpu" else "gpu_utilization"] = util
    log(f"{source}: bench {rate:.0f} img/s, synthetic {synth_rate:.0f} img/s, "
        f"utilisation {100 * util:.2f}% of {peak / 1e9:.0f} GFLOP/s")  # fmt: skip
    if tree is not None:
        torch.manual_seed(0)
        plain_model, _ = model_for("tiny", 10, dev, resolution)
        plain = plain_loop_rate(tree, plain_model, steps, warmup, batch, dev)
        out["plain_images_per_sec"] = plain
        out["speedup_vs_plain"] = rate / plain
        log(f"plain loop {plain:.0f} img/s: speedup {rate / plain:.2f}x")


# -- planning, point overhead, plotting, sweeps ------------------------------------------------
def plan_seconds(levels: int, runs: int = 1) -> dict[str, Any]:
    """Planning 5 strategies x ``levels`` levels for efficientnet_b0 at ImageNet shape, fresh.

    Each run is a fresh interpreter; the figure is the best of ``runs``, with
    the part of it spent importing torch, timm and Hydra, and every run listed.
    """
    phis = ",".join(str(i) for i in range(levels))
    cmd = [sys.executable, "-c",
           "import time,sys; t=time.perf_counter(); from bench.plan import plan_sweep; "
           "import torch, timm, ptflops, bench.scaling.planning; "
           "i=time.perf_counter()-t; "
           "plan_sweep(['strategy=depth,width,resolution,compound,linear',"
           f"'phi={phis}','model=efficientnet_b0','data=imagenet']); "
           "print(time.perf_counter()-t, i)"]  # fmt: skip
    measured = []
    for _ in range(runs):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        total, imports = proc.stdout.strip().splitlines()[-1].split()
        measured.append((float(total), float(imports)))
    total, imports = min(measured)
    return {"plan_5x5_seconds": total, "plan_5x5_import_seconds": imports,
            "plan_5x5_runs": [round(m[0], 2) for m in measured]}  # fmt: skip


def point_overhead(target_seconds: float, work: Path, runs: int = 1) -> dict[str, Any]:
    """Wall time of a real ``python -m bench.run`` point outside training and evaluation steps.

    Each run is a fresh process (start-up included); the figure is the best of
    ``runs``, since other tenants of a shared machine only ever add time. All
    runs are reported. Evaluation at the other test sides (``eval.test_scales``,
    on by default) is evaluation the config asks for, so it counts as evaluation;
    ``point_overhead_with_test_sides`` is the figure that counts it as overhead.
    """
    rate_probe = 1200.0  # tiny at 40 px on 2 CPU cores, images/s (only sizes the run)
    images = int(target_seconds * rate_probe)
    train_size = 10_000
    epochs = max(1, round(images / train_size))
    test_size: list[str] = []
    if target_seconds < 10:  # --smoke: the default 10,000 test images would be most of it
        train_size, epochs, test_size = 512, 1, ["data.test_size=512"]
    measured = []
    for run in range(runs):
        cmd = [sys.executable, "-m", "bench.run", f"runs_dir={work}", f"sweep=overhead{run}",
               f"train.epochs={epochs}", f"data.train_size={train_size}",
               "logger.mode=offline", "strategy=depth", "phi=0", *test_size]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
        folder = work / f"overhead{run}" / "depth_phi0_seed0"
        t = json.loads((folder / "result.json").read_text())["timings"]
        steps = t["train"] - t.get("log", 0.0) + t["eval"]  # loss reports run inside "train"
        inside = steps + t.get("test_resolutions", 0.0)
        measured.append({"point_overhead": 1 - inside / wall, "point_wall_seconds": wall,
                         "point_overhead_in_job": 1 - inside / t["job_wall"],
                         "point_overhead_with_test_sides": 1 - steps / wall,
                         "point_train_eval_seconds": inside})  # fmt: skip
    best = min(measured, key=lambda m: m["point_overhead"])
    return {**best, "point_overhead_runs": [round(m["point_overhead"], 4) for m in measured]}


def plot_seconds(points: int, work: Path) -> float:
    """Building every figure and table for ``points`` recorded points."""
    sys.path.insert(0, str(REPO / "tests"))
    from helpers.fake_results import write_sweep

    from bench.plot import build_report

    sweep = work / "plot200"
    write_sweep(sweep, points=points)
    start = time.perf_counter()
    build_report([sweep])
    return time.perf_counter() - start


def joblib_sweep(work: Path) -> dict[str, float]:
    """The 4-point sweep of the scale-out issue with 1 and 2 joblib workers."""
    out = {}
    for n in (1, 2):
        threads = max(1, (os.cpu_count() or 2) // n)
        cmd = [
            sys.executable,
            "-m",
            "bench.run",
            "-m",
            f"runs_dir={work / f'joblib{n}'}",
            "strategy=depth,width",
            "phi=1,2",
            "train.epochs=1",
            "logger.mode=disabled",
            "hydra/launcher=joblib",
            f"hydra.launcher.n_jobs={n}",
            f"threads={threads}",
        ]
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[f"joblib_{n}_worker_seconds"] = time.perf_counter() - start
    out["joblib_sweep_seconds"] = {str(n): out[f"joblib_{n}_worker_seconds"] for n in (1, 2)}
    return out


def plan_group(s: dict[str, Any], out: dict[str, Any]) -> None:
    out.update(plan_seconds(s["plan_levels"], s["runs"]))
    log(f"planning 5 strategies x {s['plan_levels']} levels: {out['plan_5x5_seconds']:.1f} s "
        f"({out['plan_5x5_import_seconds']:.1f} s of it importing; "
        f"runs {out['plan_5x5_runs']})")  # fmt: skip


def point_group(s: dict[str, Any], work: Path, out: dict[str, Any]) -> None:
    out.update(point_overhead(s["point_seconds"], work, s["runs"]))
    share = 100 * out["point_overhead"]
    log(f"point overhead {share:.1f}% of {out['point_wall_seconds']:.0f} s "
        f"(best of {out['point_overhead_runs']})")  # fmt: skip


def plot_group(s: dict[str, Any], work: Path, out: dict[str, Any]) -> None:
    out["plot_200_seconds"] = plot_seconds(s["plot_points"], work)
    log(f"plotting {s['plot_points']} points: {out['plot_200_seconds']:.1f} s")


def sweep_group(s: dict[str, Any], work: Path, out: dict[str, Any]) -> None:
    if s["sweep"]:
        out.update(joblib_sweep(work))
        log(f"joblib sweep: {out}")
    else:
        out["skipped"]["joblib_sweep_seconds"] = "not in --smoke"


# group -> (what it runs, the keys it always prints: null with a reason when skipped)
GROUPS = {
    "loop": (lambda c: loop_benchmarks(c["s"], c["cache"], c["out"]),
             ("speedup_vs_plain", "data_path_overhead")),
    "plan": (lambda c: plan_group(c["s"], c["out"]), ()),
    "point": (lambda c: point_group(c["s"], c["work"], c["out"]), ()),
    "plot": (lambda c: plot_group(c["s"], c["work"], c["out"]), ()),
    "sweep": (lambda c: sweep_group(c["s"], c["work"], c["out"]), ("joblib_sweep_seconds",)),
    "data_224": (lambda c: data_224(c["mode"], c["cache"], c["out"]), ()),
}  # fmt: skip


def groups_of(only: str | None) -> list[str]:
    """The groups ``--only`` names (comma-separated), all by default; a bad name exits 2."""
    if not only:
        return list(GROUPS)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in GROUPS]
    if unknown or not names:
        sys.exit(f"error: --only {only!r}: unknown group(s) {unknown}; groups: {', '.join(GROUPS)}")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="within 15 minutes on 2 CPU cores")
    group.add_argument("--smoke", action="store_true", help="seconds; for the test suite")
    parser.add_argument("--only", help=f"comma-separated groups of: {', '.join(GROUPS)}")
    args = parser.parse_args()
    names = groups_of(args.only)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    out: dict[str, Any] = {
        "mode": mode,
        "groups": names,
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs"
        + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""),
        "torch": torch.__version__,
        "skipped": {},
    }
    cache = Path(os.environ.get("SCALEBENCH_CACHE", Path.home() / ".cache" / "scalebench"))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        context = {"s": SETTINGS[mode], "mode": mode, "cache": cache, "work": Path(tmp),
                   "out": out}  # fmt: skip
        for name in names:
            run, keys = GROUPS[name]
            run(context)
            for key in keys:
                out.setdefault(key, None)
    out["total_seconds"] = time.perf_counter() - start
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
