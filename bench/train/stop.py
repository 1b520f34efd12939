"""A request to checkpoint and stop, sent to the training process by a signal.

A job that SLURM signals before its time limit (SIGUSR2), preempts
(SIGTERM) or that the user interrupts is requeued or ends, and the work done
since the last checkpoint would be lost. The job process asks its training
child with :data:`CHECKPOINT_SIGNAL` (:func:`bench.sweep.supervise.run_child`);
a single run, which has no job process, takes SIGTERM and SIGUSR2 itself.
The handler only sets a flag: the loop (:mod:`bench.train.loop`) looks at it
between steps, writes a checkpoint and raises :class:`Stopped`. Kept free of
torch so that the job process can import it.
"""

from __future__ import annotations

import signal
import threading

CHECKPOINT_SIGNAL = signal.SIGRTMIN + 1  # a real-time signal: no library takes it for itself
requested = threading.Event()


class Stopped(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error of the point
    """Training stopped on request after writing a checkpoint; a rerun resumes from it.

    A BaseException, so that the pipeline's ``except Exception`` does not
    record the point as failed.
    """

    def __init__(self, step: int) -> None:
        super().__init__(f"stopped on request at step {step}, after a checkpoint")
        self.step = step


def listen(*signals: int) -> None:
    """Turn each of ``signals`` (and :data:`CHECKPOINT_SIGNAL`) into a stop request."""
    for sig in (CHECKPOINT_SIGNAL, *signals):
        signal.signal(sig, lambda signum, frame: requested.set())
