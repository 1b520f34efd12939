"""Offline W&B runs that a killed point leaves behind, and the locks that tell them apart.

wandb 0.31 cannot resume an offline run in place: a point killed and run
again writes its resumed part to ``offline-run-<new time>-<same id>``, and
``wandb sync`` uploads the folders of one id in start order. What a SIGKILL
leaves depends on what wandb-core had flushed: often the ``.wandb`` file's
7-byte header only, and ``wandb sync`` stops on such a file ("error getting
next record: EOF") without uploading anything. So a run, before it starts,
removes the header-only folders that no live run owns; each open run holds an
``flock`` on ``wandb/.locks/<id>.<unique>.lock``, which the kernel drops when
its process dies (two shells on one sweep are a supported setup).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import threading
import time
from pathlib import Path

log = logging.getLogger("bench.tracking")

LOG_HEADER_BYTES = 7  # ":W&B" + 2-byte magic + 1-byte version: a .wandb file with no record
LOCKS = ".locks"  # under <sweep>/wandb: one flock per open run id
FLUSH_SECONDS = 120.0  # longest wait for wandb-core to write a finished run's log


def hold_lock(locks: Path, run_id: str) -> tuple[int, Path] | None:
    """Take a fresh ``flock``ed file ``<locks>/<run_id>.<unique>.lock`` for an open run.

    The file is locked under a hidden name and renamed into place, so no
    other process ever sees it unlocked. None where ``flock`` is unavailable
    (Windows, a filesystem without locks): then nothing is ever removed.
    """
    try:
        import fcntl

        locks.mkdir(parents=True, exist_ok=True)
        unique = f"{os.getpid()}.{secrets.token_hex(4)}"
        hidden = locks / f".{run_id}.{unique}.tmp"
        fd = os.open(hidden, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    except (ImportError, OSError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path = locks / f"{run_id}.{unique}.lock"
        os.replace(hidden, path)
    except OSError:
        os.close(fd)
        hidden.unlink(missing_ok=True)
        return None
    return fd, path


def release_lock(held: tuple[int, Path] | None) -> None:
    """Drop a lock from :func:`hold_lock` and its file."""
    if held is not None:
        try:
            held[1].unlink(missing_ok=True)
        finally:
            os.close(held[0])


def _remove_if_free(path: Path) -> None:
    """Remove a lock file no live run holds (its run died, or exited before its release)."""

    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path.unlink(missing_ok=True)
    except OSError:
        pass  # held: a live run's
    finally:
        os.close(fd)


def _empty(folder: Path) -> bool:
    """Whether an offline run folder's ``.wandb`` log holds no record (or is missing)."""
    try:
        return all(p.stat().st_size <= LOG_HEADER_BYTES for p in folder.glob("run-*.wandb"))
    except OSError:  # gone, or unreadable: nothing to decide on
        return False


def release_when_written(held: tuple[int, Path] | None, run_dir: Path | None) -> None:
    """Release a run's lock once its ``.wandb`` log has records on disk.

    ``run.finish()`` returns before wandb-core has written an offline run's
    log (seconds, under load); until then the folder looks like a killed
    run's, so the lock stays held, from a background thread, for at most
    :data:`FLUSH_SECONDS`.
    """
    if held is None or run_dir is None or not _empty(run_dir):
        release_lock(held)
        return

    def wait() -> None:
        deadline = time.monotonic() + FLUSH_SECONDS
        while _empty(run_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(OSError):
            release_lock(held)

    threading.Thread(target=wait, name="wandb-flush-wait", daemon=True).start()


def remove_orphans(wandb_dir: Path, mine: Path | None = None) -> list[Path]:
    """Remove offline run folders that hold nothing to upload and no live run owns.

    Such a folder is what a killed run leaves (see the module doc); left
    there, it stops ``wandb sync`` for the whole sweep. ``mine`` is the
    caller's own lock file (it may hold a killed fragment's id). Call it only
    after :func:`hold_lock` succeeded: that proves ``flock`` works here, so a
    live run's lock is visible. Returns the folders removed.
    """
    removed, locks = [], Path(wandb_dir) / LOCKS
    try:
        folders = sorted(Path(wandb_dir).glob("offline-run-*"))
        for path in locks.glob("*.lock"):  # after listing folders: a live run's lock is older
            if path != mine:
                _remove_if_free(path)
        for folder in folders:
            run_id = folder.name.split("-", 2)[-1].split("-", 1)[-1]  # offline-run-<time>-<id>
            if any(p != mine for p in locks.glob(f"{run_id}.*.lock")) or not _empty(folder):
                continue  # a live run's (its log is still in wandb-core's buffer), or has records
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            log.info("removed %s: an interrupted W&B run with nothing to upload", folder)
    except OSError as exc:  # tidying must not cost the run its logging
        log.warning("W&B: could not tidy %s: %s", wandb_dir, exc)
    return removed
