"""``benchmarks/gpu.py``: its --smoke run on CPU, and the guards a GPU run relies on.

GPUs are lent rarely, so what would go wrong there is checked here: the
JSON line and its keys, the joblib sweep's command line, the time limit, and
halving the batch after an out-of-memory error.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO

from bench.config.compose import compose_config
from bench.config.validate import validate
from hydra_plugins.scalebench.sweeper import split_sweep

SCRIPT = REPO / "benchmarks" / "gpu.py"
KEYS = {
    "gpu_name",
    "torch",
    "images_per_sec",
    "mfu",
    "speedup_vs_plain",
    "compile_speedup",
    "compile_seconds",
    "shared_gpu_speedup",
    "skipped",
}
ENTRIES = {f"{m}@{s}" for m in ("tiny", "resnet18", "efficientnet_b0") for s in (32, 224)}


def load_script():
    """benchmarks/gpu.py as a module (benchmarks/ is no package)."""
    spec = importlib.util.spec_from_file_location("gpu_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gpu():
    return load_script()


def null_only_with_reason(out: dict) -> None:
    """Every value, and every entry of a nested one, is measured or has a reason."""
    skipped = out["skipped"]
    for key, value in out.items():
        if value is None:
            assert key in skipped, key
        elif isinstance(value, dict) and key != "skipped":
            for entry, v in value.items():
                assert v is not None or f"{key}.{entry}" in skipped, f"{key}.{entry}"


@pytest.mark.slow
def test_smoke_prints_every_key_as_its_last_line():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(out) >= KEYS
    assert out["mode"] == "smoke" and out["device"] == "cpu"
    assert set(out["images_per_sec"]) == set(out["mfu"]) == ENTRIES
    for entry in ENTRIES:  # every model at both shapes ran on the CPU
        assert out["images_per_sec"][entry] > 0, entry
        assert 0 < out["mfu"][entry] < 1, entry
    assert out["resolution"]["resnet18@224"] == 64  # --smoke's stand-in for 224 px
    assert out["speedup_vs_plain"]["tiny@32"] > 0
    assert out["compile_speedup"]["tiny@32"] > 0 and out["compile_seconds"]["tiny@32"] > 0
    null_only_with_reason(out)
    assert out["total_seconds"] > 0


def test_sweep_is_four_distinct_points_through_joblib(gpu, tmp_path):
    """The jobs of the shared-GPU sweep compose, validate and differ (no shared training)."""
    args = gpu.sweep_overrides(tmp_path, 4, gpu.SETTINGS["quick"], "cpu")
    jobs = split_sweep(args)
    assert len(jobs) == 4
    seeds = set()
    for job in jobs:
        cfg = compose_config(job, return_hydra_config=True)
        assert cfg.hydra.launcher.n_jobs == 4
        assert "joblib" in cfg.hydra.launcher._target_
        run = validate(cfg)
        assert (run.model.name, run.data.name, run.device) == ("tiny", "shapes", "cpu")
        assert run.logger.mode == "disabled" and run.runs_dir == str(tmp_path / "jobs4")
        seeds.add(run.seed)
    assert seeds == {0, 1, 2, 3}


def test_time_limit_ends_a_stuck_measurement(gpu):
    ticks = []
    with pytest.raises(TimeoutError), gpu.time_limit(0.2):
        for _ in range(500):  # 5 s of small sleeps: the limit must cut it short
            time.sleep(0.01)
            ticks.append(1)
    assert len(ticks) < 500  # interrupted, not run to the end


def context(gpu, tmp_path: Path):
    dev = torch.device("cpu")
    out = gpu.new_output("smoke", dev)
    return gpu.Context("smoke", gpu.SETTINGS["smoke"], dev, out, out_file=tmp_path / "o.json")


def test_a_failed_measurement_is_null_with_its_reason(gpu, tmp_path):
    ctx = context(gpu, tmp_path)

    def broken() -> None:
        raise RuntimeError("no such kernel")

    ctx.attempt("measure", gpu.PLAIN_METRICS, "tiny@32", broken)
    assert ctx.out["speedup_vs_plain"]["tiny@32"] is None
    assert "no such kernel" in ctx.out["skipped"]["speedup_vs_plain.tiny@32"]
    assert json.loads((tmp_path / "o.json").read_text())["skipped"]  # --out rewritten
    gpu.finish(ctx.out)
    null_only_with_reason(ctx.out)


def test_out_of_memory_halves_the_batch(gpu, tmp_path, monkeypatch):
    ctx = context(gpu, tmp_path)
    tried = []

    def measure(ctx, name, side, batch):
        tried.append(batch)
        if batch > 2:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return {"images_per_sec": 1.0, "mfu": 0.1, "batch_size": batch}

    monkeypatch.setattr(gpu, "measure_throughput", measure)
    gpu.throughput(ctx, "tiny", 224)
    assert tried == [4, 2]
    assert ctx.out["batch_size"]["tiny@224"] == 2
