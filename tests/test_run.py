"""``python -m bench.run``: real training on tiny settings, sweeps, resume, faults, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from bench.run import PointRunner, run_point

# A few seconds per point on 2 CPU cores.
SMALL = [
    "data.train_size=640",
    "data.test_size=256",
    "train.batch_size=64",
    "train.eval_batch_size=256",
    "train.epochs=1",
    "logger.mode=disabled",
]


def bench_run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [sys.executable, "-m", "bench.run", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def results(sweep_dir: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sweep_dir.glob("*/result.json")}


REQUIRED_KEYS = [
    "status", "reason", "strategy", "phi", "seed", "top1", "top5", "macs", "params",
    "activations", "depth_mult", "width_mult", "resolution", "epochs", "train_flops",
    "wall_seconds",
]  # fmt: skip


def test_one_point_learns_and_records_everything(compose, tmp_path):
    cfg = compose(
        f"runs_dir={tmp_path}",
        "data.train_size=4096",
        "data.test_size=512",
        "train.epochs=3",
        "train.batch_size=64",
        "logger.mode=disabled",
        "strategy=width",
        "phi=1",
    )
    result = run_point(cfg)
    assert result["status"] == "ok", result.get("reason")
    assert set(REQUIRED_KEYS) <= set(result)
    history = result["history"]
    assert [round(h["epoch"]) for h in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert result["top1"] > 0.2  # ten classes: chance is 0.10
    assert 0 <= result["top1"] <= result["top5"] <= 1
    assert result["macs_ratio"] == pytest.approx(1, abs=0.05)
    assert result["width_mult"] > 1 and result["depth_mult"] == 1
    assert result["train_flops"] == 6 * result["macs"] * result["samples_seen"]
    assert result["epochs"] == pytest.approx(3, rel=0.05)
    assert {"torch", "timm", "hydra"} <= set(result["versions"])
    assert result["config"]["strategy"]["name"] == "width"
    on_disk = json.loads((tmp_path / cfg.sweep / "width_phi1_seed0" / "result.json").read_text())
    assert on_disk["top1"] == result["top1"]
    assert result["compiled"] is False and result["compile_seconds"] is None
    assert result["channels_last"] is True  # train.channels_last=auto: on, CPU included
    assert 0 < result["timings"]["first_step"] < result["timings"]["train"]


def test_compile_seconds_is_the_first_steps_excess_over_a_steady_step():
    from bench.run import _compile_seconds

    timings = {"train": 30.0, "first_step": 21.0}  # 1 slow step, then 9 steps of 1 s
    assert _compile_seconds({"compiled": True, "steps": 10, "train_timings": timings}) == 20.0
    assert _compile_seconds({"compiled": False, "steps": 10, "train_timings": timings}) is None
    # resumed at step 10 of 20 after 100 s: only this process's 10 steps and 30 s count
    resumed = {"train": 130.0, "train_this_process": 30.0, "first_step": 21.0}
    outcome = {"compiled": True, "steps": 20, "resumed_from_step": 10, "train_timings": resumed}
    assert _compile_seconds(outcome) == 20.0


def test_finished_point_is_skipped_and_identical_points_are_shared(compose, tmp_path):
    base = [f"runs_dir={tmp_path}", *SMALL]
    first = run_point(compose(*base, "strategy=depth", "phi=0"))
    assert first["status"] == "ok" and not first["shared"]
    again = run_point(compose(*base, "strategy=depth", "phi=0"))
    assert again == first  # read back, not retrained
    other = run_point(compose(*base, "strategy=width", "phi=0"))
    assert other["shared"] and other["top1"] == first["top1"]
    assert other["strategy"] == "width"
    assert len(list((tmp_path / compose(*base).sweep / "trained").iterdir())) == 1


def test_divergence_is_recorded_and_the_sweep_goes_on(tmp_path):
    proc = bench_run(
        "-m", f"runs_dir={tmp_path}", *SMALL, "strategy=depth,width", "phi=1",
        "train.lr=1e6", "train.loss_check_every=2", "sweep=diverge",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = results(tmp_path / "diverge")
    assert set(res) == {"depth_phi1_seed0", "width_phi1_seed0"}
    for r in res.values():
        assert r["status"] == "diverged"
        assert "loss became" in r["reason"]


def test_multirun_through_the_cli(tmp_path):
    proc = bench_run(
        "-m", f"runs_dir={tmp_path}", *SMALL, "strategy=depth,width,compound", "phi=0,1",
        "sweep=cli",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    sweep = tmp_path / "cli"
    res = results(sweep)
    assert len(res) == 6
    assert all(r["status"] == "ok" for r in res.values())
    baselines = [r for name, r in res.items() if "_phi0_" in name]
    assert sum(not r["shared"] for r in baselines) == 1  # trained once, shared twice
    assert len({r["top1"] for r in baselines}) == 1
    assert len(list((sweep / "trained").iterdir())) == 4
    assert json.loads((sweep / "sweep.json").read_text())["jobs"] == 6
    log = proc.stdout + proc.stderr
    assert "img/s" in log and "ETA" in log and "[6/6 " in log


def test_sweep_killed_mid_training_resumes_without_duplicates(tmp_path):
    args = [*SMALL, "train.epochs=6", "data.train_size=1280", "strategy=depth,width", "phi=0,1"]
    start = time.perf_counter()
    full = bench_run("-m", f"runs_dir={tmp_path / 'full'}", *args, "sweep=s")
    full_seconds = time.perf_counter() - start
    assert full.returncode == 0, full.stderr[-2000:]

    sweep = tmp_path / "killed" / "s"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.run", "-m", f"runs_dir={tmp_path / 'killed'}", *args,
         "sweep=s"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if len(list(sweep.glob("trained/*/checkpoint.pt"))) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = [n for n, r in results(sweep).items() if r["status"] == "ok"]
    assert len(done_before) < 4

    start = time.perf_counter()
    again = bench_run("-m", f"runs_dir={tmp_path / 'killed'}", *args, "sweep=s")
    second_seconds = time.perf_counter() - start
    assert again.returncode == 0, again.stderr[-2000:]
    res = results(sweep)
    assert sorted(res) == sorted(results(tmp_path / "full" / "s"))
    assert all(r["status"] == "ok" for r in res.values())
    assert len(list(sweep.glob("trained/*"))) == 3  # nothing trained twice
    assert any(r.get("resumed_from_step", 0) > 0 for r in res.values())
    assert second_seconds < 0.85 * full_seconds


def _tree_with_empty_class(root: Path) -> Path:
    from PIL import Image

    for split in ("train", "val"):
        for cls in ("a", "b"):
            d = root / split / cls
            d.mkdir(parents=True)
            if cls == "a":
                for i in range(4):
                    Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(d / f"{i}.png")
    return root


@pytest.mark.parametrize(
    "args,message",
    [
        (["data=imagefolder", "data.path=/nonexistent/tree"], "/nonexistent/tree"),
        (["device=tpu"], "device='tpu' is not one of auto, cpu, cuda, cuda:N"),
        (["train.epochs=0.0001"], "too small for one step"),
        (["strategy=depth", "phi=-5"], "closest is"),
        (["logger.mode=loud"], "logger.mode='loud' is not one of"),
    ],
)
def test_bad_input_is_one_line_error_and_no_ok_result(tmp_path, args, message):
    proc = bench_run(f"runs_dir={tmp_path}", "train.epochs=1", *args)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], proc.stderr
    assert not any(r["status"] == "ok" for r in results_anywhere(tmp_path))


def results_anywhere(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in root.rglob("result.json")]


def test_empty_class_folder_is_a_clear_error(tmp_path):
    tree = _tree_with_empty_class(tmp_path / "tree")
    proc = bench_run(
        f"runs_dir={tmp_path}",
        "data=imagefolder",
        f"data.path={tree}",
        f"data.cache_dir={tmp_path / 'cache'}",
        "logger.mode=disabled",
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error:")
    assert "b" in proc.stderr.strip().splitlines()[-1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda(tmp_path):
    proc = bench_run(f"runs_dir={tmp_path}", "device=cuda", *SMALL)
    assert proc.returncode == 1
    assert "no CUDA device is available" in proc.stderr


def test_sweep_with_a_bad_device_stops_before_any_job(tmp_path):
    proc = bench_run("-m", f"runs_dir={tmp_path}", *SMALL, "device=gpu0", "strategy=depth,width")
    assert proc.returncode == 1
    assert "device='gpu0'" in proc.stderr and "Traceback" not in proc.stderr
    assert results_anywhere(tmp_path) == []


def test_device_resolution(compose, tmp_path):
    runner = PointRunner(compose(f"runs_dir={tmp_path}", "device=cpu", *SMALL))
    assert runner.device.type == "cpu"
