"""The Hydra callback around every multirun: a manifest at the start, figures at the end.

At the start it writes ``runs/<sweep>/sweep.json`` (the command line and the
number of jobs, which progress lines use for "point k of n"). At the end,
after every job (whatever the launcher), it builds the figures and tables
from the recorded results, logs a summary run to W&B, prints where
everything went, and exits 1 if any point failed. Jobs record their own
failures and return normally, so this step always runs.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from bench.errors import UserError, fail
from bench.results import atomic_write_json, read_json

log = logging.getLogger("bench.sweep")


def count_jobs(config: DictConfig) -> int | None:
    """How many jobs Hydra's basic sweeper will launch for this command line."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(OmegaConf.select(config, "hydra.overrides.task") or [])
    try:
        (jobs,) = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(args), None)
    except Exception:
        return None
    return len(jobs)


class SweepCallback(Callback):
    """Writes the sweep manifest at the start and the report at the end of a multirun."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Check settings every job shares, then write ``sweep.json``."""
        from bench.run import resolve_device
        from bench.tracking import resolve_mode

        try:  # fail before any job starts when every job would fail the same way
            resolve_device(config.device)
            resolve_mode(config.logger)
        except UserError as exc:
            fail(str(exc))
        sweep_dir = Path(config.hydra.sweep.dir)
        manifest = {
            "sweep": str(config.sweep),
            "jobs": count_jobs(config),
            "overrides": list(OmegaConf.select(config, "hydra.overrides.task") or []),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        atomic_write_json(sweep_dir / "sweep.json", manifest)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Figures, tables and the W&B summary; exit 1 when points failed."""
        sweep_dir = Path(config.hydra.sweep.dir)
        statuses = summarize(sweep_dir)
        try:
            report_sweep(sweep_dir, config.logger)
        except Exception as exc:  # the results are safe on disk; `bench.plot` can retry
            log.warning("no report for %s: %s", sweep_dir, " ".join(str(exc).split()))
        failed = statuses.get("failed", 0)
        if failed:
            fail(
                f"{failed} of {sum(statuses.values())} points failed; their result.json files "
                f"under {sweep_dir} say why"
            )


def summarize(sweep_dir: Path) -> dict[str, int]:
    """Count points by status and log one line."""
    counts: dict[str, int] = {}
    for path in sorted(Path(sweep_dir).glob("*/result.json")):
        try:
            status = read_json(path).get("status", "failed")
        except Exception:
            status = "unreadable"
        counts[status] = counts.get(status, 0) + 1
    log.info("sweep %s: %s", sweep_dir, ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return counts


def report_sweep(sweep_dir: Path, logger: Any) -> Any:
    """Build the sweep's figures and tables and log them to W&B as a summary run."""
    from bench.plot import build_report
    from bench.tracking import log_sweep_summary

    report = build_report([Path(sweep_dir)])
    log.info("figures and tables in %s", report.out_dir)
    log_sweep_summary(logger, Path(sweep_dir), report)
    return report
