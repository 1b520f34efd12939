"""Scale-out on existing engines: joblib and submitit launchers, torchrun DDP, parallel workers."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import SMALL, results


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_two_workers_on_one_sweep_train_each_point_once(tmp_path):
    """Two `bench.run -m` of one sweep, one on the joblib launcher (2 jobs at a time), the
    other on the basic one: the points' claims share the work, each point trains once, every
    result is ok and the sweep has one figure (submitit_local's all-ok sweeps run in
    tests/sweep/test_requeue.py)."""
    args = [sys.executable, "-m", "bench.run", "-m", f"runs_dir={tmp_path}", *SMALL,
            "strategy=depth,width", "phi=0,1", "sweep=s", "threads=1"]  # fmt: skip
    joblib = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
    workers = [subprocess.Popen(args + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True) for extra in (joblib, [])]  # fmt: skip
    logs = [w.communicate(timeout=600)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), logs[0][-2000:] + logs[1][-2000:]
    assert "Joblib.Parallel(n_jobs=2" in logs[0], logs[0][-2000:]
    res = results(tmp_path / "s")
    assert sorted(res) == ["depth_phi0_seed0", "depth_phi1_seed0", "width_phi0_seed0",
                           "width_phi1_seed0"]  # fmt: skip
    assert all(r["status"] == "ok" for r in res.values())
    started = re.findall(r"\] training \d+ steps", "".join(logs))
    assert len(started) == 3  # depth phi=1, width phi=1 and the shared baseline, once each
    assert len(list((tmp_path / "s" / "trained").iterdir())) == 3
    assert (tmp_path / "s" / "figures" / "top1_vs_macs.png").stat().st_size > 0
    assert len(list((tmp_path / "s").glob("**/top1_vs_macs.png"))) == 1


def test_slurm_example_launcher_composes_onto_submitit():
    from hydra import compose, initialize_config_dir

    from bench.config.compose import CONF_DIR

    with initialize_config_dir(str(CONF_DIR), version_base=None):
        over = ["hydra/launcher=slurm", "hydra.launcher.partition=a100", "experiment=cifar10_gpu"]
        cfg = compose("config", over, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert launcher.partition == "a100" and launcher.gpus_per_node == 1
    assert launcher.timeout_min > 0 and launcher.mem_gb > 0
    assert cfg.model.name == "vgg11" and cfg.data.kind == "imagefolder"


@pytest.mark.slow
def test_torchrun_two_processes_train_one_point_as_one_experiment(tmp_path):
    """A 2-process point trains the 1-process point's budget into one result and one trained
    folder, and its first step sees the same loss: same batch, same augmentation, and with
    sync_bn the same batch-norm statistics (dropout off: its masks are drawn per process)."""
    one_step = [f"runs_dir={tmp_path}", *SMALL, "strategy=width", "phi=1", "model.drop_rate=0",
                "train.epochs=0.1", "train.loss_check_every=1"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m",
                "bench.run", *one_step]  # fmt: skip
    for sweep, extra in (("sync", []), ("split", ["train.sync_bn=false"])):
        proc = subprocess.run([*torchrun, f"sweep={sweep}", *extra], capture_output=True,
                              text=True, timeout=600, env=env)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
    single = run(sys.executable, "-m", "bench.run", *one_step, "sweep=single", "threads=1")
    assert single.returncode == 0, single.stderr[-3000:]
    (s,), (d,), (split,) = (results(tmp_path / n).values() for n in ("single", "sync", "split"))
    assert s["steps"] == d["steps"] == 1
    assert d["sync_bn"] is True and split["sync_bn"] is False and s["sync_bn"] is False
    first = [r["history"][-1]["train_loss"] for r in (s, d, split)]
    assert first[1] == pytest.approx(first[0], abs=1e-5)  # floating-point noise
    assert abs(first[2] - first[0]) > 1e-3  # per-process statistics: another experiment
    assert d["point_key"] != split["point_key"]
    assert d["device"]["world_size"] == 2 and s["device"]["world_size"] == 1
    for key in ("samples_seen", "steps", "train_flops", "macs", "epochs"):
        assert d[key] == s[key], key
    assert len(list((tmp_path / "sync").glob("*/result.json"))) == 1
    assert len(list((tmp_path / "sync" / "trained").iterdir())) == 1
