"""A sweep survives a dead job: that point ends ``failed`` saying why, the others finish ``ok``,
the figures are drawn and the command exits 1, whatever the launcher.

The processes of one job: the launcher's job process (a joblib worker, a submitit job; the
sweep itself with the basic launcher) supervises the training process, its child, whose pid
``trained/<key>/claim.json`` holds (bench.sweep.supervise, bench.sweep.child).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import one_error_line, results

from bench.sweep import supervise, survive
from bench.sweep.supervise import Ledger, Supervised

TINY = ("data.train_size=640", "data.test_size=256", "train.batch_size=64",
        "train.eval_batch_size=256", "logger.mode=disabled", "threads=1", "sweep=s",
        "plot.cam_images=0", "plot.formats=[png]", "eval.inference_seconds=0")  # fmt: skip
JOBLIB = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
SUBMITIT = ("hydra/launcher=submitit_local",)
# bench.search: the tiny model's 3 candidates buildable at 2x MACs (tolerance 0.05), 1 seed each
SEARCH = ("search.tolerance=0.05", "train.epochs=2", "plot.cam_images=0", "eval.test_scales=[1]")


# ----------------------------------------------------------------------------- helpers
def start_sweep(
    runs: Path, *args: str, command: tuple[str, ...] = ("bench.run", "-m")
) -> subprocess.Popen:
    """``python -m COMMAND`` (``bench.run -m``) in its own session, its output in
    ``runs/log.txt`` and ``err.txt``."""
    runs.mkdir(parents=True, exist_ok=True)
    command = (sys.executable, "-m", *command, f"runs_dir={runs}", *TINY, *args)
    out, err = (runs / "log.txt").open("w"), (runs / "err.txt").open("w")
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.Popen(list(command), stdout=out, stderr=err, env=env, start_new_session=True)


def training(sweep: Path, proc: subprocess.Popen, other_than: int = 0) -> tuple[Path, int]:
    """(training folder, pid of its training process) once a point has a checkpoint."""
    deadline = time.time() + 500
    while time.time() < deadline and proc.poll() is None:
        for checkpoint in sweep.glob("trained/*/checkpoint.pt"):
            try:  # a claim is being taken over, or written
                pid = json.loads((checkpoint.parent / "claim.json").read_text())["pid"]
            except (OSError, ValueError, KeyError):
                continue
            if pid != other_than:
                return checkpoint.parent, int(pid)
        time.sleep(0.05)
    raise AssertionError(f"no training to interrupt (sweep exit status {proc.poll()})")


def parent(pid: int) -> int:
    """The parent of process ``pid`` (Linux)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def job_process(trainer: int) -> int:
    """The job process of a training process: its parent."""
    return parent(trainer)


def finish(proc: subprocess.Popen, runs: Path) -> subprocess.CompletedProcess:
    """Wait for the sweep; its stderr as ``bench()`` gives it."""
    proc.wait(timeout=900)
    err = (runs / "err.txt").read_text()
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", err)


def assert_one_failed(sweep: Path, done: subprocess.CompletedProcess, victim: Path) -> dict:
    """One failed point (the victim's), the others ok, a figure, exit 1; the failed result."""
    assert done.returncode == 1, done.stderr[-3000:]
    res = results(sweep)
    failed = {name: r for name, r in res.items() if r["status"] == "failed"}
    assert len(failed) == 1, {name: r["status"] for name, r in res.items()}
    (name, result), = failed.items()  # fmt: skip
    assert all(r["status"] == "ok" for n, r in res.items() if n != name)
    assert f"1 of {len(res)} points did not finish ok (failed: {name})" in one_error_line(done)
    assert (sweep / "figures" / "top1_vs_macs.png").stat().st_size > 0
    assert len(list(sweep.glob("**/top1_vs_macs.png"))) == 1  # drawn once, by the sweep
    assert (victim / "checkpoint.pt").exists() and not (victim / "outcome.json").exists()
    assert result["strategy"] == name.split("_phi")[0] and "config" in result
    return result


# ----------------------------------------------------------------------------- whole sweeps
@pytest.mark.slow
def test_killed_training_process_fails_its_point_and_the_sweep_finishes(tmp_path):
    """SIGKILL, as the kernel's out-of-memory killer sends: the job process sees its child
    die, records the point failed and returns, so the launcher never sees a dead job
    (joblib's case is the search's below, submitit's is below with a dead job beside it)."""
    proc = start_sweep(tmp_path, "strategy=depth,width", "phi=1", "train.epochs=2")
    victim, pid = training(tmp_path / "s", proc)
    os.kill(pid, signal.SIGKILL)
    result = assert_one_failed(tmp_path / "s", finish(proc, tmp_path), victim)
    assert result["reason"].startswith("the process died: the training process")
    assert f"(pid {pid} " in result["reason"] and "SIGKILL" in result["reason"]


@pytest.mark.slow
def test_killed_joblib_worker_fails_its_point_and_the_jobs_killed_with_it_are_relaunched(tmp_path):
    """A dead worker breaks loky's executor: it fails every job of the batch and SIGKILLs the
    other workers with their trees. The dead worker's training child outlives it and says so;
    the others (one running, one never started) are relaunched and finish ok."""
    args = ("strategy=depth,width,compound", "phi=1", "train.epochs=2", *JOBLIB)
    proc = start_sweep(tmp_path, *args)
    victim, pid = training(tmp_path / "s", proc)
    worker = job_process(pid)
    os.kill(worker, signal.SIGKILL)
    done = finish(proc, tmp_path)
    result = assert_one_failed(tmp_path / "s", done, victim)
    assert f"its job process (pid {worker} " in result["reason"]
    assert "TerminatedWorkerError" in result["reason"] and "SIGKILL(-9)" in result["reason"]
    assert "relaunching 2 job(s) lost with a dead one" in (tmp_path / "log.txt").read_text()


@pytest.mark.slow
def test_killed_submitit_training_and_job_processes_fail_their_points_and_the_other_finishes(
    tmp_path,
):
    """Two deaths in one submitit sweep. One point's training process is SIGKILLed: its job
    process records the point failed and returns. Another point's job process is SIGKILLed:
    submitit reports that job apart (UncompletedJobError) and the jobs after it are still
    collected, not abandoned while running."""
    sweep = tmp_path / "s"
    args = ("strategy=depth,width,compound", "phi=1", "train.epochs=2", *SUBMITIT)
    proc = start_sweep(tmp_path, *args)
    trained, trainer = training(sweep, proc)
    os.kill(trainer, signal.SIGKILL)
    orphaned, pid = training(sweep, proc, other_than=trainer)
    job = job_process(pid)
    os.kill(job, signal.SIGKILL)
    done = finish(proc, tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    res = results(sweep)
    failed = {name: r["reason"] for name, r in res.items() if r["status"] == "failed"}
    assert len(res) == 3 and len(failed) == 2, {name: r["status"] for name, r in res.items()}
    for name in failed:
        assert res[name]["strategy"] == name.split("_phi")[0] and "config" in res[name]
    assert "2 of 3 points did not finish ok" in one_error_line(done)
    by_pid = {reason.split("(pid ")[1].split()[0]: reason for reason in failed.values()}
    assert by_pid.keys() == {str(trainer), str(job)}, failed
    assert by_pid[str(trainer)].startswith("the process died: the training process")
    assert "SIGKILL" in by_pid[str(trainer)]
    assert f"its job process (pid {job} " in by_pid[str(job)]
    assert "UncompletedJobError" in by_pid[str(job)]
    assert "has not produced any output" in by_pid[str(job)]
    for victim in (trained, orphaned):
        assert (victim / "checkpoint.pt").exists() and not (victim / "outcome.json").exists()
    assert (sweep / "figures" / "top1_vs_macs.png").stat().st_size > 0
    assert len(list(sweep.glob("**/top1_vs_macs.png"))) == 1  # drawn once, by the sweep


@pytest.mark.slow
def test_a_search_with_a_killed_candidate_fails_it_and_ranks_and_draws_the_others(tmp_path):
    """bench.search launches as a bench.run sweep does (the same launch_all): one candidate's
    training SIGKILLed under joblib ends that candidate failed (its loky worker records it and
    returns), the others ok, the grid is drawn and the winner written from them, and the
    command exits 1 naming the failed one."""
    out = tmp_path / "found.yaml"
    proc = start_sweep(tmp_path, *SEARCH, f"search.out={out}", *JOBLIB, command=("bench.search",))
    victim, pid = training(tmp_path / "s", proc)
    os.kill(pid, signal.SIGKILL)
    done = finish(proc, tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    statuses = {name: r["status"] for name, r in results(tmp_path / "s").items()}
    assert sorted(statuses.values()) == ["failed", "ok", "ok"], statuses  # 3 candidates
    (name,) = [n for n, status in statuses.items() if status == "failed"]
    reason = results(tmp_path / "s")[name]["reason"]
    assert reason.startswith("the process died: the training process"), reason
    assert f"(pid {pid} " in reason and "SIGKILL" in reason
    assert "relaunching" not in (tmp_path / "log.txt").read_text()  # no worker was lost
    assert (victim / "checkpoint.pt").exists() and not (victim / "outcome.json").exists()
    assert f"1 of 3 points did not finish ok (failed: {name})" in one_error_line(done)
    assert (tmp_path / "s" / "figures" / "search_grid.png").stat().st_size > 0
    ranking = pd.read_csv(tmp_path / "s" / "search_ranking.csv")
    dead = ranking[ranking.statuses == "failed"]
    assert dead["rank"].tolist() == [3] and dead.seeds_ok.tolist() == [0]  # ranked last
    assert "winner alpha=" in (tmp_path / "log.txt").read_text() and out.exists()


# ----------------------------------------------------------------------------- the supervisor
def test_supervised_job_returns_what_the_child_returned(job):
    task = Supervised(lambda cfg: None, ("json", "dumps"))  # json.dumps(cfg), forked
    task.ledger = job / "ledger"
    assert task({"a": [1, 2]}) == '{"a": [1, 2]}'
    assert Ledger(task.ledger).read(3) == {"returned": True}


def test_supervised_child_killed_by_a_signal_is_recorded_and_the_supervisor_survives(
    job, monkeypatch
):
    recorded: list[tuple[Any, str]] = []
    monkeypatch.setattr(supervise, "record_death", lambda cfg, r: recorded.append((cfg, r)))
    task = Supervised(lambda cfg: None, ("signal", "raise_signal"))
    task.ledger = job / "ledger"
    out = task(signal.SIGKILL)  # the child kills itself
    assert out["status"] == "failed" and "was killed by SIGKILL (signal 9)" in out["reason"]
    assert recorded == [(signal.SIGKILL, out["reason"])]
    assert Ledger(task.ledger).read(3)["failed"] == out["reason"]


def test_supervised_child_that_raises_raises_in_the_job(job):
    task = Supervised(lambda cfg: None, ("builtins", "int"))
    with pytest.raises(supervise.JobRaised, match="ValueError: invalid literal"):
        task("not a number")


def test_a_task_a_child_cannot_import_runs_in_the_job_process():
    def local(cfg):
        return cfg + 1

    task = Supervised.wrap(local)
    assert task.entry is None and task(1) == 2


# ----------------------------------------------------------------------------- the verdicts
class FakeLauncher:
    """Launches by script: ``script[attempt](nums)`` -> outcomes, or raises for the batch."""

    def __init__(self, *script: Any) -> None:
        self.script, self.calls = list(script), []

    def __call__(self, batch: list[list[str]], first: int, ledger: Path) -> list[Any]:
        nums = list(range(first, first + len(batch)))
        self.calls.append(nums)
        return self.script.pop(0)(nums, Ledger(ledger))


def broken(orphan: int | None = None) -> Any:
    """A batch that loky broke; ``orphan``'s child said its job process died."""

    def launch(nums: list[int], ledger: Ledger) -> list[Any]:
        if orphan is not None:
            ledger.write(orphan, orphaned="its job process (pid 9 on h) died while it trained")
        raise RuntimeError("TerminatedWorkerError-like\nThe exit codes of the workers are {-9}")

    return launch


def ok(nums: list[int], ledger: Ledger) -> list[Any]:
    for num in nums:
        ledger.write(num, returned=True)
    return [f"ok{n}" for n in nums]


def test_the_dead_job_is_recorded_and_the_collateral_relaunched_with_its_numbers(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(survive, "SETTLE_SECONDS", 0)
    launcher, recorded = FakeLauncher(broken(orphan=1), ok, ok), []
    jobs = [["phi=0"], ["phi=1"], ["phi=2"]]
    out = survive.run_jobs(jobs, launcher, tmp_path, lambda j, r: recorded.append((j, r)))
    assert out == ["ok0", None, "ok2"]
    assert launcher.calls == [[0, 1, 2], [0], [2]]  # each job keeps its number
    ((overrides, reason),) = recorded
    assert overrides == ["phi=1"] and reason.startswith("the process died: its job process")
    assert "RuntimeError: TerminatedWorkerError-like The exit codes" in reason


def test_a_job_the_launcher_reports_dead_is_recorded_not_relaunched(tmp_path, monkeypatch):
    monkeypatch.setattr(survive, "SETTLE_SECONDS", 0)
    dead = OSError("Job 7 has not produced any output (state: TIMEOUT)\nmore")
    launcher, recorded = FakeLauncher(lambda nums, ledger: ["ok0", dead]), []
    out = survive.run_jobs([["a"], ["b"]], launcher, tmp_path, lambda j, r: recorded.append(r))
    assert out == ["ok0", None] and launcher.calls == [[0, 1]]
    assert recorded == ["the process died: the launcher reported OSError: Job 7 has not "
                        "produced any output (state: TIMEOUT) more"]  # fmt: skip


def test_an_orphan_that_speaks_after_the_launcher_reported_its_job_dead_is_heard(tmp_path):
    """Ray can report a crashed worker before the worker's training notices (it checks its
    parent every 0.2 s): the sweep waits SETTLE_SECONDS for the orphan's word."""

    def launch(nums: list[int], ledger: Ledger) -> list[Any]:
        said = "its job process (pid 9 on h) died while it trained this point"
        threading.Timer(0.2, lambda: ledger.write(1, orphaned=said)).start()
        return ["ok0", RuntimeError("WorkerCrashedError: The worker died unexpectedly")]

    recorded: list[str] = []
    survive.run_jobs(
        [["a"], ["b"]], FakeLauncher(launch), tmp_path, lambda j, r: recorded.append(r)
    )
    assert recorded == ["the process died: its job process (pid 9 on h) died while it trained "
                        "this point; the launcher reported RuntimeError: WorkerCrashedError: "
                        "The worker died unexpectedly"]  # fmt: skip


def test_jobs_lost_every_time_are_recorded_after_the_relaunches(tmp_path, monkeypatch):
    monkeypatch.setattr(survive, "SETTLE_SECONDS", 0)
    launcher = FakeLauncher(*[broken()] * (survive.RELAUNCHES + 1))
    recorded: list[str] = []
    survive.run_jobs([["a"]], launcher, tmp_path, lambda j, r: recorded.append(r))
    assert len(launcher.calls) == survive.RELAUNCHES + 1
    assert recorded[0].endswith(f"(still lost after {survive.RELAUNCHES} relaunches)")


def test_summary_of_a_failed_submitit_job_is_its_error_line():
    trace = [
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in f',
        "submitit.core.utils.UncompletedJobError: Job not requeued because: timed-out.",
    ]
    dashes = "-" * 22
    text = "\n".join(["Job (task=0) failed during processing with trace:", dashes, *trace,
                      dashes, "You can check full logs with 'job.stderr(0)'"])  # fmt: skip
    assert survive.summary(RuntimeError(text)) == (
        "RuntimeError: Job (task=0) failed during processing with trace: "
        "submitit.core.utils.UncompletedJobError: Job not requeued because: timed-out."
    )
