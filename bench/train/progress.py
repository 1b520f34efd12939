"""Progress of a long job: periodic lines with the point's position in its sweep, rate and ETA.

Lines go through ``logging`` so Hydra sends them both to the console and to
the job's log file, and they stay readable in SLURM logs where a redrawn bar
would not.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from bench.config.compose import hydra_job
from bench.scaling.budget import Budget
from bench.schema import Run
from bench.store import point_name, read_json_or_none, sweep_dir

log = logging.getLogger("bench.progress")


def _eta(seconds: float) -> str:
    return str(timedelta(seconds=int(max(0.0, seconds))))


class Progress:
    """Throttled progress lines for one point (``label`` says which, e.g. "[3/9 depth phi=1]")."""

    def __init__(self, label: str, every_seconds: float = 10.0, enabled: bool = True) -> None:
        self.label = label
        self.every = float(every_seconds)
        self.enabled = enabled
        self._last: float | None = None  # the first line always shows
        self._budget: Budget | None = None

    def start(self, budget: Budget, step: int) -> None:
        """Announce the budget; ``step`` > 0 means the point resumed."""
        self._budget = budget
        self._t0 = time.perf_counter()
        self._step0 = step
        if self.enabled:
            resumed = f", resuming at step {step}" if step else ""
            log.info(
                "%s training %d steps of %d images (%.2f epochs, %.3g training FLOPs)%s",
                self.label,
                budget.steps,
                budget.batch_size,
                budget.epochs,
                budget.train_flops,
                resumed,
            )

    def update(self, step: int, epoch: int, loss: float, images_per_sec: float) -> None:
        """A line with epoch, step, loss, images/s and ETA, at most every ``every`` seconds."""
        now = time.perf_counter()
        budget = self._budget
        if not self.enabled or budget is None:
            return
        if self._last is not None and now - self._last < self.every and step != budget.steps:
            return
        self._last = now
        done = step - self._step0
        rate_steps = done / max(now - self._t0, 1e-9)
        eta = (budget.steps - step) / rate_steps if rate_steps else 0.0
        log.info(
            "%s epoch %.2f/%.2f  step %d/%d (%.0f%%)  loss %.4f  %.0f img/s  ETA %s",
            self.label,
            budget.epochs_at(step),
            budget.epochs,
            step,
            budget.steps,
            100.0 * step / budget.steps,
            loss,
            images_per_sec,
            _eta(eta),
        )

    def evaluated(self, epoch: float, top1: float | None, top5: float | None) -> None:
        """A line with the held-out accuracy after an evaluation."""
        if self.enabled and top1 is not None:
            log.info(
                "%s eval after epoch %.2f: top-1 %.2f%%  top-5 %.2f%%",
                self.label,
                epoch,
                100 * top1,
                100 * (top5 or 0),
            )

    def finish(self) -> None:
        """A closing line with the wall time spent."""
        if self.enabled and self._budget is not None:
            log.info("%s done in %s", self.label, _eta(time.perf_counter() - self._t0))


def label(config: Run) -> str:
    """``[k/n depth phi=1 seed=0]``: the point and, in a sweep, its place in it."""
    multirun, num = hydra_job()
    where = ""
    if multirun:
        manifest = read_json_or_none(sweep_dir(config.runs_dir, config.sweep) / "sweep.json")
        name = point_name(config.strategy.name, config.phi, config.seed)
        where = place(manifest or {}, name, num)
    return f"[{where}{config.strategy.name} phi={config.phi:g} seed={config.seed}]"


def place(manifest: dict, name: str, num: int | None) -> str:
    """``"k/n "``: point ``name`` among its sweep's points and those its rounds added.

    Counted by name, not by Hydra's job number, which runs over every folder of
    a multirun over the budget and starts again at 0 for each round of seeds.
    A sweep.json written before it listed its points falls back to the number.
    """
    names = list(manifest.get("points", []))
    names += [n for r in manifest.get("rounds", []) for n in r.get("added", [])]
    if name in names:
        return f"{names.index(name) + 1}/{len(names)} "
    if num is None:
        return ""
    total = manifest.get("jobs")
    return f"{num + 1}/{total} " if total else f"{num + 1} "
