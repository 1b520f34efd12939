"""Each job of a sweep trains in a plain child process that the job's own process watches.

Why: a launcher knows a job only as the process it started, and when that
process dies by a signal (the kernel's out-of-memory killer sends SIGKILL)
it fails more than that job: joblib's loky breaks its executor and kills the
other workers, submitit's ``results()`` raises at the first dead job, and
the basic launcher runs jobs in the sweep's own process. Here the job's
process (the *supervisor*) runs the training as ``python -m
bench.sweep.child`` and waits; when the child dies, the supervisor records
a ``failed`` result.json saying how and returns normally, so the launcher
never sees a dead job. (pycls's ``multi_proc_run`` also starts trainings in
child processes and waits for them, but to spread one training over several
GPUs, and it raises a child's error again in the parent.)

The supervisor never runs torch, so it stays small; the child raises its
own ``oom_score_adj`` so the kernel picks it first. Signals follow the
supervisor: under submitit it handles SIGUSR2 (checkpoint and requeue) and
ignores SIGTERM, and SLURM signals every process of the job step, so the
child ignores the signals the supervisor handles and the supervisor alone
decides; when it leaves (requeued, timed out, interrupted) the child goes
too, after writing a checkpoint when it can (:mod:`bench.train.stop`).

The *ledger* (:class:`Ledger`) is how the sweep learns what its launcher
cannot say: the supervisor writes ``returned`` when the job ended normally,
and a child whose supervisor died writes ``orphaned`` before it stops. A job
with neither died with its whole process tree.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from bench.store import atomic_write_json, read_json_or_none
from bench.sweep.ledger import MIRRORED, Ledger
from bench.sweep.zygote import Forked, fork_child

log = logging.getLogger("bench.run")

STOP_SECONDS = 60.0  # how long a leaving job waits for its training's checkpoint (SLURM: 120 s)


class JobRaised(RuntimeError):
    """The job's function raised in the child (its traceback is logged): the error's line."""


def entry_of(task: Callable[..., Any]) -> tuple[str, str] | None:
    """(module, qualified name) a fresh process imports to find ``task``; None if it cannot.

    Computed in the sweep's process, where ``__main__`` still names the module
    run with ``-m`` (in a joblib worker or a submitit job it no longer does).
    """
    module, name = getattr(task, "__module__", None), getattr(task, "__qualname__", "<")
    if module == "__main__":
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        module = spec.name if spec is not None else None
    if not module or "<" in name:
        return None
    return module, name


class Supervised:
    """The task function Hydra's launchers run: the job, in a child it watches."""

    def __init__(self, task: Callable[..., Any], entry: tuple[str, str] | None) -> None:
        self.task = task
        self.entry = entry
        self.ledger: Path | None = None  # set by the sweeper before each launch

    @classmethod
    def wrap(cls, task: Callable[..., Any]) -> Supervised:
        """Supervise ``task``, or run it in-process when a child could not import it."""
        entry = entry_of(task)
        if entry is None:
            log.warning("jobs run unsupervised: %r cannot be imported by a child", task)
        return cls(task, entry)

    def __call__(self, cfg: Any) -> Any:
        """Run the job in a child; record a failure if the child died without a result."""
        if self.entry is None:
            return self.task(cfg)
        from bench.config.compose import hydra_job

        num = hydra_job()[1]
        with tempfile.TemporaryDirectory(prefix="scalebench-job-") as folder:
            message = Path(folder) / "message.json"
            handoff = Path(folder) / "handoff.json"
            atomic_write_json(handoff, self.handoff(cfg, num, message))
            pid, code = run_child(handoff)
            said = read_json_or_none(message)
        if said is not None and said.get("returned", False):
            Ledger(self.ledger).write(num, returned=True)
            return said["value"]
        if said is not None:
            log.error("the job raised:\n%s", said["traceback"])
            raise JobRaised(said["traceback"].strip().splitlines()[-1])
        reason = death_reason(code, pid)
        record_death(cfg, reason)
        Ledger(self.ledger).write(num, returned=True, failed=reason)
        return {"status": "failed", "reason": reason}

    def handoff(self, cfg: Any, num: int | None, message: Path) -> dict[str, Any]:
        """The child's instructions: the job, its config, this process's Hydra config and
        signals, and where to leave its last word. Plain JSON: the child reads no pickle."""
        from hydra.core.hydra_config import HydraConfig
        from omegaconf import OmegaConf

        assert self.entry is not None
        handled = [int(s) for s in MIRRORED if signal.getsignal(s) not in (signal.SIG_DFL, None)]
        plain = OmegaConf.to_container(cfg) if OmegaConf.is_config(cfg) else cfg
        return {
            "entry": list(self.entry),
            "cfg": plain,
            "is_config": OmegaConf.is_config(cfg),
            "hydra": plain_hydra(HydraConfig.get()),
            "cwd": os.getcwd(),
            "sys_path": list(sys.path),
            "ignored": handled,
            "ledger": str(self.ledger) if self.ledger is not None else None,
            "num": num,
            "supervisor": f"pid {os.getpid()} on {socket.gethostname()}",
            "message": str(message),
        }


def run_child(handoff: Path) -> tuple[int, int]:
    """Start the training process for ``handoff`` and wait: (its pid, its exit code).

    It is forked by this process's zygote (:mod:`bench.sweep.zygote`), which
    has torch and the rest imported already; where there can be none it is
    ``python -m bench.sweep.child HANDOFF``. Either way it is this process's child.
    """
    path = os.pathsep.join(p for p in sys.path if p)  # the child finds what this process finds
    env = {**os.environ, "PYTHONPATH": path}
    command = [sys.executable, "-m", "bench.sweep.child", str(handoff)]
    with deaf():
        child = fork_child(str(handoff), env) or subprocess.Popen(command, env=env)
    try:
        return child.pid, child.wait()
    except BaseException:  # requeued, timed out, interrupted: the child saves, then goes
        stop_child(child)
        raise


def stop_child(child: subprocess.Popen | Forked) -> None:
    """Ask the training to checkpoint and stop; kill it if it has not within STOP_SECONDS."""
    from bench.train.stop import CHECKPOINT_SIGNAL

    with suppress(ProcessLookupError):
        child.send_signal(CHECKPOINT_SIGNAL)
    try:
        child.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        log.warning("the training process (pid %d) did not stop within %g s; killing it",
                    child.pid, STOP_SECONDS)  # fmt: skip
    with suppress(ProcessLookupError):
        child.kill()  # SIGKILL: it ignores the signals its supervisor handles
    child.wait()


@contextmanager
def deaf() -> Iterator[None]:
    """Start a process that ignores the signals meant for its parent until it says otherwise.

    An ignored signal stays ignored across exec, and the signals are blocked
    meanwhile, so none meant for this process is lost and none reaches the
    child before it chose which to take (:func:`bench.sweep.child.adopt`).
    """
    from bench.train.stop import CHECKPOINT_SIGNAL

    caught = (*MIRRORED, signal.SIGINT, CHECKPOINT_SIGNAL)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, caught)
    try:
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in caught}
    except ValueError:  # not the main thread: the child ignores them from its first line
        previous = {}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def plain_hydra(node: Any) -> dict[str, Any]:
    """The job's Hydra config as plain values, which the child rebuilds."""
    from omegaconf import OmegaConf

    try:
        return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]
    except Exception:  # an interpolation only the job's own process could resolve
        return OmegaConf.to_container(node, resolve=False)  # type: ignore[return-value]


def death_reason(exitcode: int, pid: int) -> str:
    """How the training process died, in the words result.json keeps."""
    who = f"the training process (pid {pid} on {socket.gethostname()})"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        text = f"the process died: {who} was killed by {name} (signal {-exitcode})"
        if -exitcode == signal.SIGKILL:
            text += "; the kernel's out-of-memory killer sends SIGKILL (see dmesg)"
        return text + "; reported by its job process, which survived"
    return f"the process died: {who} exited with status {exitcode} before recording a result"


def record_death(cfg: Any, reason: str) -> None:
    """A ``failed`` result.json for the job whose composed config is ``cfg``."""
    from bench.errors import UserError
    from bench.record import record_failure
    from bench.store import point_paths
    from bench.validate import validate

    try:
        config = validate(cfg)
    except UserError as exc:  # every job was checked before the sweep started
        log.error("error: %s (and its config is invalid: %s)", reason, exc)
        return
    strategy = config.strategy.name
    paths = point_paths(config.runs_dir, config.sweep, strategy, config.phi, config.seed)
    record_failure(config, paths, reason)
    log.error("error: %s: %s", paths.name, reason)
