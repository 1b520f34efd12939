"""Launch a sweep's jobs so that every job is collected and a dead one recorded, on any launcher.

Both sweepers, ``bench.run -m``'s and ``bench.search``'s
(``hydra_plugins/scalebench``), launch through :func:`launch_all`. It hands the
jobs to :func:`bench.sweep.survive.run_jobs`, which tells a dead job from the
jobs lost with it, records the dead ``failed`` and relaunches the lost; each
launch goes through the adapter of the configured launcher's family.

An adapter is a module of this package with three functions:
``handles(launcher)``, whether the launcher is of its family;
``launch(launcher, batch, first)``, which runs consecutive jobs numbered from
``first`` and returns, per job, what it returned or the exception it ended
with (raising only when the launcher fails the batch as a whole, as loky
does); and ``stop()``, what to tear down when the sweep ends. The first one of
:data:`ADAPTERS` that handles the launcher is used.
"""

from __future__ import annotations

import importlib
import logging
import os
import shutil
import socket
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger("bench.sweep")

ADAPTERS = (
    "bench.sweep.on_submitit",  # submitit_local, slurm: every job collected
    "bench.sweep.on_ray",  # ray: every task collected, a local instance stopped
    "bench.sweep.on_basic",  # basic, joblib and any other: the launcher's own launch
)


def adapter_for(launcher: Any) -> ModuleType:
    """The adapter module of ``launcher``'s family."""
    for name in ADAPTERS:
        adapter = importlib.import_module(name)
        if adapter.handles(launcher):
            return adapter
    raise AssertionError(f"{ADAPTERS[-1]} handles every launcher")


def launch_all(
    launcher: Any,
    jobs: Sequence[Sequence[str]],
    sweep_dir: Path,
    record: Callable[[list[str], str], None],
    supervised: Any = None,
) -> list[Any]:
    """Launch every job; a dead one is recorded (``record(overrides, reason)``) and the jobs
    lost with it are relaunched. Returns what each job returned (None for a dead one).

    ``supervised`` (:class:`bench.sweep.supervise.Supervised`, the launcher's task) is told
    each launch's ledger, the folder where the job processes say how each job ended:
    ``<sweep_dir>/.jobs/<host>-<pid>/``, removed at the end.
    """
    from bench.sweep.survive import run_jobs

    adapter = adapter_for(launcher)
    ledgers = Path(sweep_dir) / ".jobs" / f"{socket.gethostname()}-{os.getpid()}"
    launch = partial(launch_batch, launcher, adapter, supervised)
    try:
        return run_jobs([list(j) for j in jobs], launch, ledgers, record)
    finally:
        adapter.stop()
        shutil.rmtree(ledgers, ignore_errors=True)
        with suppress(OSError):
            ledgers.parent.rmdir()  # unless another sweep process shares the folder


def launch_batch(
    launcher: Any,
    adapter: ModuleType,
    supervised: Any,
    batch: list[list[str]],
    first: int,
    ledger: Path,
) -> list[Any]:
    """Launch consecutive jobs numbered from ``first``: each one's return value or exception."""
    if supervised is not None:
        supervised.ledger = ledger  # travels with the task to every job process
    return [outcome(r) for r in adapter.launch(launcher, batch, first)]


def outcome(job_return: Any) -> Any:
    """What a job returned, or the exception it ended with (an exception passes through)."""
    if isinstance(job_return, BaseException):
        return job_return
    try:
        return job_return.return_value
    except Exception as exc:  # the job raised
        return exc


def collect(handles: Iterable[Any], result: Callable[[Any], Any]) -> list[Any]:
    """``result(handle)`` for every handle, in order, or the exception it raised: a dead job
    does not stop the collection of those after it (they are still running)."""
    collected: list[Any] = []
    for handle in handles:
        try:
            collected.append(result(handle))
        except Exception as exc:  # this job's process died, or it raised
            collected.append(exc)
    return collected


def announce(sweep_dir: Path, batch: list[list[str]], first: int) -> None:
    """Make the sweep folder and log each job's number and overrides, as Hydra's launchers do."""
    from hydra.core.utils import filter_overrides

    sweep_dir.mkdir(parents=True, exist_ok=True)
    for num, overrides in enumerate(batch, start=first):
        log.info("\t#%d : %s", num, " ".join(filter_overrides(overrides)))
