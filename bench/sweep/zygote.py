"""A warm process that starts each job's training by forking: ``python -m bench.sweep.zygote``.

Why: a fresh ``python -m bench.sweep.child`` spends seconds importing torch,
torchvision (which imports torch's compiler stack), timm and ptflops before it
trains, and a sweep starts one per point. The zygote imports them once per job
process and forks a training process for each job, which then starts in
milliseconds. It never runs a tensor operation itself: GNU OpenMP's thread pool
does not survive a fork, so a process forked after its parent computed on the
CPU hangs at its first parallel operation. That is also why the job process
(whose sweep may have drawn figures or counted MACs on the CPU) does not fork
its trainings itself.

The training process must still be the job process's own child: the
supervisor waits for it and reads its exit status, and the child watches its
parent to stop when the supervisor dies. So the zygote forks twice and the
middle process exits at once; Linux hands the orphaned training process to the
nearest ancestor marked a *child subreaper*, which the supervisor makes itself
before it starts the zygote. Where that is not available (not Linux) the
supervisor starts each child fresh, as before.

Protocol: the supervisor writes one JSON line per job (``handoff``: the path of
the handoff file; ``env``: the environment the child would have had) to the
zygote's request pipe and reads back one line, the training process's pid.
The zygote ignores the signals its supervisor handles (it was started like a
child) and dies with its supervisor.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from typing import IO, NoReturn

log = logging.getLogger("bench.run")

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
# A point's imports, and what it imports where it is used: the default data's loader, the
# built-in families' networks (a family module imports them only to build) and the binomial test.
PRELOAD = (
    "torch",
    "bench.train.point",
    "bench.sweep.child",
    "bench.data.shapes",
    "bench.models.vgg_network",
    "bench.models.timm_private",
    "scipy.special",
)
REPARENT_SECONDS = 10.0  # how long a new training process waits to become its supervisor's


def prctl(option: int, value: int) -> bool:
    """Linux's prctl(2); False where there is none or it refused."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def main(requests: int, replies: int, supervisor: int) -> NoReturn:
    """Import what a training needs, then fork one training process per request line."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != supervisor:  # it died while this process started
        os._exit(1)
    for name in PRELOAD:
        importlib.import_module(name)
    with os.fdopen(requests, "r") as lines, os.fdopen(replies, "w") as out:
        for line in lines:
            out.write(f"{start(json.loads(line), supervisor, lines.fileno(), out.fileno())}\n")
            out.flush()
    os._exit(0)


def start(request: dict, supervisor: int, *pipes: int) -> int:
    """Fork the training process through a middle process that exits: its pid."""
    inner, outer = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.close(inner)
        pid = os.fork()
        if pid == 0:
            os.close(outer)
            train(request, supervisor, pipes)
        os.write(outer, f"{pid}\n".encode())
        os._exit(0)
    os.close(outer)
    with os.fdopen(inner) as said:
        pid = int(said.read().strip() or -1)
    os.waitpid(middle, 0)
    return pid


def train(request: dict, supervisor: int, pipes: tuple[int, ...]) -> NoReturn:
    """The training process: once it is its supervisor's child, run the job as
    ``python -m bench.sweep.child`` would, in the environment the supervisor gave it."""
    for fd in pipes:
        os.close(fd)
    deadline = time.monotonic() + REPARENT_SECONDS
    while os.getppid() != supervisor:
        if time.monotonic() > deadline:
            os._exit(1)
        time.sleep(0.001)
    os.environ.clear()
    os.environ.update(request["env"])
    from bench.sweep import child

    child.main(request["handoff"])


class Zygote:
    """The supervisor's side: a started zygote and the pipes to it."""

    def __init__(self, env: dict[str, str]) -> None:
        asked, requests = os.pipe()
        replies, answered = os.pipe()
        command = [sys.executable, "-m", "bench.sweep.zygote", str(asked), str(answered),
                   str(os.getpid())]  # fmt: skip
        try:
            self.process = subprocess.Popen(command, env=env, pass_fds=(asked, answered))
        finally:
            os.close(asked)
            os.close(answered)
        self.requests: IO[str] = os.fdopen(requests, "w")
        self.replies: IO[str] = os.fdopen(replies, "r")
        self.outputs = outputs()

    def fork(self, handoff: str, env: dict[str, str]) -> int:
        """Start the training process for ``handoff``: its pid (this process's child)."""
        self.requests.write(json.dumps({"handoff": handoff, "env": env}) + "\n")
        self.requests.flush()
        line = self.replies.readline()
        if not line.strip() or int(line) <= 0:
            raise OSError("the zygote did not start the training process")
        return int(line)

    def close(self) -> None:
        """Let the zygote go (it exits when its request pipe closes)."""
        for pipe in (self.requests, self.replies):
            with suppress(OSError):
                pipe.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Forked:
    """A training process started by the zygote, waited for like a ``subprocess.Popen``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def wait(self, timeout: float | None = None) -> int:
        """Its exit code (negative: the signal that killed it), as Popen's."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, 0 if deadline is None else os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
            elif deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0.0)
            else:
                time.sleep(0.05)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_zygotes: dict[int, Zygote] = {}  # by the pid of the process that started it


def outputs() -> tuple[tuple[int, int], ...]:
    """What this process's stdout and stderr are (a zygote writes where it was started)."""
    return tuple((os.fstat(fd).st_dev, os.fstat(fd).st_ino) for fd in (1, 2))


def fork_child(handoff: str, env: dict[str, str]) -> Forked | None:
    """The training process for ``handoff`` forked by this process's zygote (started on
    first use, and again when it died or the process's output moved); None where there
    can be no zygote, and the caller starts a fresh interpreter instead."""
    zygote = _zygotes.get(os.getpid())
    try:
        if zygote is not None and (
            zygote.process.poll() is not None or zygote.outputs != outputs()
        ):
            _zygotes.pop(os.getpid()).close()
            zygote = None
        if zygote is None:
            if not prctl(PR_SET_CHILD_SUBREAPER, 1):
                return None
            zygote = _zygotes[os.getpid()] = Zygote(env)
        return Forked(zygote.fork(handoff, env))
    except (OSError, ValueError) as exc:
        log.warning("starting the training from a fresh interpreter (the zygote failed: %s)", exc)
        if zygote is not None:
            _zygotes.pop(os.getpid(), None)
            zygote.close()
        return None


def release() -> None:
    """Let this process's zygote go and stop adopting orphans: for a long-lived process
    (a notebook, a test session) that ran jobs and goes on without them."""
    zygote = _zygotes.pop(os.getpid(), None)
    if zygote is not None:
        zygote.close()
    prctl(PR_SET_CHILD_SUBREAPER, 0)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
