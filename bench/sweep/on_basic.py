"""Jobs through the launcher's own ``launch``: Hydra's basic launcher, joblib, and any launcher
without an adapter of its own (:mod:`bench.sweep.launch`).

These already give every job's outcome: the basic launcher runs the jobs one
after another in the sweep's own process, and joblib returns one outcome per
job or raises for a batch that loky broke (:mod:`bench.sweep.survive` tells
the dead job from the jobs lost with it).
"""

from __future__ import annotations

from typing import Any


def handles(launcher: Any) -> bool:
    """Every launcher: this adapter comes last."""
    return True


def launch(launcher: Any, batch: list[list[str]], first: int) -> list[Any]:
    """The launcher's own ``launch``: per job, what it returned (a Hydra ``JobReturn``)."""
    return list(launcher.launch(batch, initial_job_idx=first))


def stop() -> None:
    """Nothing to stop: the launcher's processes end with their jobs."""
