"""The sweeper of ``bench.run -m``, where Hydra finds it; what it does lives in ``bench.sweep``.

Before any job starts, every job's config is checked (a bad value is one
line and exit 1) and ``sweep.json`` is written (:mod:`bench.sweep.start`);
every job is launched through the adapter of the configured launcher, each
job trains in a child its job process watches, and a job whose process died
ends ``failed`` while the others finish, relaunched if a launcher killed
them with it (:mod:`bench.sweep.launch`); with ``decide.max_seeds``, rounds
of added seeds follow for the undecided levels (:mod:`bench.sweep.rounds`);
then the figures, tables and W&B summary are made and the exit status says
whether every point finished ``ok`` (:mod:`bench.sweep.finish`). It extends
Hydra's basic sweeper, which is Hydra's private API, reached through
:mod:`bench.config.hydra_private` like every other private part of Hydra
that scalebench uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from bench.config.compose import split_sweep
from bench.config.hydra_private import basic_sweeper
from bench.sweep import on_submitit
from bench.sweep.launch import outcome as outcome

# what this module held before the launcher adapters (bench.sweep.launch), still importable
is_submitit = on_submitit.handles
submitit_executor = on_submitit.executor
launch_submitit = on_submitit.launch


class ScalebenchSweeper(basic_sweeper()):  # type: ignore[misc]
    """Checks every job first, writes the manifest, launches so a dead job cannot stop the
    sweep, reports."""

    supervised: Any = None
    checked: Any = None  # what checking the jobs learnt (bench.sweep.start.Checked)

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """Give the launcher the supervised task: each job trains in a child it watches."""
        from bench.sweep.supervise import Supervised

        self.supervised = Supervised.wrap(task_function)
        super().setup(hydra_context=hydra_context, task_function=self.supervised, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        """Check, manifest, launch every job, then report and set the exit status."""
        from bench.sweep.finish import finish
        from bench.sweep.start import by_sweep, open_sweep

        assert self.config is not None
        jobs = [job for batch in self.jobs(arguments) for job in batch]
        self.check(jobs)
        overrides = list(OmegaConf.select(self.config, "hydra.overrides.task") or [])
        groups = by_sweep(self.checked, jobs)
        for folder, name in groups:
            points = self.checked.points_of((folder, name))
            open_sweep(folder, self.config, name, points, overrides)
        returns = self.launch_all(jobs)
        for (folder, _), its_jobs in groups.items():
            returns += self.add_rounds(folder, its_jobs)
        base = Path(self.config.hydra.sweep.dir)
        finish(base, self.config, self.checked)
        if base not in {folder for folder, _ in groups}:
            with suppress(OSError):
                base.rmdir()  # the launcher made it from the base config; no job wrote there
        return [returns]

    def jobs(self, arguments: list[str]) -> list[list[list[str]]]:
        """Every job's overrides in launch batches, as the basic sweeper splits them."""
        params = [f"{k}={v}" for k, v in (self.params or {}).items()]
        return [split_sweep(params + list(arguments))]

    def check(self, jobs: Sequence[Sequence[str]]) -> None:
        """Compose and validate every job; the first bad value ends the command (exit 1)."""
        from bench.sweep.start import check_jobs

        self.checked = check_jobs([list(j) for j in jobs], self.compose_one)

    def compose_one(self, overrides: list[str]) -> DictConfig:
        """One job's config, as the launcher will compose it."""
        assert self.hydra_context is not None and self.config is not None
        return self.hydra_context.config_loader.load_sweep_config(
            master_config=self.config, sweep_overrides=list(overrides)
        )

    def add_rounds(self, sweep_dir: Path, jobs: Sequence[Sequence[str]]) -> list[Any]:
        """Seeds on demand (``decide.max_seeds``): rounds of added jobs, bench.sweep.rounds."""
        from bench.sweep.rounds import run_rounds

        assert self.config is not None
        return run_rounds(sweep_dir, self.config, [list(j) for j in jobs], self.compose_one,
                          self.launch_all)  # fmt: skip

    def launch_all(self, jobs: Sequence[Sequence[str]]) -> list[Any]:
        """Launch every job; a dead one ends ``failed``, the others are relaunched if need be
        (:func:`bench.sweep.launch.launch_all`). What each job returned, in order."""
        from bench.sweep.launch import launch_all

        assert self.config is not None and self.launcher is not None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        return launch_all(self.launcher, jobs, sweep_dir, self.record_dead, self.supervised)

    def record_dead(self, overrides: list[str], reason: str) -> None:
        """A ``failed`` result.json for the job of ``overrides``, from its composed config."""
        from bench.sweep.supervise import record_death

        record_death(self.compose_one(list(overrides)), reason)
