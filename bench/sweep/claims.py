"""Claims: at most one worker trains a point, and a dead worker's point is taken over.

A claim is ``claim.json`` in the point's training folder, holding its owner
(host, pid, start time), created exclusively and kept fresh by a heartbeat
thread that touches it every few seconds. Another worker treats the claim as
live while its heartbeat is recent, or, on the same host, while its process
exists; otherwise the claim is stale and is taken over. Checking and taking
happen under a short file lock, so two workers never both take a stale claim.
Works on any shared filesystem where mtimes propagate (NFS for SLURM jobs).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock

from bench.hardware.distributed import Dist, broadcast

log = logging.getLogger(__name__)
T = TypeVar("T")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Claim:
    """Exclusive, heartbeated ownership of one folder's work."""

    def __init__(self, folder: Path, heartbeat_seconds: float = 5.0, stale_seconds: float = 60.0):
        self.folder = Path(folder)
        self.path = self.folder / "claim.json"
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_seconds = stale_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.owner = {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}

    def holder(self) -> dict[str, Any] | None:
        """The current claim's owner, or None when unclaimed."""
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def is_live(self, owner: dict[str, Any] | None) -> bool:
        """Whether a claim held by ``owner`` still belongs to a working process."""
        if owner is None:
            return False
        if owner.get("host") == self.owner["host"]:
            return _pid_alive(int(owner.get("pid", -1)))
        try:
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return False
        return age < self.stale_seconds

    def try_acquire(self) -> bool:
        """Take the claim if it is free or stale; never blocks for long."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.folder / ".claim.lock"), timeout=60):
            owner = self.holder()
            if self.path.exists() and self.is_live(owner):
                return False
            if owner is not None:
                log.warning("taking over %s from a dead worker %s", self.folder, owner)
            self.path.unlink(missing_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            with os.fdopen(fd, "w") as f:
                json.dump(self.owner, f)
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name="claim-heartbeat", daemon=True)
        self._thread.start()
        return True

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                os.utime(self.path)
            except FileNotFoundError:
                return

    def release(self) -> None:
        """Stop the heartbeat and remove the claim, if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.holder() == self.owner:
            self.path.unlink(missing_ok=True)


def reuse_or_claim(
    folder: Path, outcome_path: Path, train: Callable[[], T], d: Dist, label: str = ""
) -> tuple[T | None, bool]:
    """The training in ``folder``: ``(None, True)`` when another point already finished it
    (read ``outcome_path``), else ``(train(), False)`` once this worker holds the claim.

    Rank 0 decides for every rank of a DDP job; while another live worker
    holds the claim, this one waits for it to finish or die.
    """
    claim = Claim(folder)
    waited = False
    while True:
        decision = None
        if d.is_main:
            if outcome_path.exists():
                decision = "reuse"
            elif claim.try_acquire():
                decision = "train"
                if outcome_path.exists():  # finished between the check and the claim
                    claim.release()
                    decision = "reuse"
            else:
                decision = "wait"
        decision = broadcast(decision, d)
        if decision == "reuse":
            return None, True
        if decision == "train":
            try:
                return train(), False
            finally:
                if d.is_main:
                    claim.release()
        if not waited:
            log.info(
                "%s waiting: another worker is training this point (%s)", label, claim.holder()
            )
            waited = True
        time.sleep(2.0)
