"""Trainings forked by a warm zygote (bench.sweep.zygote): the job process's own children,
started with torch imported, and safe after the job process computed on the CPU."""

from __future__ import annotations

import json
import os
import signal

import torch

from bench.store import atomic_write_json
from bench.sweep import zygote
from bench.sweep.supervise import Supervised


def test_the_training_process_is_the_job_process_child_and_starts_warm(job):
    task = Supervised(lambda cfg: None, ("helpers.jobs", "where"))
    first, second = task(None), task(None)
    assert first["parent"] == second["parent"] == os.getpid()  # reparented to the supervisor
    assert first["warm"] and second["warm"]  # forked with bench.train.point imported
    assert first["pid"] != second["pid"]
    warm = zygote._zygotes[os.getpid()]
    assert warm.process.poll() is None  # one zygote serves every job of this process


def test_a_training_computes_on_several_threads_after_its_job_process_did(job):
    """GNU OpenMP's pool does not survive a fork: forked from this process after the
    convolution below, the child would hang. The zygote never computed, so it does not."""
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        torch.nn.functional.conv2d(torch.ones(64, 3, 64, 64), torch.ones(16, 3, 3, 3))
        message = job / "message.json"
        handoff = job / "handoff.json"
        atomic_write_json(handoff, Supervised(print, ("helpers.jobs", "convolve")).handoff(
            2, 3, message))  # fmt: skip
        child = zygote.fork_child(str(handoff), dict(os.environ))
        assert child is not None
        try:
            assert child.wait(timeout=120) == 0
        finally:
            if child.returncode is None:
                child.kill()
                child.wait()
    finally:
        torch.set_num_threads(previous)
    said = json.loads(message.read_text())
    assert said == {"returned": True, "value": 64 * 16 * 3 * 9 * 62 * 62}


def test_a_dead_zygote_is_replaced_and_the_job_still_runs(job):
    task = Supervised(lambda cfg: None, ("helpers.jobs", "where"))
    task(None)
    dead = zygote._zygotes[os.getpid()].process
    os.kill(dead.pid, signal.SIGKILL)
    dead.wait()
    assert task(None)["parent"] == os.getpid()
    assert zygote._zygotes[os.getpid()].process.pid != dead.pid


def test_released_the_process_has_no_zygote_and_the_next_job_starts_one(job):
    task = Supervised(lambda cfg: None, ("helpers.jobs", "where"))
    task(None)
    old = zygote._zygotes[os.getpid()].process
    zygote.release()
    assert os.getpid() not in zygote._zygotes and old.poll() is not None  # it exited
    assert task(None)["parent"] == os.getpid()


def test_unreadable_outputs_fall_back_to_a_fresh_interpreter_and_let_the_zygote_go(
    job, monkeypatch, caplog
):
    """A job process whose stdout or stderr is closed cannot say where a zygote should write:
    the caller starts a fresh interpreter (fork_child returns None) and the old zygote goes."""
    Supervised(lambda cfg: None, ("helpers.jobs", "where"))(None)
    old = zygote._zygotes[os.getpid()].process

    def closed() -> tuple:
        raise OSError(9, "Bad file descriptor")

    monkeypatch.setattr(zygote, "outputs", closed)
    assert zygote.fork_child(str(job / "handoff.json"), dict(os.environ)) is None
    assert os.getpid() not in zygote._zygotes
    assert old.wait(timeout=10) is not None  # let go, not left running
    assert "fresh interpreter" in caplog.text
