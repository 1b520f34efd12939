"""A sweep's W&B summary run: its figures, a native chart, and every output as an artifact."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from bench.schema import Logger
from bench.track.tracker import RunSpec, Tracker, artifact_name

log = logging.getLogger("bench.tracking")

CHART_TITLE = "Top-1 vs MACs (x: log10 MACs; mean over seeds per strategy and phi)"


def report_files(report: Any) -> dict[str, Path]:
    """Every file of a report by artifact entry (its path under the report folder).

    results.csv, every format of every figure, every table file, and the
    figures' ``.txt`` captions.
    """
    out = Path(report.out_dir)
    paths = [Path(report.csv)]
    for value in [*report.figures.values(), *report.tables.values()]:
        paths += [Path(p) for p in (value if isinstance(value, list | tuple) else [value])]
    for folder in {p.parent for ps in report.figures.values() for p in map(Path, ps)}:
        paths += sorted(folder.glob("*.txt"))
    return {_entry(p, out): p for p in paths if p.is_file()}


def _entry(path: Path, out: Path) -> str:
    """``figures/top1_vs_macs.png``: the path under ``out`` (else its folder and name)."""
    try:
        return path.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}"


def chart_table(table: Any) -> Any:
    """Top-1 and MACs per (strategy, phi), means over the seeds of the ``ok`` points.

    The x column is log10(MACs): ``wandb.plot.line`` (W&B's built-in line
    preset) has no log axis, and a custom Vega spec with a log scale would
    only render where someone has created that preset in the W&B project.
    """
    import pandas as pd

    ok = table[(table["status"] == "ok") & table["top1"].notna() & table["macs"].notna()]
    if ok.empty:
        return pd.DataFrame(columns=["strategy", "phi", "log10_macs", "macs", "top1", "seeds"])
    grouped = ok.groupby(["strategy", "phi"], as_index=False)
    levels = grouped.agg(macs=("macs", "mean"), top1=("top1", "mean"), seeds=("top1", "size"))
    levels["log10_macs"] = [math.log10(m) for m in levels["macs"]]
    levels = levels.sort_values(["strategy", "macs"]).reset_index(drop=True)
    return levels[["strategy", "phi", "log10_macs", "macs", "top1", "seeds"]]


def _summary_media(report: Any) -> dict[str, Any]:
    """PNG figures, the results table and the native top-1 vs MACs chart."""
    import wandb

    data: dict[str, Any] = {}
    for name, paths in report.figures.items():
        png = next((p for p in paths if str(p).endswith(".png")), None)
        if png is not None:
            data[f"figures/{name}"] = wandb.Image(str(png), caption=name)
    flat = report.table.copy()
    for col in flat.columns:
        if flat[col].dtype == object:
            flat[col] = flat[col].astype(str)
    data["results"] = wandb.Table(dataframe=flat)
    decisions = getattr(report, "decisions", None)
    if decisions is not None and len(decisions):
        data["decisions"] = wandb.Table(dataframe=decisions.astype({"decided": str}))
    curve = wandb.Table(dataframe=chart_table(report.table))
    data["top1_vs_macs"] = wandb.plot.line(
        curve, x="log10_macs", y="top1", stroke="strategy", title=CHART_TITLE
    )
    return data


def log_sweep_summary(logger: Logger, sweep_dir: Path, report: Any) -> Path | None:
    """Log a sweep's figures, results and a native top-1 vs MACs chart as one W&B run.

    ``report`` is :class:`bench.report.Report` (read: ``table``, ``figures``,
    ``tables``, ``csv``, ``out_dir``). Its files go to one ``results``
    artifact named after the sweep. Returns the run's folder (for offline
    runs, what ``wandb sync`` uploads), or None when W&B is off.
    """
    table = report.table
    sweep = str(table["sweep"].iloc[0]) if "sweep" in table and len(table) else sweep_dir.name
    config = {"sweep": sweep, "points": int(len(table))}
    spec = RunSpec(sweep_dir, f"{sweep}-summary", sweep, "summary", ["summary"], config)
    tracker = Tracker(logger, spec)
    try:
        if tracker.active:
            tracker.log(_summary_media(report))
            tracker.summary({"verdicts": "\n".join(getattr(report, "verdicts", []))})
            meta = {"sweep": sweep, "points": int(len(table))}
            tracker.log_artifact(artifact_name(sweep), "results", report_files(report), meta)
    except Exception as exc:
        tracker.disable(f"summary logging failed ({type(exc).__name__}: {exc})")
    run_dir = tracker.run_dir  # None when logging failed on the way
    tracker.finish()
    return run_dir
