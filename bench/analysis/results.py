"""Reading sweeps: every point's result.json, once, into one flat table and results.csv.

A sweep folder holds one folder per point with its ``result.json``; folders
such as ``trained/``, ``wandb/``, ``figures/`` hold none and are skipped, and
a point folder without a result yet (running, killed) is counted as missing.
The flat table (one row per point, :func:`bench.train.record.csv_row`) feeds every
figure and table; the result dicts themselves are kept too, because the
learning curves need each point's ``history``, which the table drops.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.analysis.levels import strategy_order
from bench.errors import UserError
from bench.store import NOT_POINTS, atomic_write_text, is_point_folder
from bench.train.record import csv_columns, csv_row, int_columns

log = logging.getLogger("bench.plot")

INTERFACE = csv_columns()  # results.csv's columns, in order (bench.train.record)
INT_COLUMNS = int_columns()
STATUS_RANK = {"ok": 0, "diverged": 1, "failed": 2}
ROW_KEYS = ["sweep", "strategy", "phi", "seed"]


@dataclass
class Loaded:
    """Sweeps as read: the flat table, point folders without a result, the result dicts."""

    table: pd.DataFrame
    missing: int
    results: dict[str, list[dict[str, Any]]]  # sweep label -> result.json dicts kept in the table
    folders: dict[str, Path]  # sweep label -> its folder


def read_sweep(sweep_dir: Path) -> tuple[list[dict[str, Any]], int]:
    """One sweep's result dicts (``point`` and ``_mtime`` added) and how many point folders have
    no readable result yet."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.exists():
        raise UserError(f"{sweep_dir} does not exist")
    if not sweep_dir.is_dir():
        raise UserError(f"{sweep_dir} is not a folder (expected a sweep folder such as runs/NAME)")
    results, missing = [], 0
    for folder in sorted(p for p in sweep_dir.iterdir() if p.is_dir()):
        if folder.name in NOT_POINTS or folder.name.startswith("."):
            continue
        path = folder / "result.json"
        if not path.is_file():
            missing += is_point_folder(folder.name)
            continue
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            log.warning("skipping unreadable %s: %s", path, exc)
            missing += 1
            continue
        results.append(result | {"point": folder.name, "_mtime": path.stat().st_mtime})
    if not results:
        pending = f" ({folders(missing)} without one yet)" if missing else ""
        raise UserError(f"no result.json under {sweep_dir}{pending}")
    return results, missing


def folders(n: int) -> str:
    """ "1 point folder", "3 point folders"."""
    return f"{n} point folder{'' if n == 1 else 's'}"


def sweep_labels(sweep_dirs: list[Path]) -> list[str]:
    """A distinct name per sweep folder: its name, or parent/name when names collide."""
    names = [Path(d).resolve().name for d in sweep_dirs]
    labels = [
        f"{Path(d).resolve().parent.name}/{n}" if names.count(n) > 1 else n
        for d, n in zip(sweep_dirs, names, strict=True)
    ]
    return [lab if labels.count(lab) == 1 else f"{lab}#{i + 1}" for i, lab in enumerate(labels)]


def load_sweeps(sweep_dirs: list[Path]) -> Loaded:
    """Every point of every sweep as one flat table (``sweep`` names its folder), with the
    result dicts behind its rows.

    Rows are sorted by sweep, strategy order, phi and seed. When two folders
    hold the same (sweep, strategy, phi, seed) (``phi1`` and ``phi1.0``), the
    best status, then the newest file, is kept.
    """
    rows, missing, labels, dicts = [], 0, sweep_labels(sweep_dirs), {}
    for sweep_dir, label in zip(sweep_dirs, labels, strict=True):
        found, absent = read_sweep(sweep_dir)
        found = [r | {"sweep": label} for r in found]
        dicts[label] = {r["point"]: r for r in found}
        rows += [csv_row(r) for r in found]
        missing += absent
    table = pd.DataFrame(rows)
    for column in INTERFACE:
        if column not in table:
            table[column] = None
    table = _order(_dedupe(table), labels)
    kept = {label: [] for label in labels}
    for sweep, point in zip(table["sweep"], table["point"], strict=True):
        kept[sweep].append({k: v for k, v in dicts[sweep][point].items() if k != "_mtime"})
    extras = [c for c in table.columns if c not in INTERFACE and c not in ("point", "_mtime")]
    table = table[INTERFACE + ["point"] + extras]
    return Loaded(table, missing, kept, dict(zip(labels, map(Path, sweep_dirs), strict=True)))


def load_results(sweep_dirs: list[Path]) -> tuple[pd.DataFrame, int]:
    """The flat table of :func:`load_sweeps` and the count of point folders without a result."""
    loaded = load_sweeps([Path(d) for d in sweep_dirs])
    return loaded.table, loaded.missing


def _order(table: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(strategy_order(table["strategy"].astype(str)))}
    sweeps = {s: i for i, s in enumerate(labels)}
    return (
        table.assign(_sw=table["sweep"].map(sweeps), _st=table["strategy"].map(order))
        .sort_values(["_sw", "_st", "phi", "seed"], kind="stable")
        .drop(columns=["_sw", "_st"])
        .reset_index(drop=True)
    )


def _dedupe(table: pd.DataFrame) -> pd.DataFrame:
    rank = table["status"].map(STATUS_RANK).fillna(3)
    ranked = table.assign(_rank=rank).sort_values(["_rank", "_mtime"], ascending=[True, False])
    kept = ranked.drop_duplicates(ROW_KEYS).drop(columns="_rank")
    if len(kept) < len(table):
        log.warning("%d duplicate point folders ignored", len(table) - len(kept))
    return kept


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """``results.csv``: one row per point; integer columns stay integers even with gaps."""
    out = table.copy()
    for column in INT_COLUMNS:
        if column in out:
            out[column] = pd.to_numeric(out[column], errors="coerce").round().astype("Int64")
    atomic_write_text(path, out.to_csv(index=False))
    return path


def default_out_dir(sweep_dirs: list[Path]) -> Path:
    """The sweep folder itself for one sweep; ``<first>/combined`` for several."""
    first = Path(sweep_dirs[0])
    return first if len(sweep_dirs) == 1 else first / "combined"


def select_strategies(table: pd.DataFrame, strategies: list[str] | None) -> pd.DataFrame:
    """Only the rows of ``strategies`` (all when None); an unknown name is a UserError."""
    if not strategies:
        return table
    present = strategy_order(table["strategy"].dropna().astype(str))
    unknown = [s for s in strategies if s not in present]
    if unknown:
        raise UserError(
            f"strategy {', '.join(unknown)} not in the results; they have: " + ", ".join(present)
        )
    return table[table["strategy"].isin(strategies)].reset_index(drop=True)


def at_test_resolution(table: pd.DataFrame, which: str) -> pd.DataFrame:
    """The table with ``top1`` at each point's best test side when ``which`` is ``best``
    (``plot.test_resolution``); ``top1_tested_at`` says so, for the captions
    (:func:`bench.analysis.text.describe_budget`).

    The side is the one chosen on the validation split
    (``val_top1_at_best_test_resolution`` holds the top-1 that chose it) and ``top1`` is the
    test split's there. Where an ok point has no such choice (trained without
    ``data.val_fraction``, or by a version that chose on the test split) the request is
    refused in one line: its best test side would be the luckiest of several test-split
    numbers, and a table mixing such points with others would be uneven.
    """
    if which != "best":
        return table
    empty = pd.Series(float("nan"), index=table.index)
    chosen = pd.to_numeric(table.get("val_top1_at_best_test_resolution", empty), errors="coerce")
    unchosen = int(((table["status"] == "ok") & chosen.isna()).sum())
    if unchosen:
        ok = int((table["status"] == "ok").sum())
        raise UserError(
            f"--test-resolution best (plot.test_resolution=best) needs each point's side chosen "
            f"on a validation split: {unchosen} of {ok} ok points have none (trained without "
            "data.val_fraction, or by a version that chose it on the test split); train with "
            "data.val_fraction=0.1 or use --test-resolution train"
        )
    best = pd.to_numeric(table.get("top1_at_best_test_resolution", empty), errors="coerce")
    top1 = pd.to_numeric(table["top1"], errors="coerce")
    return table.assign(top1=best.where(chosen.notna(), top1), top1_tested_at="best")
