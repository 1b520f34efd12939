"""The sweeper of ``bench.run -m``: Hydra's basic sweeper, plus what a scaling sweep needs.

Before any job starts, every job's config is checked (a bad value is one
line and exit 1) and ``sweep.json`` is written; each job trains in a child
its job process watches (:mod:`bench.sweep.supervise`); a job whose process died
ends ``failed`` while the others finish, relaunched if a launcher killed
them with it (:mod:`bench.sweep.survive`); with ``decide.max_seeds``, rounds of
added seeds follow for the undecided levels (:mod:`bench.sweep.rounds`); then the figures,
tables and W&B summary are made and the exit status says whether every
point finished ``ok`` (:mod:`bench.sweep.finish`). Hydra's private API (its basic
sweeper) and the launcher plugins' internals (how the submitit launcher
builds its executor) are used here and nowhere else in scalebench.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from bench.config.compose import split_sweep
from bench.sweep.on_ray import is_ray, launch_ray
from bench.sweep.on_ray import stop as stop_ray

log = logging.getLogger(__name__)


class ScalebenchSweeper(BasicSweeper):
    """Checks every job first, writes the manifest, launches so a dead job cannot stop the
    sweep, reports."""

    supervised: Any = None
    checked: Any = None  # what checking the jobs learnt (bench.sweep.finish.Checked)

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """Give the launcher the supervised task: each job trains in a child it watches."""
        from bench.sweep.supervise import Supervised

        self.supervised = Supervised.wrap(task_function)
        super().setup(hydra_context=hydra_context, task_function=self.supervised, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        """Check, manifest, launch every job, then report and set the exit status."""
        from bench.sweep.finish import by_sweep, finish, write_manifest

        assert self.config is not None
        jobs = [job for batch in self.jobs(arguments) for job in batch]
        self.check(jobs)
        overrides = list(OmegaConf.select(self.config, "hydra.overrides.task") or [])
        groups = by_sweep(self.checked, jobs)
        for folder, name in groups:
            folder.mkdir(parents=True, exist_ok=True)
            OmegaConf.save(self.config, folder / "multirun.yaml")
            write_manifest(folder, name, self.checked.points_of((folder, name)), overrides)
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
        from bench.sweep.finish import check_jobs

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

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Done once for every job by :meth:`check`, before the first batch."""

    def launch_all(self, jobs: Sequence[Sequence[str]]) -> list[Any]:
        """Launch every job; a dead one ends ``failed``, the others are relaunched if need be.

        The ledger of this sweep process (what each job's processes said about
        how it ended) lives in ``<sweep>/.jobs/<host>-<pid>/`` until the end.
        """
        from bench.sweep.survive import run_jobs

        assert self.config is not None
        owner = f"{socket.gethostname()}-{os.getpid()}"
        ledgers = Path(self.config.hydra.sweep.dir) / ".jobs" / owner
        try:
            return run_jobs([list(j) for j in jobs], self.launch_batch, ledgers, self.record_dead)
        finally:
            stop_ray()
            shutil.rmtree(ledgers, ignore_errors=True)
            with suppress(OSError):
                ledgers.parent.rmdir()  # unless another sweep process shares the folder

    def launch_batch(self, batch: list[list[str]], first: int, ledger: Path) -> list[Any]:
        """Launch consecutive jobs numbered from ``first``: each one's return value or exception."""
        assert self.launcher is not None
        if self.supervised is not None:
            self.supervised.ledger = ledger  # travels with the task to every job process
        if is_submitit(self.launcher):
            returns = launch_submitit(self.launcher, batch, first)
        elif is_ray(self.launcher):
            returns = launch_ray(self.launcher, batch, first)
        else:
            returns = list(self.launcher.launch(batch, initial_job_idx=first))
        return [outcome(r) for r in returns]

    def record_dead(self, overrides: list[str], reason: str) -> None:
        """A ``failed`` result.json for the job of ``overrides``, from its composed config."""
        from bench.sweep.supervise import record_death

        assert self.hydra_context is not None and self.config is not None
        cfg = self.hydra_context.config_loader.load_sweep_config(
            master_config=self.config, sweep_overrides=list(overrides)
        )
        record_death(cfg, reason)


def outcome(job_return: Any) -> Any:
    """What a job returned, or the exception it ended with (an exception passes through)."""
    if isinstance(job_return, BaseException):
        return job_return
    try:
        return job_return.return_value
    except Exception as exc:  # the job raised
        return exc


def is_submitit(launcher: Any) -> bool:
    """Whether ``launcher`` is the submitit plugin's (local or SLURM)."""
    try:
        from hydra_plugins.hydra_submitit_launcher.submitit_launcher import BaseSubmititLauncher
    except ImportError:  # the cluster extra is not installed
        return False
    return isinstance(launcher, BaseSubmititLauncher)


def submitit_executor(launcher: Any) -> Any:
    """The executor the submitit launcher builds in ``launch``, from its public parameters.

    Its kind (``local`` or ``slurm``) is the launcher's class; the keys are
    named as the plugin names them (cluster-specific ones prefixed).
    """
    import submitit
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher

    params = dict(launcher.params)
    kind = "slurm" if isinstance(launcher, SlurmLauncher) else "local"
    specific = {"max_num_timeout"}
    init = {f"{kind}_{k}": v for k, v in params.items() if k in specific}
    executor = submitit.AutoExecutor(cluster=kind, folder=params["submitit_folder"], **init)
    base = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(
        **{
            k if k in base else f"{kind}_{k}": v
            for k, v in params.items()
            if k not in specific | {"submitit_folder"}
        }
    )
    return executor


def launch_submitit(launcher: Any, batch: list[list[str]], first: int) -> list[Any]:
    """The submitit launcher's ``launch``, but every job is collected.

    The plugin returns ``[j.results()[0] for j in jobs]``: the first job that
    died raises ``UncompletedJobError`` while later jobs still run, and the
    sweep would end without them. Here each job's return or exception is
    collected, in order, once every job has ended.
    """
    from hydra.core.singleton import Singleton
    from hydra.core.utils import filter_overrides

    executor = submitit_executor(launcher)
    sweep_dir = Path(str(launcher.config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    if "mode" in launcher.config.hydra.sweep:
        os.chmod(sweep_dir, mode=int(str(launcher.config.hydra.sweep.mode), 8))
    log.info("Submitit sweep output dir : %s", sweep_dir)
    arguments = []
    for num, overrides in enumerate(batch, start=first):
        log.info("\t#%d : %s", num, " ".join(filter_overrides(overrides)))
        arguments.append(
            (list(overrides), "hydra.sweep.dir", num, f"job_id_for_{num}", Singleton.get_state())
        )
    jobs = executor.map_array(launcher, *zip(*arguments, strict=True))
    collected: list[Any] = []
    for job in jobs:
        try:
            collected.append(job.results()[0])
        except Exception as exc:  # this job's process died, or it raised
            collected.append(exc)
    return collected
