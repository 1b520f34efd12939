"""The start of a sweep: check every job before any starts, then write what was asked.

Both sweepers (``hydra_plugins/scalebench``) call these before launching:

- :func:`check_jobs`: every job's config is composed and validated, the
  device must exist, the W&B mode must be known, runs_dir must be writable
  and each data set's files must be there (once per data set); the first
  problem ends the command with one line and exit 1, nothing written.
- :func:`open_sweep` makes a sweep folder and writes the multirun's config
  (``multirun.yaml``) and :func:`write_manifest`'s ``sweep.json``: what was
  asked and how many jobs (the progress lines' "k/n").

The end of a sweep is :mod:`bench.sweep.finish`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from bench.config.compose import compose_jobs
from bench.errors import UserError, fail
from bench.store import atomic_write_json, point_name
from bench.store import sweep_dir as sweep_folder


@dataclass(frozen=True)
class Checked:
    """What checking the jobs learnt that the end of the sweep needs."""

    points: tuple[Path, ...] = ()  # every job's point folder: one without a result is missing
    trusted: frozenset[str] = frozenset()  # modules the user's composed configs name
    job_sweeps: tuple[tuple[Path, str], ...] = ()  # each job's sweep folder and name, in order

    @property
    def sweep_dirs(self) -> tuple[Path, ...]:
        """The jobs' sweep folders in order: several when the sweep's name is swept."""
        return tuple(dict.fromkeys(folder for folder, _ in self.job_sweeps))

    def points_of(self, where: tuple[Path, str]) -> list[str]:
        """The point folders' names of the jobs in sweep ``where`` (folder, name), in job order."""
        return [p.name for p, w in zip(self.points, self.job_sweeps, strict=True) if w == where]


def check_jobs(jobs: list[list[str]], compose_one: Callable[[list[str]], DictConfig]) -> Checked:
    """Validate every job's config (composed by ``compose_one``); exit 1 on the first problem.

    Returns the jobs' point folders and sweep folders (several when a multirun
    sweeps a key the sweep's name holds, such as ``train.epochs=1,2,4``), and
    the modules the composed configs name (model builders, strategy classes):
    the user chose them, so the sweep's own report may import them. Each data
    set and runs_dir is checked once.
    """
    from bench.data import check_data
    from bench.places import check_writable
    from bench.record import config_record
    from bench.report.trust import named_modules
    from bench.track.tracker import resolve_mode
    from bench.validate import validate

    trusted: set[str] = set()
    points: dict[Path, None] = {}
    job_sweeps: list[tuple[Path, str]] = []
    try:
        configs = [validate(cfg) for cfg in compose_jobs(jobs, compose_one)]
        for config in configs:
            if config.device.startswith("cuda"):  # auto and cpu always resolve
                from bench.hardware.device import resolve_device  # torch, to ask for CUDA

                resolve_device(config.device)
            resolve_mode(config.logger)
            trusted |= named_modules({"config": config_record(config)})
            name = point_name(config.strategy.name, config.phi, config.seed)
            folder = sweep_folder(config.runs_dir, config.sweep)
            points[folder / name] = None
            job_sweeps.append((folder, config.sweep))
        for data in {c.data.model_dump_json(): c.data for c in configs}.values():
            check_data(data)
        for runs_dir in dict.fromkeys(c.runs_dir for c in configs):
            check_writable(runs_dir)
    except UserError as exc:
        fail(str(exc))
    return Checked(tuple(points), frozenset(trusted), tuple(job_sweeps))


def by_sweep(checked: Checked, jobs: Sequence[Sequence[str]]) -> dict[tuple[Path, str], list]:
    """The jobs by sweep folder (several when a multirun sweeps a key the sweep's name holds,
    such as ``train.epochs=1,2,4``), each folder with its sweep's name: what gets a
    ``sweep.json`` and its own rounds of seeds."""
    groups: dict[tuple[Path, str], list[list[str]]] = {}
    for where, job in zip(checked.job_sweeps, jobs, strict=True):
        groups.setdefault(where, []).append(list(job))
    return groups


def write_manifest(
    sweep_dir: Path, sweep: str, points: list[str], overrides: list[str], **extra: Any
) -> None:
    """``sweep.json``: the sweep's name, its jobs' point names in order and their count, the
    command-line overrides and the start time. A job's progress line counts its place among
    ``points`` and the points each round of seeds adds."""
    manifest = {
        "sweep": sweep,
        "jobs": len(points),
        "points": points,
        "overrides": overrides,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        **extra,
    }
    atomic_write_json(Path(sweep_dir) / "sweep.json", manifest)


def open_sweep(
    folder: Path,
    config: DictConfig,
    sweep: str,
    points: list[str],
    overrides: list[str],
    **extra: Any,
) -> None:
    """Make the sweep folder; write the multirun's config (``multirun.yaml``, as Hydra's basic
    sweeper does) and ``sweep.json`` (:func:`write_manifest`)."""
    folder.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(config, folder / "multirun.yaml")
    write_manifest(folder, sweep, points, overrides, **extra)
