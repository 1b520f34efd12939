"""Each job of a sweep trains in a child process that the job's own process watches.

Why: a launcher knows a job only as the process it started, and when that
process dies by a signal (the kernel's out-of-memory killer sends SIGKILL)
it fails more than that job. joblib's loky marks its executor broken, fails
every pending job with ``TerminatedWorkerError`` and SIGKILLs the other
workers with their process trees; submitit's ``job.results()`` raises
``UncompletedJobError`` at the first dead job while later ones still run;
the basic launcher runs jobs in the sweep's own process, so the sweep dies
with the job. Here the job's process (the *supervisor*) starts the training
in a child and waits: when the child dies, a parent that survives records a
``failed`` result.json saying how, and returns normally, so the launcher
never sees a dead job and no other job is touched.

The supervisor never runs torch, so it stays small; the child's
``oom_score_adj`` is raised so the kernel picks it first. Children are forked
from a zygote (:mod:`bench.zygote`) that imported the job's module once per
supervisor, so after the first job a child costs a fork, not an interpreter
start.

Signals follow the supervisor. Under submitit the supervisor handles SIGUSR2
(checkpoint and requeue, see the README) and ignores SIGTERM; SLURM signals
every process of the job step, so the child and the zygote ignore the
signals the supervisor handles, and the supervisor alone decides: requeued,
it kills the child and exits; timed out for good, it raises. SIGINT goes to
the supervisor only (a child killed by Ctrl-C would print a traceback).

The *ledger* (:class:`Ledger`) is how the sweep learns what its launcher
cannot say: the supervisor writes ``returned`` when the job ended normally,
and a child whose supervisor died (its parent changed) writes ``orphaned``
before it stops. A job with neither died with its whole process tree.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from bench.store import atomic_write_bytes, atomic_write_json, read_json_or_none
from bench.zygote import Zygote

log = logging.getLogger("bench.run")

OOM_SCORE_ADJ = 500  # the kernel's out-of-memory killer takes the training, not its supervisor
WATCH_SECONDS = 0.2  # how often a child checks that its supervisor is alive
ORPHANED = 75  # a child's exit status when it stopped because its supervisor died
MIRRORED = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)  # the child ignores those handled
PRELOAD = ("bench.point",)  # what every job runs (bench.search imports it only when it runs)


class JobRaised(RuntimeError):
    """The job's function raised in the child (its traceback is logged): the error's line."""


class Ledger:
    """What a launch's job processes said about how each job ended: one JSON file per job."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = Path(folder) if folder is not None else None

    def read(self, num: int | None) -> dict[str, Any]:
        """The facts recorded for job ``num`` (empty when none)."""
        if self.folder is None or num is None:
            return {}
        return read_json_or_none(self.folder / f"{num}.json") or {}

    def write(self, num: int | None, **facts: Any) -> None:
        """Add facts about job ``num`` (nothing when the sweep keeps no ledger)."""
        if self.folder is not None and num is not None:
            atomic_write_json(self.folder / f"{num}.json", {**self.read(num), **facts})


@dataclass
class Handoff:
    """Everything the child needs to run the job as its supervisor would have."""

    entry: tuple[str, str]
    cfg: Any
    hydra: dict[str, Any]  # the job's Hydra config, resolved and plain (see plain_hydra)
    env: dict[str, str]
    cwd: str
    sys_path: list[str]
    ignored: tuple[int, ...]
    ledger: Path | None
    num: int | None
    supervisor: str
    message: Path  # where the child leaves its last word


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

    def __init__(
        self,
        task: Callable[..., Any],
        entry: tuple[str, str] | None,
        preload: tuple[str, ...] = PRELOAD,
    ) -> None:
        self.task = task
        self.entry = entry
        self.preload = preload  # imported by the zygote besides the entry's module
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
        from bench.config import hydra_job

        num = hydra_job()[1]
        with tempfile.TemporaryDirectory(prefix="scalebench-job-") as folder:
            handoff = self.handoff(cfg, num, Path(folder) / "message.pkl")
            pid, code = run_child(zygote((self.entry[0], *self.preload)), handoff)
            message = read_message(handoff.message)
        if pid is None:  # no zygote to fork from: run the job here rather than not at all
            log.warning("could not start a training process; the job runs unsupervised")
            return self.task(cfg)
        if message is not None and message[0] == "returned":
            Ledger(self.ledger).write(num, returned=True)
            return message[1]
        if message is not None:
            log.error("the job raised:\n%s", message[1])
            raise JobRaised(message[1].strip().splitlines()[-1])
        reason = death_reason(code, pid)
        record_death(cfg, reason)
        Ledger(self.ledger).write(num, returned=True, failed=reason)
        return {"status": "failed", "reason": reason}

    def handoff(self, cfg: Any, num: int | None, message: Path) -> Handoff:
        """The child's instructions, from this process's Hydra config, environment and signals."""
        from hydra.core.hydra_config import HydraConfig

        assert self.entry is not None
        ignored = tuple(s for s in MIRRORED if signal.getsignal(s) not in (signal.SIG_DFL, None))
        return Handoff(
            entry=self.entry,
            cfg=cfg,
            hydra=plain_hydra(HydraConfig.get()),
            env=dict(os.environ),
            cwd=os.getcwd(),
            sys_path=list(sys.path),
            ignored=ignored,
            ledger=self.ledger,
            num=num,
            supervisor=f"pid {os.getpid()} on {socket.gethostname()}",
            message=message,
        )


_ZYGOTES: dict[tuple[str, ...], Zygote] = {}


def zygote(modules: tuple[str, ...]) -> Zygote:
    """This process's zygote for ``modules``, started on first use (or again if it died)."""
    if modules not in _ZYGOTES or not _ZYGOTES[modules].alive():
        _ZYGOTES[modules] = Zygote(f"{__name__}:child_main", modules)
    return _ZYGOTES[modules]


def run_child(server: Zygote, handoff: Handoff) -> tuple[int | None, int | None]:
    """Start the child and wait for it: (its pid, its exit code); (None, None) without one."""
    pid = server.start(pickle.dumps(handoff))
    if pid is None:
        return None, None
    try:
        return pid, server.wait()
    except BaseException:  # requeued, timed out, interrupted: the child goes too
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # SIGKILL: it may ignore SIGTERM
        raise


def read_message(path: Path) -> tuple[str, Any] | None:
    """The child's last word (``returned`` or ``raised``), or None when it died without one."""
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, EOFError, pickle.UnpicklingError):
        return None


def plain_hydra(node: Any) -> dict[str, Any]:
    """The job's Hydra config as plain values, which any process can unpickle.

    In a joblib or submitit job, the launcher's config classes were rebuilt
    from cloudpickle's copy and no longer pickle by reference.
    """
    from omegaconf import OmegaConf

    try:
        return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]
    except Exception:  # an interpolation only the job's own process could resolve
        return OmegaConf.to_container(node, resolve=False)  # type: ignore[return-value]


def death_reason(exitcode: int | None, pid: int | None) -> str:
    """How the training process died, in the words result.json keeps."""
    who = f"the training process (pid {pid} on {socket.gethostname()})"
    if exitcode is None:
        return f"the process died: {who} was lost with the zygote it was forked from"
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
    from bench.validation import validate

    try:
        config = validate(cfg)
    except UserError as exc:  # every job was checked before the sweep started
        log.error("error: %s (and its config is invalid: %s)", reason, exc)
        return
    strategy = config.strategy.name
    paths = point_paths(config.runs_dir, config.sweep, strategy, config.phi, config.seed)
    record_failure(config, paths, reason)
    log.error("error: %s: %s", paths.name, reason)


# ----------------------------------------------------------------------------- in the child
def child_main(payload: bytes) -> NoReturn:
    """The forked child: run the job, leave its last word for the supervisor, exit."""
    code = 1
    try:
        code = run_job(pickle.loads(payload))
    except BaseException:  # never back into the zygote's loop
        traceback.print_exc()
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_job(handoff: Handoff) -> int:
    """Run the task as the supervisor would have; 0 when it returned."""
    watch_supervisor(handoff)
    adopt(handoff)
    module, name = handoff.entry
    task: Any = importlib.import_module(module)
    for part in name.split("."):
        task = getattr(task, part)
    try:
        message: tuple[str, Any] = ("returned", task(handoff.cfg))  # hydra.main passes cfg on
    except BaseException:
        message = ("raised", traceback.format_exc())
    atomic_write_bytes(handoff.message, pickle.dumps(message))
    return 0 if message[0] == "returned" else 1


def watch_supervisor(handoff: Handoff) -> None:
    """Stop, saying so in the ledger, when the supervisor dies (this process is reparented)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        Ledger(handoff.ledger).write(
            handoff.num,
            orphaned=f"its job process ({handoff.supervisor}) died while it trained this point",
        )
        os._exit(ORPHANED)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def adopt(handoff: Handoff) -> None:
    """Take the supervisor's signals, environment, Hydra config and logging."""
    from hydra.conf import HydraConf
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import configure_log, setup_globals
    from omegaconf import OmegaConf

    for sig in MIRRORED:
        signal.signal(sig, signal.SIG_IGN if sig in handoff.ignored else signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, MIRRORED)
    try:
        path = Path("/proc/self/oom_score_adj")
        path.write_text(str(max(int(path.read_text()), OOM_SCORE_ADJ)))
    except (OSError, ValueError):  # not Linux
        pass
    os.environ.clear()
    os.environ.update(handoff.env)
    os.chdir(handoff.cwd)  # the zygote kept the directory of the first job
    sys.path[:] = handoff.sys_path
    setup_globals()
    node = OmegaConf.structured(HydraConf)
    OmegaConf.set_struct(node, False)  # Hydra adds keys of its own (``env``)
    HydraConfig.instance().set_config(
        OmegaConf.create({"hydra": OmegaConf.merge(node, handoff.hydra)})
    )
    hydra = HydraConfig.get()
    configure_log(hydra.job_logging, hydra.verbose)
