"""Launching through the adapter of the configured launcher: every job collected, the dead
recorded, the launcher's leftovers stopped and the ledgers removed, even when interrupted.
(Real sweeps with a killed job on each launcher: test_dead_jobs.py, test_on_ray.py.)"""

from __future__ import annotations

import os
import socket
from types import SimpleNamespace
from typing import Any

import hydra.utils
import pytest
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.launcher import Launcher

from bench.config.compose import compose_config
from bench.sweep import launch, on_basic, on_ray, on_submitit

FAMILIES = [
    ("hydra/launcher=joblib", on_basic),
    ("hydra/launcher=submitit_local", on_submitit),
    ("hydra/launcher=slurm", on_submitit),
    ("hydra/launcher=ray", on_ray),
]


@pytest.mark.parametrize(("preset", "adapter"), FAMILIES, ids=[p for p, _ in FAMILIES])
def test_each_launcher_gets_the_adapter_of_its_family(preset, adapter):
    cfg = compose_config([preset, "runs_dir=/runs"], return_hydra_config=True)
    assert launch.adapter_for(hydra.utils.instantiate(cfg.hydra.launcher)) is adapter


def test_the_basic_launcher_and_any_other_use_their_own_launch():
    class Other(Launcher):  # Hydra's basic launcher cannot be instantiated from a config
        def setup(self, **kwargs: Any) -> None: ...
        def launch(self, job_overrides: Any, initial_job_idx: int) -> list[int]:
            return [initial_job_idx + i for i in range(len(job_overrides))]

    assert launch.adapter_for(Other()) is on_basic
    assert on_basic.launch(Other(), [["a=1"], ["a=2"]], 5) == [5, 6]


def test_a_dead_job_does_not_stop_the_collection_of_the_jobs_after_it():
    asked: list[int] = []

    def result(handle: int) -> float:
        asked.append(handle)
        return 1 / handle

    first, dead, last = launch.collect([1, 0, 2], result)
    assert asked == [1, 0, 2] and (first, last) == (1.0, 0.5)
    assert isinstance(dead, ZeroDivisionError)


def test_a_job_that_raised_gives_its_exception_and_one_that_returned_its_value():
    raised = JobReturn(status=JobStatus.FAILED, _return_value=ValueError("bad"))
    assert launch.outcome(JobReturn(status=JobStatus.COMPLETED, _return_value=3)) == 3
    assert str(launch.outcome(raised)) == "bad"
    died = OSError("Job 7 has not produced any output")
    assert launch.outcome(died) is died


def fake_adapter(launched: Any) -> SimpleNamespace:
    """An adapter that launches with ``launched(batch, first)`` and counts its stops."""
    adapter = SimpleNamespace(stops=0)
    adapter.launch = lambda launcher, batch, first: launched(batch, first)
    adapter.stop = lambda: setattr(adapter, "stops", adapter.stops + 1)
    return adapter


def test_the_dead_job_is_recorded_the_others_returned_and_the_launcher_stopped(
    tmp_path, monkeypatch
):
    done = JobReturn(status=JobStatus.COMPLETED, _return_value={"status": "ok"})
    adapter = fake_adapter(lambda batch, first: [done, OSError("Job 1 died (state: TIMEOUT)")])
    monkeypatch.setattr(launch, "adapter_for", lambda launcher: adapter)
    supervised, recorded = SimpleNamespace(ledger=None), []
    record = lambda job, reason: recorded.append((job, reason))  # noqa: E731
    out = launch.launch_all(object(), [["phi=0"], ["phi=1"]], tmp_path, record, supervised)
    assert out == [{"status": "ok"}, None]
    assert recorded == [(["phi=1"], "the process died: the launcher reported "
                                    "OSError: Job 1 died (state: TIMEOUT)")]  # fmt: skip
    owner = tmp_path / ".jobs" / f"{socket.gethostname()}-{os.getpid()}"
    assert supervised.ledger == owner / "launch0"  # where the job processes said how they ended
    assert adapter.stops == 1 and not (tmp_path / ".jobs").exists()


def test_an_interrupted_sweep_still_stops_its_launcher_and_removes_its_ledgers(
    tmp_path, monkeypatch
):
    def interrupted(batch: list[list[str]], first: int) -> list[Any]:
        raise KeyboardInterrupt

    adapter = fake_adapter(interrupted)
    monkeypatch.setattr(launch, "adapter_for", lambda launcher: adapter)
    with pytest.raises(KeyboardInterrupt):
        launch.launch_all(object(), [["phi=0"]], tmp_path, lambda job, reason: None)
    assert adapter.stops == 1 and not (tmp_path / ".jobs").exists()


def test_the_names_from_before_the_adapters_still_import():
    from bench.sweep import finish, start
    from hydra_plugins.scalebench import sweeper

    moved = ("Checked", "by_sweep", "check_jobs", "write_manifest")
    assert all(getattr(finish, name) is getattr(start, name) for name in moved)
    assert sweeper.submitit_executor is on_submitit.executor and sweeper.outcome is launch.outcome
    assert sweeper.is_submitit is on_submitit.handles
    assert sweeper.launch_submitit is on_submitit.launch
    assert (on_ray.is_ray, on_ray.launch_ray) == (on_ray.handles, on_ray.launch)
