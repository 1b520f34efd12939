"""``python -m bench.run`` through its real command line: sweeps, resume, exit status, bad input."""

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
from conftest import SMALL, bench, one_error_line, results

from bench.plan import main as plan_main

pytestmark = pytest.mark.slow

# Each is refused by bench.plan, bench.run and bench.run -m, before any job starts.
BAD_VALUES = [
    ("train.amp=flase", "train.amp='flase' must be auto, true or false"),
    ("train.compile=flase", "train.compile='flase' must be auto, true or false"),
    ("train.budget=flop", "train.budget='flop' must be 'epochs' or 'flops'"),
    ("train.epochs=0", "train.epochs=0 must be greater than 0"),
    ("train.lr=-1", "train.lr=-1 must be greater than 0"),
    ("data.resolution=0", "data.resolution=0 must be greater than or equal to 8"),
    ("seed=abc", "seed='abc' must be a valid integer"),
]


def anything_written(root: Path) -> list[Path]:
    """Results, checkpoints or outcomes anywhere under ``root``."""
    return [
        p for p in root.rglob("*") if p.name in ("result.json", "checkpoint.pt", "outcome.json")
    ]


@pytest.mark.parametrize("value,message", BAD_VALUES)
def test_bad_value_is_refused_with_one_line(value, message, capsys):
    """bench.plan, bench.run and every job of bench.run -m check a config with
    bench.config.validate.validate; each value's line is checked here, in this process."""
    with pytest.raises(SystemExit) as exit_info:
        plan_main([value])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip() == f"error: {message}"


@pytest.mark.parametrize(
    "multirun,value,message",
    [([], *BAD_VALUES[0]), (["-m", "strategy=depth,width"], *BAD_VALUES[-1])],
    ids=["run", "multirun"],
)
def test_bad_value_is_refused_before_any_job(tmp_path, multirun, value, message):
    """Through the command line: one line, exit 1, nothing written."""
    proc = bench("run", *multirun, f"runs_dir={tmp_path}", *SMALL, value)
    assert proc.returncode == 1
    assert one_error_line(proc) == f"error: {message}"
    assert anything_written(tmp_path) == []


def test_help_is_the_projects_page():
    proc = bench("run", "--help")
    assert proc.returncode == 0
    out = proc.stdout
    assert "python -m bench.run -m strategy=depth,width,compound" in out
    assert "strategy: compound, depth, fast, linear, resolution, uniform, width" in out
    assert "model: " in out and "vgg_tiny" in out and "data: " in out
    assert "train.epochs" in out and "docs/config.md" in out


def test_divergence_is_recorded_the_sweep_goes_on_and_exits_1(tmp_path):
    proc = bench(
        "run", "-m", f"runs_dir={tmp_path}", *SMALL, "strategy=depth,width", "phi=1",
        "train.lr=1e6", "train.loss_check_every=2", "sweep=diverge",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "2 of 2 points did not finish ok (diverged:" in one_error_line(proc)
    res = results(tmp_path / "diverge")
    assert set(res) == {"depth_phi1_seed0", "width_phi1_seed0"}
    for r in res.values():
        assert r["status"] == "diverged" and "loss became" in r["reason"]
        assert r["top1"] is None
    assert (tmp_path / "diverge" / "figures" / "top1_vs_macs.png").exists()


def test_multirun_through_the_cli_killed_mid_training_resumes_without_duplicates(tmp_path):
    """A 6-point sweep (one trained baseline shared by three strategies) SIGKILLed while its
    third training runs, then run again as a user would: the finished points are read back,
    the killed one resumes, and the second run ends the sweep as one uninterrupted run would
    (every point ok, progress lines, figures, the class activation maps, verdict lines)."""
    args = [*SMALL, "train.epochs=2", "strategy=depth,width,compound", "phi=0,1",
            "plot.cam_images=2"]  # fmt: skip
    sweep = tmp_path / "s"
    command = [sys.executable, "-m", "bench.run", "-m", f"runs_dir={tmp_path}", *args, "sweep=s"]
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if len(list(sweep.glob("trained/*/checkpoint.pt"))) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = results(sweep)
    assert sum(r["status"] == "ok" for r in before.values()) < 6

    again = bench("run", "-m", f"runs_dir={tmp_path}", *args, "sweep=s")
    assert again.returncode == 0, again.stderr[-2000:]
    res = results(sweep)
    points = [f"{s}_phi{p}_seed0" for p in (0, 1) for s in ("depth", "width", "compound")]
    assert sorted(res) == sorted(points)
    assert all(r["status"] == "ok" for r in res.values())
    assert len(list(sweep.glob("trained/*"))) == 4  # nothing trained twice
    baselines = [r for name, r in res.items() if "_phi0_" in name]
    assert sum(not r["shared"] for r in baselines) == 1  # trained once, shared twice
    assert len({r["top1"] for r in baselines}) == 1
    for name, r in before.items():  # points that had finished were read back, not retrained
        assert res[name] == r
    resumed = [r for r in res.values() if r["resumed_from_step"] > 0]
    assert resumed, "the killed point restarted instead of resuming"
    for r in resumed:  # it continued to the full budget, and its history has no gap
        assert r["steps"] == r["budget_detail"]["steps"]
        assert [round(h["epoch"]) for h in r["history"]] == [1, 2]

    manifest = json.loads((sweep / "sweep.json").read_text())
    assert manifest["jobs"] == 6 and manifest["sweep"] == "s" and manifest["points"] == points
    log = again.stdout + again.stderr
    assert "img/s" in log and "ETA" in log and "[6/6 " in log
    assert (sweep / "figures" / "top1_vs_macs.png").exists() and (sweep / "results.csv").exists()
    assert (sweep / "figures" / "cam.png").stat().st_size > 0  # the maps, from the checkpoints
    assert "phi=1: width vs depth undecided (one seed); compound vs depth undecided" in log
    assert (sweep / "tables" / "decisions.csv").read_text().startswith("phi,strategy,versus,diff")


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
        (["device=tpu"], "device='tpu' must be auto, cpu, cuda or cuda:N"),
        (
            ["data.train_size=640", "data.test_size=64", "train.epochs=0.01"],
            "too small for one step",
        ),
        (["strategy=depth", "phi=-5"], "closest is"),
        (["logger.mode=loud"], "logger.mode='loud' must be 'auto', 'offline', 'online' or 'disab"),
    ],
)
def test_bad_input_is_one_line_error_and_no_ok_result(tmp_path, args, message):
    proc = bench("run", f"runs_dir={tmp_path}", "train.epochs=1", *args)
    assert proc.returncode == 1
    assert message in one_error_line(proc)
    assert not any(
        json.loads(p.read_text())["status"] == "ok" for p in tmp_path.rglob("result.json")
    )


def test_empty_class_folder_is_a_clear_error(tmp_path):
    tree = _tree_with_empty_class(tmp_path / "tree")
    proc = bench(
        "run",
        f"runs_dir={tmp_path}",
        "data=imagefolder",
        f"data.path={tree}",
        f"data.cache_dir={tmp_path / 'cache'}",
        "logger.mode=disabled",
    )
    assert proc.returncode == 1
    assert "hold no image" in one_error_line(proc) and str(tree / "train" / "b") in proc.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda_stops_a_sweep_before_any_job(tmp_path):
    proc = bench("run", "-m", f"runs_dir={tmp_path}", "device=cuda", *SMALL, "strategy=depth,width")
    assert proc.returncode == 1
    assert "no CUDA device is available" in one_error_line(proc)
    assert anything_written(tmp_path) == []
