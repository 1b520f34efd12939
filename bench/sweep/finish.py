"""The end of a sweep: figures, tables, the W&B summary, and the exit status.

The sweeper (``hydra_plugins/scalebench``) calls :func:`finish` after the
last job: figures, tables and the W&B summary from the recorded results, a
line per point that is not ``ok``, and exit 1 when any point did not finish
``ok``. A diverged point counts: its level is a hole in the comparison, and
a script that chains sweeps must not take the figure for a complete one.
``bench.search``'s sweeper takes its exit status from :func:`points_line`.
The start of a sweep (checking every job, ``sweep.json``) is
:mod:`bench.sweep.start`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from bench.errors import fail
from bench.store import read_json_or_none
from bench.sweep.start import Checked

# The start of a sweep lives in bench.sweep.start; its names stay importable from here.
from bench.sweep.start import by_sweep as by_sweep
from bench.sweep.start import check_jobs as check_jobs
from bench.sweep.start import write_manifest as write_manifest

log = logging.getLogger("bench.sweep")


def read_results(sweep_dir: Path) -> dict[str, dict[str, Any] | None]:
    """Every point's result.json by folder (None for one that cannot be read)."""
    paths = sorted(Path(sweep_dir).glob("*/result.json"))
    return {p.parent.name: read_json_or_none(p) for p in paths}


def finish(sweep_dir: Path, config: DictConfig, checked: Checked | None = None) -> None:
    """Report the sweep, say what is wrong with it, and exit 1 unless every point is ``ok``.

    A point that is still improving, not above chance or off its MAC target
    is a warning line, not a failure: the sweep did what was asked. A job's
    point without any result.json (it could not be written: a full disk) is
    ``missing``. A multirun that wrote several sweep folders (say one per
    budget) reports each, then all of them together (:func:`report_together`).
    """
    checked = checked or Checked()
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
    expected = [p.name for p in checked.points if p.parent == sweep_dir]
    by_status = tally(results, expected)
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
    return failure_line(sweep_dir, by_status)


def tally(results: dict[str, dict[str, Any] | None], expected: Iterable[str]) -> dict[str, list]:
    """Point names by status: each result's (``unreadable`` when it could not be read), and
    ``missing`` for an ``expected`` point without a result.json."""
    by_status: dict[str, list[str]] = {}
    for name, result in results.items():
        status = result.get("status", "failed") if result else "unreadable"
        by_status.setdefault(status, []).append(name)
    missing = [name for name in expected if name not in results]
    if missing:
        by_status["missing"] = missing
    return by_status


def failure_line(sweep_dir: Path, by_status: dict[str, list[str]]) -> str:
    """The line that ends a sweep whose points did not all finish ``ok`` ("" when they did)."""
    bad = {k: v for k, v in by_status.items() if k != "ok"}
    if not bad:
        return ""
    total = sum(len(v) for v in by_status.values())
    named = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(bad.items()))
    count = total - len(by_status.get("ok", []))
    return (
        f"{count} of {total} points did not finish ok ({named}); "
        f"their result.json files under {sweep_dir} say why (a missing one was never written)"
    )


def points_line(sweep_dir: Path, checked: Checked) -> str:
    """The failure line of the jobs' points, all in ``sweep_dir``; "" when every one is ``ok``.
    Points that an earlier sweep left in the folder (another grid's) are not counted."""
    expected = [p.name for p in checked.points]
    results = {k: v for k, v in read_results(sweep_dir).items() if k in set(expected)}
    return failure_line(sweep_dir, tally(results, expected))


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
