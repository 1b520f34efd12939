"""What a sweep shows: figures, tables and fits drawn from its recorded results.

:func:`build_report` reads every ``SWEEP_DIR/*/result.json`` once and writes,
atomically, under ``<out>`` (the sweep folder for one sweep; ``--out`` or
``<first>/combined`` for several):

    results.csv                                   one row per point (every strategy)
    figures/top1_vs_{macs,params,activations,throughput,wall_time,latency}.*, pareto.*
    figures/learning_curves.*                     one sweep, when a history has 2+ entries
    figures/cam.{png,pdf}                         one sweep with checkpoints, plot.cam_images > 0
    figures/top1_vs_macs_by_budget.*              sweeps differing only in the budget
    figures/top1_by_family.*                      sweeps of several model families
    figures/<name>.txt                            each figure's caption
    tables/results_table.{md,tex}                 EfficientNet's Table 3 layout
    tables/fits.{csv,md,tex}                      err = a * MACs^-b per strategy
    tables/ranking_by_budget.{csv,md}             with the by-budget figure
    tables/decisions.{csv,md,tex}                 paired verdicts per level (bench.analysis.decide)
    figures/compute_frontier.*, tables/frontier.{csv,md}, tables/frontier_leaders.csv,
    tables/frontier_fits.csv                      with it too: the compute frontier (findings)

Figures are written in ``plot.formats``; module by module: results (reading),
levels (pooling seeds), flags, style, cost, pareto, tables, compare, budgets,
families, and the colleagues' fits, curves and cam. The end of every sweep
(:func:`bench.sweep.finish.report_sweep`) and ``python -m bench.plot`` call this;
W&B logging of the returned paths is :func:`bench.track.summary.log_sweep_summary`'s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import UserError
from bench.schema import Plot

log = logging.getLogger("bench.plot")
DEFAULT_PLOT = Plot()  # the plot section's defaults (frozen: one instance serves every call)

COST_FIGURES = (
    "top1_vs_macs", "top1_vs_params", "top1_vs_activations", "top1_vs_throughput",
    "top1_vs_wall_time", "top1_vs_latency",
)  # fmt: skip
FIGURE_NAMES = (*COST_FIGURES, "pareto")  # drawn for every report (latency: when measured)
CAM_FORMATS = ("png", "pdf")  # an SVG of embedded bitmaps adds nothing


@dataclass
class Report:
    """What :func:`build_report` wrote: the table it drew from and every output path."""

    table: pd.DataFrame
    figures: dict[str, list[Path]]
    tables: dict[str, Path]
    csv: Path
    missing: int
    out_dir: Path
    notes: list[str] = field(default_factory=list)  # what was not drawn and why (logged)
    problems: list[str] = field(
        default_factory=list
    )  # bench.train.diagnostics.problems (not logged)
    decisions: pd.DataFrame | None = None  # bench.analysis.decide.decisions
    settings: tuple[Any, int] | None = None  # bench.analysis.decide.settings: (Decide, looks)
    verdicts: list[str] = field(default_factory=list)  # one "phi=<level>: ..." line per level
    findings: list[str] = field(default_factory=list)  # crossovers, held-out checks (printed)


def build_report(
    sweep_dirs: list[Path],
    out_dir: Path | None = None,
    options: Plot = DEFAULT_PLOT,
    strategies: list[str] | None = None,
    trusted: frozenset[str] = frozenset(),
) -> Report:
    """Read the sweeps' results and write the CSV, figures and tables listed in the module doc.

    ``options`` is the ``plot`` config section; ``strategies`` limits the
    figures and tables (not results.csv) to those strategies. Raises
    :class:`UserError` when a folder does not exist or holds no result.json,
    or a strategy asked for is not in it. Safe to call while points are still
    running: what is missing is counted (``Report.missing``) and said on the
    figures.
    """
    from bench.analysis.results import (
        at_test_resolution,
        default_out_dir,
        load_sweeps,
        select_strategies,
        write_csv,
    )
    from bench.report.prepared import prepare

    sweep_dirs = [Path(d) for d in sweep_dirs]
    if not sweep_dirs:
        raise UserError("no sweep folder given")
    loaded = load_sweeps(sweep_dirs)
    out = Path(out_dir) if out_dir is not None else default_out_dir(sweep_dirs)
    csv = write_csv(loaded.table, out / "results.csv")
    table = at_test_resolution(select_strategies(loaded.table, strategies), options.test_resolution)
    kept = set(table["strategy"])
    results = {s: [r for r in rs if r.get("strategy") in kept] for s, rs in loaded.results.items()}
    prep = prepare(table, loaded.missing, options)
    report = Report(table, {}, {}, csv, loaded.missing, out)
    _decisions(report, sweep_dirs)
    _core(report, prep)
    _learning_curves(report, results, options)
    _cam(report, loaded.folders, results, options, strategies, trusted)
    _comparisons(report, prep, results)
    _lr_sensitivity(report, prep, results)
    _problems(report, table)
    return report


def _core(report: Report, prep: Any) -> None:
    """results table, fits, every top-1-vs-cost figure and the Pareto front."""
    from bench.analysis.fits import fit_strategies
    from bench.report.fits_tables import write_fits
    from bench.report.pareto import plot_pareto
    from bench.report.style import save_and_close
    from bench.report.tables import write_tables
    from bench.report.top1_vs_cost import caption, has_cost, plot_top1_vs

    options, figures = prep.options, report.out_dir / "figures"
    tables = report.out_dir / "tables"
    report.tables |= write_tables(report.table, tables, interval=options.interval)
    fits = fit_strategies(report.table)
    report.tables |= {f"fits_{k}": p for k, p in write_fits(fits, tables).items()}
    lines = fits if options.fit_lines else None
    for name in COST_FIGURES:
        if name == "top1_vs_latency" and not has_cost(prep, name):  # older results lack it
            _note(report, f"no {name}: no point recorded it")
            continue
        winners = report.decisions if name == "top1_vs_macs" else None
        fig = plot_top1_vs(prep, name, fits=lines, winners=winners)
        text = caption(prep, name=name, fits=lines is not None and name == "top1_vs_macs")
        report.figures[name] = save_and_close(fig, figures, name, options.formats, text)
    text = caption(prep, name="pareto")
    report.figures["pareto"] = save_and_close(
        plot_pareto(prep), figures, "pareto", options.formats, text
    )


def _decisions(report: Report, sweep_dirs: list[Path]) -> None:
    """Paired verdicts per level: ``tables/decisions.*`` and the ``phi=<level>:`` lines, with the
    margin, confidence and looks the sweep recorded (bench.sweep.rounds)."""
    from bench.analysis.decide import decisions, settings
    from bench.analysis.verdicts import verdict_lines
    from bench.report.verdicts import write_decisions

    decide, looks = report.settings = settings(sweep_dirs)
    report.decisions = decisions(report.table, decide, looks)
    tables = report.out_dir / "tables"
    report.tables |= write_decisions(report.decisions, tables, decide.margin, decide.confidence)
    report.verdicts = verdict_lines(
        report.table, report.decisions, decide.margin, decide.confidence
    )


def _learning_curves(report: Report, results: dict[str, list[dict]], options: Plot) -> None:
    """Held-out top-1 and loss per epoch, for one sweep whose points evaluated more than once."""
    if len(results) > 1:
        _note(report, "no learning curves: drawn for one sweep at a time")
        return
    (points,) = results.values()
    if not any(len(r.get("history") or []) > 1 for r in points):
        _note(report, "no learning curves: no point evaluated more than once")
        return
    from bench.report.curves import learning_curves

    out = report.out_dir / "figures"
    report.figures["learning_curves"] = learning_curves(
        points, out, formats=options.formats, caption=options.caption, width=options.width
    )


def _cam(
    report: Report,
    folders: dict[str, Path],
    results: dict[str, list[dict]],
    options: Plot,
    strategies: list[str] | None,
    trusted: frozenset[str],
) -> None:
    """The Grad-CAM grid, for one sweep that kept a finished point's checkpoint."""
    why = _no_cam(folders, results, options) or _untrusted(results, options, trusted)
    if why:
        _note(report, f"no class activation maps: {why}")
        return
    from bench.report.cam import cam_figure  # torch, timm and grad-cam: only when drawn

    (sweep_dir,) = folders.values()
    formats = [f for f in options.formats if f in CAM_FORMATS] or list(options.formats)
    paths = cam_figure(
        sweep_dir,
        report.out_dir / "figures",
        options.cam_images,
        formats=formats,
        caption=options.caption,
        strategies=strategies,
    )
    if paths:
        report.figures["cam"] = paths


def _no_cam(folders: dict[str, Path], results: dict[str, list[dict]], options: Plot) -> str:
    """Why no CAM grid is drawn ("" when one is), cheaply: no torch import to find out."""
    if options.cam_images == 0:
        return "plot.cam_images=0"
    if len(folders) > 1:
        return "drawn for one sweep at a time"
    ((label, sweep_dir),) = folders.items()
    trained = sweep_dir / "trained"
    for result in results[label]:
        key = result.get("point_key")
        if key and result.get("status") == "ok" and (trained / key / "checkpoint.pt").is_file():
            return ""
    if any(trained.glob("*/checkpoint.pt")):
        return f"no finished point of {sweep_dir} has its checkpoint"
    return f"no trained checkpoint under {trained} (the sweep kept none)"


def _untrusted(results: dict[str, list[dict]], options: Plot, trusted: frozenset[str]) -> str:
    """Why the grid would import code that result files name ("" when it may)."""
    from bench.analysis.trust import untrusted

    if options.trust_code:
        return ""
    foreign = untrusted([r for rows in results.values() for r in rows], trusted)
    if not foreign:
        return ""
    return (
        f"the networks are built by {', '.join(foreign)}, named by the result files; "
        "run bench.plot --trust-code (plot.trust_code=true) if you trust that code"
    )


def _comparisons(report: Report, prep: Any, results: dict[str, list[dict]]) -> None:
    """By-budget figure and ranking, cross-family figure: when the sweeps allow them."""
    from bench.analysis.compare import compare
    from bench.report.by_budget import budget_caption, plot_top1_by_budget, write_ranking
    from bench.report.by_family import family_caption, plot_top1_by_family
    from bench.report.style import save_and_close

    found = compare(prep.points, results)
    for note in found.notes:
        _note(report, note)
    figures, options = report.out_dir / "figures", prep.options
    if found.by_budget:
        name = "top1_vs_macs_by_budget"
        fig = plot_top1_by_budget(prep, found.budgets)
        text = budget_caption(prep)
        report.figures[name] = save_and_close(fig, figures, name, options.formats, text)
        tables = report.out_dir / "tables"
        report.tables |= write_ranking(prep, found.budgets, tables, report.decisions)
        _frontier(report, prep, found.budgets)
    if found.by_family:
        name = "top1_by_family"
        fig = plot_top1_by_family(prep)
        text = family_caption(prep)
        report.figures[name] = save_and_close(fig, figures, name, options.formats, text)


def _frontier(report: Report, prep: Any, budgets: dict[str, str]) -> None:
    """The compute frontier, its crossovers and the fits checked on the largest budget."""
    from bench.analysis.frontier_fits import fit_frontier, fit_lines
    from bench.report.frontier import write_frontier
    from bench.report.frontier_fits import write_frontier_fits

    decide, looks = report.settings or (None, 1)
    tables, figures, lines, levels = write_frontier(prep, budgets, report.out_dir, decide, looks)
    report.tables |= tables
    report.figures["compute_frontier"] = figures
    fits = fit_frontier(levels, prep.points, budgets)
    report.tables |= write_frontier_fits(fits, report.out_dir)
    report.findings += lines + fit_lines(fits)


def _lr_sensitivity(report: Report, prep: Any, results: dict[str, list[dict]]) -> None:
    """Validation top-1 against rate, for points tuned with tune.lrs."""
    from bench.report.lr_sensitivity import write_lr_sensitivity

    tables, figures = write_lr_sensitivity(prep, results, report.out_dir)
    report.tables |= tables
    if figures:
        report.figures["lr_sensitivity"] = figures


def _problems(report: Report, table: pd.DataFrame) -> None:
    """bench.train.diagnostics' one line per kind of problem, for the caller to show: the end of a
    sweep logs them itself (bench.sweep.finish.finish), ``bench.plot`` prints them."""
    from bench.train.diagnostics import problems

    report.problems += problems(table)


def _note(report: Report, text: str) -> None:
    log.info("%s", text)
    report.notes.append(text)
