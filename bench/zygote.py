"""A zygote: a process that imported the job's modules once and forks a fresh child per job.

Why not ``multiprocessing``: its children are prepared from their parent's
state, and inside a launcher's worker that state is the launcher's (a loky
worker's start method is ``"loky"``, which a child cannot set; the parent's
``__main__`` is re-run in the child). A zygote hands over exactly one
pickled :class:`bench.supervise.Handoff` and nothing else.

Why not a fresh interpreter per job: importing torch, timm and scalebench
takes seconds. The zygote pays that once per job process, and never runs
torch itself (CUDA and OpenMP start only in the forked child), so forking it
is safe.

Protocol, one job at a time (a job process runs one job at a time): the job
process writes a length-prefixed pickle on the request pipe; the zygote forks,
answers ``pid N``, waits, and answers ``exit CODE`` (negative: the signal that
killed it). When the job process dies, the request pipe reaches end of file
and the zygote exits, so its child is reparented, notices, and stops
(:func:`bench.supervise.watch_supervisor`).
"""

from __future__ import annotations

import importlib
import os
import select
import signal
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

IGNORED = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2, signal.SIGINT)
POLL_SECONDS = 0.2


class Zygote:
    """The job process's side: start the zygote, start a child, wait for its exit code."""

    def __init__(self, child: str, modules: tuple[str, ...]) -> None:
        """``child`` ("module:function") runs in each forked child with the request's bytes."""
        requests_r, self.requests = os.pipe()
        replies_r, replies_w = os.pipe()
        names = ",".join(modules)
        command = [
            sys.executable, "-m", "bench.zygote", child, names, str(requests_r), str(replies_w)
        ]  # fmt: skip
        path = os.pathsep.join(p for p in sys.path if p)  # finds what this process finds
        with deaf():
            self.process = subprocess.Popen(
                command,
                pass_fds=(requests_r, replies_w),
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": path},
            )
        os.close(requests_r)
        os.close(replies_w)
        self.replies = os.fdopen(replies_r, "rb")

    def alive(self) -> bool:
        """Whether the zygote still serves."""
        return self.process.poll() is None

    def start(self, payload: bytes) -> int | None:
        """Fork a child running ``payload``; its pid, or None if the zygote is gone."""
        try:
            os.write(self.requests, struct.pack("!Q", len(payload)) + payload)
        except BrokenPipeError:
            return None
        return self._expect("pid")

    def wait(self) -> int | None:
        """The child's exit code (negative: killed by that signal); None if the zygote died."""
        return self._expect("exit")

    def _expect(self, word: str) -> int | None:
        line = self.replies.readline().split()
        if len(line) != 2 or line[0].decode() != word:
            return None
        return int(line[1])


@contextmanager
def deaf() -> Iterator[None]:
    """Start a process that ignores the signals meant for its parent.

    SLURM signals every process of a job step (USR2 before the time limit,
    TERM on preemption); the job process handles them, and a zygote killed
    by them would orphan its child. An ignored signal stays ignored across
    exec; the signals are blocked meanwhile, so none meant for the job
    process is lost.
    """
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, IGNORED)
    try:
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in IGNORED}
    except ValueError:  # not the main thread: the zygote ignores them from its first line
        previous = {}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


# ----------------------------------------------------------------------------- in the zygote
def serve(child: str, modules: list[str], requests: int, replies: int) -> None:
    """Import ``modules``, then fork one ``child`` per request until the job process goes."""
    for sig in IGNORED:
        signal.signal(sig, signal.SIG_IGN)
    for name in modules:
        importlib.import_module(name)
    module, _, function = child.partition(":")
    child_main = getattr(importlib.import_module(module), function)

    while (payload := read_message(requests)) is not None:
        pid = os.fork()
        if pid == 0:
            os.close(requests)
            os.close(replies)
            child_main(payload)  # never returns
        os.write(replies, f"pid {pid}\n".encode())
        code = wait_for(pid, requests)
        if code is None:  # the job process died: leave at once, so the child notices
            os._exit(0)
        os.write(replies, f"exit {code}\n".encode())


def read_message(fd: int) -> bytes | None:
    """One length-prefixed message, or None at end of file."""
    head = read_exactly(fd, 8)
    return None if head is None else read_exactly(fd, struct.unpack("!Q", head)[0])


def read_exactly(fd: int, size: int) -> bytes | None:
    """``size`` bytes from ``fd``, or None when it ends first."""
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def wait_for(pid: int, requests: int) -> int | None:
    """The child's exit code; None as soon as the job process is gone (end of its pipe)."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        readable, _, _ = select.select([requests], [], [], POLL_SECONDS)
        if readable and not os.read(requests, 1):
            return None


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), int(sys.argv[4]))
