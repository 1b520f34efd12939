"""The sweeper of ``bench.run -m``: Hydra's basic sweeper, plus what a scaling sweep needs.

Before any job starts, every job's config is checked (a bad value is one
line and exit 1) and ``sweep.json`` is written; after the last job, the
figures, tables and W&B summary are made and the exit status says whether
every point finished ``ok`` (:mod:`bench.sweep`). Hydra's private API (its
basic sweeper) is used here and nowhere else in scalebench.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from omegaconf import OmegaConf


class ScalebenchSweeper(BasicSweeper):
    """Checks every job first, writes the manifest, launches like the basic sweeper, reports."""

    def sweep(self, arguments: list[str]) -> Any:
        """Check, manifest, launch every batch, then report and set the exit status."""
        from bench.sweep import finish, write_manifest

        assert self.config is not None
        jobs = [job for batch in self.jobs(arguments) for job in batch]
        self.check(jobs)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        overrides = list(OmegaConf.select(self.config, "hydra.overrides.task") or [])
        write_manifest(sweep_dir, str(self.config.sweep), len(jobs), overrides)
        returns = super().sweep(arguments)
        finish(sweep_dir, self.config)
        return returns

    def jobs(self, arguments: list[str]) -> list[list[list[str]]]:
        """Every job's overrides in launch batches, as the basic sweeper splits them."""
        from bench.config import split_sweep

        params = [f"{k}={v}" for k, v in (self.params or {}).items()]
        return [split_sweep(params + list(arguments))]

    def check(self, jobs: Sequence[Sequence[str]]) -> None:
        """Compose and validate every job; the first bad value ends the command (exit 1)."""
        from bench.sweep import check_jobs

        assert self.hydra_context is not None and self.config is not None
        loader, master = self.hydra_context.config_loader, self.config
        check_jobs(
            [list(j) for j in jobs],
            lambda overrides: loader.load_sweep_config(
                master_config=master, sweep_overrides=overrides
            ),
        )

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Done once for every job by :meth:`check`, before the first batch."""
