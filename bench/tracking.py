"""Weights & Biases tracking that is never in the way.

Every point is one W&B run (``group`` = the sweep, ``job_type`` = the
strategy, tags for model, data, budget and phi), written under the sweep
folder so ``wandb sync runs/<sweep>/wandb`` finds it later. The mode is
chosen before ``wandb.init`` (``logger.mode``, which the ``WANDB_MODE``
environment variable overrides): ``offline`` never touches the network,
``disabled`` does nothing. Any W&B error (no network, a bad key, a broken
install) prints one warning and the point goes on with logging off.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.errors import UserError
from bench.schema import Logger

log = logging.getLogger(__name__)

MODES = ("offline", "online", "disabled")


def resolve_mode(logger: Logger) -> str:
    """The W&B mode to use: the ``WANDB_MODE`` environment variable wins over ``logger.mode``."""
    env = os.environ.get("WANDB_MODE")
    if not env:
        return logger.mode
    mode = "offline" if env.lower() == "dryrun" else env.lower()
    if mode not in MODES:
        raise UserError(f"WANDB_MODE={env!r} must be one of {', '.join(MODES)}")
    return mode


def warm_up(logger: Logger) -> threading.Thread | None:
    """Start W&B's service process and imports in the background; returns the thread.

    The first ``wandb.init`` of a process spends a noticeable part of a
    second starting the service and importing ``wandb.sdk.launch``; a job
    starts this before loading its data, so that time overlaps with work that
    runs in C (BENCHMARKS.md has the figures).
    Nothing here logs, and a failure is left for ``wandb.init`` to report.
    """
    if resolve_mode(logger) == "disabled":
        return None

    def warm() -> None:
        try:
            import wandb

            wandb.setup()
            importlib.import_module("wandb.sdk.launch.inputs.internal")  # what init imports
        except Exception:
            pass

    thread = threading.Thread(target=warm, name="wandb-warm-up", daemon=True)
    thread.start()
    return thread


class Tracker:
    """One W&B run; every call is safe to make when W&B is off or has failed."""

    def __init__(
        self,
        logger: Logger,
        *,
        directory: Path,
        name: str,
        group: str,
        job_type: str,
        tags: list[str],
        config: dict[str, Any],
        enabled: bool = True,
    ) -> None:
        self.run = None
        self.mode = resolve_mode(logger)
        if not enabled or self.mode == "disabled":
            return
        try:
            import wandb

            directory = Path(directory)
            directory.mkdir(parents=True, exist_ok=True)
            settings = wandb.Settings(
                init_timeout=logger.init_timeout,
                console="off",
                silent=True,
                x_disable_stats=True,
                disable_git=True,
                save_code=False,
                x_save_requirements=False,
            )
            self.run = wandb.init(
                project=logger.project,
                entity=logger.entity,
                group=group,
                job_type=job_type,
                name=name,
                tags=[str(t) for t in [*tags, *logger.tags]][:64],
                config=config,
                dir=str(directory),
                mode=self.mode,
                settings=settings,
                reinit="finish_previous",
            )
        except Exception as exc:  # W&B must never stop training
            self._disable(f"could not start a W&B run ({type(exc).__name__}: {exc})")

    @property
    def active(self) -> bool:
        """Whether this tracker is logging."""
        return self.run is not None

    @property
    def run_dir(self) -> Path | None:
        """Folder of this run's files (offline runs: what ``wandb sync`` uploads)."""
        return Path(self.run.dir).parent if self.run is not None else None

    def _disable(self, why: str) -> None:
        log.warning("W&B logging is off for this run: %s", " ".join(why.split()))
        self.run = None

    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        """Log metrics at ``step``."""
        if self.run is None:
            return
        try:
            self.run.log(dict(data), step=step)
        except Exception as exc:
            self._disable(f"log failed ({type(exc).__name__}: {exc})")

    def summary(self, data: Mapping[str, Any]) -> None:
        """Set the run's summary (what W&B tables and filters show)."""
        if self.run is None:
            return
        try:
            for key, value in data.items():
                self.run.summary[key] = value
        except Exception as exc:
            self._disable(f"summary failed ({type(exc).__name__}: {exc})")

    def finish(self, exit_code: int = 0) -> None:
        """Close the run (multirun jobs share a process, so every job must)."""
        if self.run is None:
            return
        try:
            self.run.finish(exit_code=exit_code)
        except Exception as exc:
            log.warning("W&B finish failed: %s", exc)
        self.run = None


def log_sweep_summary(logger: Logger, sweep_dir: Path, report: Any) -> Path | None:
    """Log a sweep's figures, results table and a native top-1 vs MACs chart as one W&B run.

    ``report`` is :class:`bench.plot.Report`. Returns the run's folder (for
    offline runs, what ``wandb sync`` uploads), or None when W&B is off.
    """
    table = report.table
    sweep = str(table["sweep"].iloc[0]) if "sweep" in table and len(table) else sweep_dir.name
    tracker = Tracker(
        logger,
        directory=sweep_dir,
        name=f"{sweep}-summary",
        group=sweep,
        job_type="summary",
        tags=["summary"],
        config={"sweep": sweep, "points": int(len(table))},
    )
    if not tracker.active:
        return None
    try:
        import wandb

        data: dict[str, Any] = {}
        for name, paths in report.figures.items():
            png = next((p for p in paths if str(p).endswith(".png")), None)
            if png is not None:
                data[f"figures/{name}"] = wandb.Image(str(png), caption=name)
        flat = table.copy()
        for col in flat.columns:
            if flat[col].dtype == object:
                flat[col] = flat[col].astype(str)
        results = wandb.Table(dataframe=flat)
        data["results"] = results
        ok = flat[flat["status"] == "ok"].sort_values("macs")
        curve = wandb.Table(dataframe=ok[["strategy", "macs", "top1"]].reset_index(drop=True))
        data["top1_vs_macs"] = wandb.plot.line(
            curve, x="macs", y="top1", stroke="strategy", title="Top-1 vs MACs"
        )
        tracker.log(data)
        run_dir = tracker.run_dir
    except Exception as exc:
        tracker._disable(f"summary logging failed ({type(exc).__name__}: {exc})")
        run_dir = None
    tracker.finish()
    return run_dir
