"""A multirun from first to last: check every job, write the manifest, report, exit status.

The sweeper (``hydra_plugins/scalebench``) calls these around Hydra's launch:

- :func:`check_jobs` before any job starts: every job's config is composed
  and validated, the device must exist, the W&B mode must be known, runs_dir
  must be writable and each data set's files must be there (once per data
  set); the first problem ends the command with one line and exit 1, nothing
  written.
- :func:`write_manifest`: ``sweep.json``, what was asked and how many jobs
  (the progress lines' "k/n").
- :func:`finish` after the last job: figures, tables and the W&B summary
  from the recorded results, a line per point that is not ``ok``, and exit 1
  when any point did not finish ``ok``. A diverged point counts: its level
  is a hole in the comparison, and a script that chains sweeps must not take
  the figure for a complete one.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from bench.config.compose import compose_jobs
from bench.errors import UserError, fail
from bench.store import atomic_write_json, point_name, read_json_or_none
from bench.store import sweep_dir as sweep_folder

log = logging.getLogger("bench.sweep")


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
    from bench.config.places import check_writable
    from bench.config.validate import validate
    from bench.data import check_data
    from bench.hardware.device import resolve_device
    from bench.report.trust import named_modules
    from bench.track.tracker import resolve_mode
    from bench.train.record import config_record

    trusted: set[str] = set()
    points: dict[Path, None] = {}
    job_sweeps: list[tuple[Path, str]] = []
    try:
        configs = [validate(cfg) for cfg in compose_jobs(jobs, compose_one)]
        for config in configs:
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


def read_results(sweep_dir: Path) -> dict[str, dict[str, Any] | None]:
    """Every point's result.json by folder (None for one that cannot be read)."""
    paths = sorted(Path(sweep_dir).glob("*/result.json"))
    return {p.parent.name: read_json_or_none(p) for p in paths}


def finish(sweep_dir: Path, config: DictConfig, checked: Checked = Checked()) -> None:
    """Report the sweep, say what is wrong with it, and exit 1 unless every point is ``ok``.

    A point that is still improving, not above chance or off its MAC target
    is a warning line, not a failure: the sweep did what was asked. A job's
    point without any result.json (it could not be written: a full disk) is
    ``missing``. A multirun that wrote several sweep folders (say one per
    budget) reports each, then all of them together (:func:`report_together`).
    """
    dirs = list(checked.sweep_dirs) or [Path(sweep_dir)]
    failures = [line for d in dirs if (line := finish_one(d, config, checked))]
    if len(dirs) > 1:
        report_together(dirs, config)
    if failures:
        fail("; ".join(failures))


def finish_one(sweep_dir: Path, config: DictConfig, checked: Checked) -> str:
    """Report one sweep folder and log its problems; the failure line ("" when all ok)."""
    from bench.train.diagnostics import problems

    results = read_results(sweep_dir)
    by_status: dict[str, list[str]] = {}
    for name, result in results.items():
        status = (result or {}).get("status", "failed") if result else "unreadable"
        by_status.setdefault(status, []).append(name)
    missing = [p.name for p in checked.points if p.parent == sweep_dir and p.name not in results]
    if missing:
        by_status["missing"] = missing
    counts = ", ".join(f"{len(v)} {k}" for k, v in sorted(by_status.items()))
    log.info("sweep %s: %s", sweep_dir, counts or "no results")
    try:
        report = report_sweep(sweep_dir, *sections(config), checked.trusted)
        for line in report.verdicts:  # bench.report.verdicts: one "phi=<level>:" line per level
            log.info("%s", line)
    except Exception as exc:  # the results are safe on disk; `bench.plot` can retry
        log.warning("no report for %s: %s", sweep_dir, " ".join(str(exc).split()))
    for line in problems([r for r in results.values() if r]):
        log.warning("%s", line)
    total = sum(len(v) for v in by_status.values())
    bad = {k: v for k, v in by_status.items() if k != "ok"}
    if not bad:
        return ""
    named = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(bad.items()))
    count = total - len(by_status.get("ok", []))
    return (
        f"{count} of {total} points did not finish ok ({named}); "
        f"their result.json files under {sweep_dir} say why (a missing one was never written)"
    )


def sections(config: DictConfig) -> tuple[Any, Any]:
    """The validated ``logger`` and ``plot`` sections of the multirun's config."""
    from bench.schema import Logger, Plot

    logger = Logger.model_validate(OmegaConf.to_container(config.logger, resolve=True))
    return logger, Plot.model_validate(OmegaConf.to_container(config.plot, resolve=True))


def combined_name(names: list[str]) -> str:
    """One folder name for several sweeps: their common start and each one's rest,
    ``tiny-shapes-epochs1``, ``...2``, ``...4`` -> ``tiny-shapes-epochs1,2,4``."""
    common = os.path.commonprefix(names)
    if not common:
        return "+".join(names)
    return common + ",".join(n[len(common) :] for n in names)


def report_together(sweep_dirs: list[Path], config: DictConfig) -> Path | None:
    """The report of all the multirun's sweeps in one folder beside them, named for the set
    (with ranking by budget, the compute frontier and its fits when they differ in budget)."""
    from bench.report import build_report

    out = sweep_dirs[0].parent / combined_name([d.name for d in sweep_dirs])
    try:
        report = build_report(sweep_dirs, out_dir=out, options=sections(config)[1])
    except Exception as exc:  # each sweep's own report stands; `bench.plot` can retry
        log.warning("no combined report in %s: %s", out, " ".join(str(exc).split()))
        return None
    log.info("the %d sweeps together: figures and tables in %s", len(sweep_dirs), out)
    for line in report.findings:
        log.info("%s", line)
    return out


def report_sweep(
    sweep_dir: Path, logger: Any, plot: Any, trusted: frozenset[str] = frozenset()
) -> Any:
    """Build the sweep's figures and tables (as ``plot``, a :class:`bench.schema.Plot`, asks)
    and log them to W&B as a summary run."""
    from bench.report import build_report
    from bench.track.summary import log_sweep_summary

    report = build_report([Path(sweep_dir)], options=plot, trusted=trusted)
    log.info("figures and tables in %s", report.out_dir)
    for line in report.findings:
        log.info("%s", line)
    log_sweep_summary(logger, Path(sweep_dir), report)
    return report
