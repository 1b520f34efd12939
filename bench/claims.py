"""Claims: at most one worker trains a point, and a dead worker's point is taken over.

A claim is ``claim.json`` in the point's training folder. It names its owner
beyond host name and PID: a random token, the boot id and PID namespace of
its machine, and the process's start time (``/proc/<pid>/stat``), so that
containers sharing a host name, or a PID reused after a reboot or an exit,
are never mistaken for the owner. The owner's heartbeat thread rewrites the
claim every few seconds with a counter (``beat``) that only it increases.

Another worker decides whether the owner still lives:

- on the same machine (same boot id and PID namespace), by the owner's
  process: it exists with the same start time;
- anywhere else, by the heartbeat's content: a claim whose ``beat`` has not
  changed for ``stale_seconds`` of the *observer's* monotonic clock is stale.
  File mtimes and wall clocks are never compared, so clock skew between
  hosts cannot hand over a live claim.

Checking, taking, beating and releasing happen under a short file lock. The
owner re-checks that the claim is still its own (:meth:`Claim.assert_holds`)
before it writes a checkpoint or an outcome, and stops with
:class:`ClaimLost` if another worker took over. A wait for a live owner says
whom it waits for and ends when the owner finishes, dies, stops beating, or
after ``max_wait`` seconds when one is given.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout

from bench.errors import UserError
from bench.hardware.distributed import Dist, broadcast
from bench.store import atomic_write_json, read_json_or_none

log = logging.getLogger(__name__)
T = TypeVar("T")
Guard = Callable[[], None]


class ClaimLost(RuntimeError):
    """Another worker took over this worker's claim: stop without writing anything more."""


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def start_ticks(pid: int) -> int | None:
    """A process's start time in clock ticks since boot (None when it does not exist)."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    return int(stat.rpartition(")")[2].split()[19])  # field 22 of proc(5)


def machine() -> dict[str, Any]:
    """What tells this machine and PID namespace apart from others with the same host name."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = None
    return {"host": socket.gethostname(), "boot": _read("/proc/sys/kernel/random/boot_id"),
            "pid_ns": namespace}  # fmt: skip


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
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: dict[str, tuple[Any, float]] = {}  # token -> (beat, when it was first seen)
        pid = os.getpid()
        self.owner = {**machine(), "pid": pid, "start_ticks": start_ticks(pid),
                      "token": secrets.token_hex(16), "started": time.time()}  # fmt: skip

    def _lock(self, timeout: float = 60) -> FileLock:
        return FileLock(str(self.folder / ".claim.lock"), timeout=timeout)

    def holder(self) -> dict[str, Any] | None:
        """The current claim (its owner and heartbeat), or None when unclaimed."""
        return read_json_or_none(self.path)

    def ours(self, claim: dict[str, Any] | None) -> bool:
        """Whether ``claim`` is this object's."""
        return bool(claim) and claim.get("token") == self.owner["token"]

    def is_live(self, claim: dict[str, Any] | None) -> bool:
        """Whether ``claim`` still belongs to a working process (see the module's rules)."""
        if claim is None:
            return False
        mine = self.owner
        if mine["boot"] and all(claim.get(k) == mine[k] for k in ("host", "boot", "pid_ns")):
            pid = int(claim.get("pid", -1))
            if claim.get("start_ticks") is None or mine["start_ticks"] is None:
                return _pid_alive(pid)
            return start_ticks(pid) == claim["start_ticks"]
        return self._beating(claim)

    def _beating(self, claim: dict[str, Any]) -> bool:
        """Whether the claim's heartbeat counter changed within ``stale_seconds`` of watching."""
        token, beat, now = str(claim.get("token")), claim.get("beat"), time.monotonic()
        seen = self._seen.get(token)
        if seen is None or seen[0] != beat:
            self._seen[token] = (beat, now)
            return True
        return now - seen[1] < self.stale_seconds

    def try_acquire(self) -> bool:
        """Take the claim if it is free or stale; never blocks for long."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock():
            claim = self.holder()
            if self.path.exists() and self.is_live(claim):
                return False
            if claim is not None:
                log.warning("taking over %s from a dead worker %s", self.folder, describe(claim))
            atomic_write_json(self.path, {**self.owner, "beat": 0})
        self.lost = False
        self._stop.clear()
        self._thread = threading.Thread(target=self._beat, name="claim-heartbeat", daemon=True)
        self._thread.start()
        return True

    def _beat(self) -> None:
        beat = 0
        while not self._stop.wait(self.heartbeat_seconds):
            try:
                with self._lock(timeout=self.heartbeat_seconds):
                    if not self.ours(self.holder()):
                        self.lost = True
                        return
                    beat += 1
                    atomic_write_json(self.path, {**self.owner, "beat": beat})
            except (Timeout, OSError):
                continue  # a busy lock or a full disk: try again at the next beat

    def assert_holds(self) -> None:
        """Raise :class:`ClaimLost` unless the claim is still this worker's (call before writes)."""
        claim = self.holder()
        if self.lost or not self.ours(claim):
            self.lost = True
            raise ClaimLost(
                f"{self.folder}: another worker ({describe(claim)}) took over this training; "
                "stopping without writing"
            )

    def release(self) -> None:
        """Stop the heartbeat and remove the claim, if it is still ours."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock():
            if self.ours(self.holder()):
                self.path.unlink(missing_ok=True)


def describe(claim: dict[str, Any] | None) -> str:
    """``host pid 123 (heartbeat 7)``: whom a claim names, in words."""
    if not claim:
        return "nobody"
    return f"{claim.get('host')} pid {claim.get('pid')} (heartbeat {claim.get('beat')})"


def reuse_or_claim(
    folder: Path,
    outcome_path: Path,
    train: Callable[[Guard], T],
    d: Dist,
    label: str = "",
    max_wait: float | None = None,
) -> tuple[T | None, bool]:
    """The training in ``folder``: ``(None, True)`` when another point already finished it
    (read ``outcome_path``), else ``(train(guard), False)`` once this worker holds the claim;
    ``guard()`` raises :class:`ClaimLost` when the claim is no longer ours.

    Rank 0 decides for every rank of a DDP job; while another live worker
    holds the claim, this one waits for it to finish or die, at most
    ``max_wait`` seconds when given (then a UserError names the owner).
    """
    claim = Claim(folder)
    waiting_for, since = None, time.monotonic()
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
            guard = claim.assert_holds if d.is_main else (lambda: None)
            try:
                return train(guard), False
            finally:
                if d.is_main:
                    claim.release()
        holder = claim.holder() if d.is_main else None
        if max_wait is not None and time.monotonic() - since > max_wait:
            raise UserError(f"{label} gave up after {max_wait:g} s waiting for {describe(holder)}")
        if d.is_main and (holder or {}).get("token") != waiting_for:
            waiting_for = (holder or {}).get("token")
            log.info("%s waiting for %s, which trains this point; it is taken over if that "
                     "process ends or its heartbeat stops for %g s", label, describe(holder),
                     claim.stale_seconds)  # fmt: skip
        time.sleep(2.0)
