"""A sweep that survives a dead job: launch, tell the dead from the collateral, relaunch, record.

Training runs in a child its job process watches (:mod:`bench.sweep.supervise`),
so a killed training process is recorded by its job, which returns
normally. What is left is a job whose own process died: SLURM ending the
job (a time limit past ``max_num_timeout`` requeues, preemption without a
requeue, ``scancel``), the out-of-memory killer taking the job process, or
someone killing it. After each launch every job is one of:

- *done*: its job process returned (the ledger says ``returned``), whatever
  result it recorded;
- *dead*: its own process died. Known from the child that outlived it (the
  ledger says ``orphaned``), or from a launcher that reports each job apart
  (submitit: that job's ``UncompletedJobError`` or ``FailedJobError``; the
  basic launcher: the exception of that job). It gets a ``failed``
  result.json whose reason says that the process died and what the launcher
  reported;
- *lost*: killed with the rest of a broken batch or never started. With
  joblib, a dead worker breaks loky's executor: loky fails every pending job
  with ``TerminatedWorkerError`` and SIGKILLs the other workers together
  with their process trees, children first, so their training children die
  before they could notice anything (the dead worker's child, reparented,
  does notice). Lost jobs are launched again, at most :data:`RELAUNCHES`
  times, and resume from their checkpoints; one still lost after that is
  recorded ``failed`` with the launcher's report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from bench.sweep.ledger import Ledger

log = logging.getLogger("bench.sweep")

RELAUNCHES = 2
SETTLE_SECONDS = 3.0  # after a job died, time for its orphaned training to say so

# launch(overrides of consecutive jobs, number of the first, ledger folder) -> per job, what it
# returned or the exception it ended with; raises when the launcher fails the whole batch
Launch = Callable[[list[list[str]], int, Path], Sequence[Any]]
Record = Callable[[list[str], str], None]  # record(job's overrides, reason): a failed result
MISSING = object()  # no outcome: the launcher failed the job's batch as a whole


def run_jobs(jobs: list[list[str]], launch: Launch, ledgers: Path, record: Record) -> list[Any]:
    """Launch every job until each is done or dead; return what the jobs returned, in order."""
    pending = list(range(len(jobs)))
    returned: dict[int, Any] = {}
    report = "the launcher gave no report"
    for attempt in range(RELAUNCHES + 1):
        ledger = Ledger(ledgers / f"launch{attempt}")
        assert ledger.folder is not None
        outcomes, broken, report = launch_groups(jobs, pending, launch, ledger.folder, report)
        silent = [n for n in pending
                  if isinstance(outcomes.get(n), BaseException) and not ledger.read(n)]  # fmt: skip
        if broken or silent:  # a dead job's child notices within a fraction of a second,
            time.sleep(SETTLE_SECONDS)  # and a launcher may report the death before that
        lost = []
        for num in pending:
            verdict, reason = judge(ledger.read(num), outcomes.get(num, MISSING), report)
            if verdict == "done":
                returned[num] = outcomes.get(num)
            elif verdict == "dead":
                record(jobs[num], reason)
            else:
                lost.append(num)
        pending = lost
        if not pending:
            break
        if attempt < RELAUNCHES:
            log.warning("relaunching %d job(s) lost with a dead one: %s", len(lost), report)
    for num in pending:
        record(jobs[num], f"the process died: {report} (still lost after {RELAUNCHES} relaunches)")
    return [returned.get(num) for num in range(len(jobs))]


def launch_groups(
    jobs: list[list[str]], pending: list[int], launch: Launch, ledger: Path, report: str
) -> tuple[dict[int, Any], bool, str]:
    """Launch ``pending`` in runs of consecutive job numbers (a job keeps its number).

    Returns each job's outcome (what it returned, or its exception), whether
    the launcher failed a batch as a whole, and its report.
    """
    outcomes: dict[int, Any] = {}
    broken = False
    runs = groupby(enumerate(pending), key=lambda pair: pair[1] - pair[0])
    for _, run in runs:
        nums = [num for _, num in run]
        try:
            returned = launch([jobs[n] for n in nums], nums[0], ledger)
            outcomes.update(zip(nums, returned, strict=True))
        except Exception as exc:  # a broken batch: its jobs are judged from the ledger
            broken, report = True, summary(exc)
            log.error("the launcher failed %d job(s): %s", len(nums), report)
    return outcomes, broken, report


def judge(facts: dict[str, Any], outcome: Any, report: str) -> tuple[str, str]:
    """("done" | "dead" | "lost", reason) for one job after a launch."""
    if facts.get("returned"):
        return "done", ""
    own = summary(outcome) if isinstance(outcome, BaseException) else None
    if facts.get("orphaned"):
        said = own or report
        return "dead", f"the process died: {facts['orphaned']}; the launcher reported {said}"
    if own is not None:
        return "dead", f"the process died: the launcher reported {own}"
    if outcome is not MISSING:
        return "done", ""  # returned, from a job that ran unsupervised
    return "lost", ""


def summary(exc: BaseException) -> str:
    """A launcher's exception on one line: its type, and the line that says what happened.

    submitit's ``FailedJobError`` holds the job's traceback (its last line is
    the error); ``UncompletedJobError`` and loky's ``TerminatedWorkerError``
    say it in their first lines (the job's state; the workers' exit codes).
    """
    text = str(exc)
    parts = text.split("-" * 22)
    if "with trace:" in parts[0] and len(parts) > 2:
        lines = [line for line in parts[1].splitlines() if line.strip()]
        text = f"{parts[0].strip()} {lines[-1] if lines else ''}"
    else:
        lines = [line for line in text.splitlines() if line.strip()]
        text = " ".join(lines[:2] + [line for line in lines[2:] if "exit codes" in line])
    return f"{type(exc).__name__}: {' '.join(text.split())[:600]}"
