"""A sweep on a local Ray instance (hydra/launcher=ray, loopback only): a killed Ray worker ends
its point ``failed`` with Ray's report, the other point finishes ``ok``, the figure is drawn,
the command exits 1, and no Ray process outlives it."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from test_dead_jobs import assert_one_failed, finish, job_process, start_sweep, training

from bench.config.compose import compose_config
from bench.sweep.on_ray import init_args

pytest.importorskip("hydra_plugins.hydra_ray_launcher")

RAY = ("hydra/launcher=ray",)


def processes_under(folder: str) -> list[str]:
    """Command lines of the live processes that name ``folder`` (Ray's session folder)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # it ended meanwhile
            continue
        if folder in cmdline:
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


@pytest.mark.slow
def test_killed_ray_worker_fails_its_point_and_the_sweep_finishes_without_ray_left(tmp_path):
    """The worker running one point is SIGKILLed: Ray reports that task apart
    (WorkerCrashedError; the preset sets max_retries=0), its training child outlives it
    and says so, the other task is still collected, and the local instance is stopped."""
    ray_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths
    try:
        args = ("strategy=depth,width", "phi=1", "train.epochs=4", *RAY,
                f"++hydra.launcher.ray.init._temp_dir={ray_dir}")  # fmt: skip
        proc = start_sweep(tmp_path, *args)
        victim, pid = training(tmp_path / "s", proc)
        worker = job_process(pid)
        assert ray_dir in " ".join(processes_under(ray_dir))  # the local instance runs there
        os.kill(worker, signal.SIGKILL)
        result = assert_one_failed(tmp_path / "s", finish(proc, tmp_path), victim)
        assert f"its job process (pid {worker} " in result["reason"]
        assert "WorkerCrashedError" in result["reason"], result["reason"]
        assert processes_under(ray_dir) == []
        assert "'_node_ip_address': '127.0.0.1'" in (tmp_path / "log.txt").read_text()
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)


def test_the_local_instance_binds_to_loopback_without_dashboard_and_a_cluster_decides():
    """The preset's init arguments: loopback and no dashboard locally; joining a cluster
    (an address) passes only what a driver may set."""

    class Launcher:
        def __init__(self, *overrides: str) -> None:
            cfg = compose_config([*RAY, *overrides], return_hydra_config=True)
            self.ray_cfg = OmegaConf.create(OmegaConf.to_container(cfg.hydra.launcher.ray))

    local = init_args(Launcher())
    assert local["_node_ip_address"] == "127.0.0.1" and local["include_dashboard"] is False
    assert "address" not in local and "num_cpus" not in local
    joined = init_args(Launcher("hydra.launcher.ray.init.address=auto"))
    assert joined == {"address": "auto"}
