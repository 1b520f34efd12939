"""The sweep's ledger of how each job ended, and the signals a job process handles.

A launcher knows a job only as the process it started; the ledger
(``<sweep>/.jobs/``) holds what the job processes and their trainings said:
``returned`` when the job ended normally, ``orphaned`` when a training's job
process died under it (:mod:`bench.sweep.supervise`, :mod:`bench.sweep.child`).
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from bench.store import atomic_write_json, read_json_or_none

MIRRORED = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)  # the child ignores those handled


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
