"""SLURM that finishes: a job signalled before its time limit, or preempted, is requeued and its
point resumes from its checkpoint; past ``max_num_timeout`` timeouts the point ends failed.

submitit's local executor runs the same requeue path as SLURM: SIGUSR2 reaches the job, its
handler calls the Hydra launcher's ``checkpoint()`` (a DelayedSubmission of the same job) and
requeues it; here the local controller starts it again. SLURM sends the signal to every
process of the job step, and so do these tests.
"""

from __future__ import annotations

import os
import re
import signal
from unittest import mock

import hydra.utils
import pytest
import torch
from conftest import results
from test_dead_jobs import SUBMITIT, finish, parent, start_sweep, training

from bench.config.compose import compose_config


def signal_job_step(trainer: int, sig: int = signal.SIGUSR2) -> None:
    """Signal the job process and the training process, as SLURM does."""
    for pid in (parent(trainer), trainer):
        os.kill(pid, sig)


def submitit_log(sweep) -> str:
    """Everything the submitit jobs of ``sweep`` wrote."""
    return "".join(p.read_text() for p in sweep.glob(".submitit/*/*_log.*"))


def test_slurm_preset_requeues_on_timeout_and_preemption():
    import submitit

    from bench.sweep import on_submitit

    cfg = compose_config(["hydra/launcher=slurm", "runs_dir=/runs"], return_hydra_config=True)
    launcher = hydra.utils.instantiate(cfg.hydra.launcher)
    assert cfg.hydra.launcher.max_num_timeout >= 3
    with mock.patch.object(submitit.SlurmExecutor, "affinity", return_value=1):  # no srun here
        executor = on_submitit.executor(launcher)._executor
    assert executor.max_num_timeout == cfg.hydra.launcher.max_num_timeout
    script = executor._make_submission_file_text("python -m submitit.core._submit DIR", "uid")
    assert "#SBATCH --signal=USR2@120\n" in script  # 2 minutes' notice before the time limit
    assert "#SBATCH --requeue\n" in script and "#SBATCH --time=240\n" in script


@pytest.mark.slow
def test_preempted_job_is_requeued_and_its_point_resumes_from_the_step_it_had_reached(tmp_path):
    proc = start_sweep(tmp_path, "strategy=width", "phi=1", "train.epochs=4", *SUBMITIT)
    folder, pid = training(tmp_path / "s", proc)
    before = torch.load(folder / "checkpoint.pt", weights_only=True)["step"]
    signal_job_step(pid)  # a 60-minute limit is far: submitit takes it for a preemption
    done = finish(proc, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    (r,) = results(tmp_path / "s").values()
    log = submitit_log(tmp_path / "s")
    saved = [int(n) for n in re.findall(r"checkpoint at step (\d+) on request", log)]
    assert saved == [r["resumed_from_step"]]  # the training saved where it was, then stopped
    assert r["status"] == "ok" and r["resumed_from_step"] >= before > 0
    assert r["steps"] == r["budget_detail"]["steps"] == 40
    assert [round(h["epoch"]) for h in r["history"]] == [1, 2, 3, 4]  # no gap, no repeat
    assert "this job is preempted" in log and "Requeued job" in log
    assert len(list((tmp_path / "s" / "trained").iterdir())) == 1
    assert len(list((tmp_path / "s").glob("**/top1_vs_macs.png"))) == 1  # one figure, the sweep's


@pytest.mark.slow
def test_timeouts_past_max_num_timeout_end_the_point_failed_and_the_sweep_reports(tmp_path):
    """With a 10-minute limit submitit counts any USR2 as a timeout (it requeues one that
    ran at least min(80 %, limit - 10 min) of its limit as a timeout, the rest as preemptions)."""
    limits = ("hydra.launcher.timeout_min=10", "+hydra.launcher.max_num_timeout=1")
    proc = start_sweep(tmp_path, "strategy=width", "phi=1", "train.epochs=4", *SUBMITIT, *limits)
    _, first = training(tmp_path / "s", proc)
    signal_job_step(first)  # timeout 1 of 1: requeued
    _, second = training(tmp_path / "s", proc, other_than=first)  # the requeued job trains
    signal_job_step(second)  # timeout 2: no requeue left
    done = finish(proc, tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    (r,) = results(tmp_path / "s").values()
    assert r["status"] == "failed"
    assert r["reason"] == (  # raised in the job by submitit's handler, returned by Hydra's job
        "the process died: the launcher reported UncompletedJobError: "
        "Job not requeued because: timed-out too many times."
    )
    assert "Requeued job" in submitit_log(tmp_path / "s")
    assert (tmp_path / "s" / "figures" / "top1_vs_macs.png").exists()
