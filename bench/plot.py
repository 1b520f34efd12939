"""``python -m bench.plot SWEEP_DIR [SWEEP_DIR ...] [--out DIR]``: figures and tables.

Reads every ``SWEEP_DIR/*/result.json`` (one per point; folders such as
``trained/``, ``wandb/``, ``figures/`` hold none and are skipped) into one
flat pandas table and writes, atomically:

    <out>/results.csv                       one row per point
    <out>/figures/<name>.png|.pdf|.svg      bench.figures.FIGURE_NAMES
    <out>/tables/results_table.md|.tex      bench.tables (EfficientNet Table 3 style)

``<out>`` is the sweep folder itself for one sweep. Several sweeps are drawn
together (colour per strategy, line style per sweep) into ``--out DIR``,
by default ``<first SWEEP_DIR>/combined/``; their own folders are not touched.

The end-of-sweep Hydra callback calls :func:`build_report` and logs the
returned figures and table to W&B itself; this module never imports wandb.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import UserError, exit_on_user_error
from bench.record import csv_columns, csv_row, int_columns
from bench.store import NOT_POINTS, atomic_write_text, is_point_folder

log = logging.getLogger("bench.plot")

USAGE = """\
usage: python -m bench.plot SWEEP_DIR [SWEEP_DIR ...] [--out DIR]

Build figures (top-1 vs FLOPs, params, activations, throughput, wall time;
Pareto frontier) and tables from the result.json files under each SWEEP_DIR.

  one SWEEP_DIR   writes SWEEP_DIR/results.csv, SWEEP_DIR/figures/, SWEEP_DIR/tables/
  several         draws them together into --out DIR (default: FIRST/combined/)
  --out DIR       where to write instead
  -h, --help      show this help
"""

INTERFACE = csv_columns()  # results.csv's columns, in order (bench.record)
INT_COLUMNS = int_columns()
STATUS_RANK = {"ok": 0, "diverged": 1, "failed": 2}


@dataclass
class Report:
    """What :func:`build_report` wrote: the table it drew from and every output path."""

    table: pd.DataFrame
    figures: dict[str, list[Path]]
    tables: dict[str, Path]
    csv: Path
    missing: int
    out_dir: Path


def read_sweep(sweep_dir: Path) -> tuple[list[dict[str, Any]], int]:
    """Flat rows of one sweep's points, and how many point folders have no readable result yet."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.exists():
        raise UserError(f"{sweep_dir} does not exist")
    if not sweep_dir.is_dir():
        raise UserError(f"{sweep_dir} is not a folder (expected a sweep folder such as runs/NAME)")
    rows, missing = [], 0
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
        row = csv_row(result)
        row["point"] = folder.name
        row["_mtime"] = path.stat().st_mtime
        rows.append(row)
    if not rows:
        pending = f" ({_folders(missing)} without one yet)" if missing else ""
        raise UserError(f"no result.json under {sweep_dir}{pending}")
    return rows, missing


def _folders(n: int) -> str:
    return f"{n} point folder{'' if n == 1 else 's'}"


def sweep_labels(sweep_dirs: list[Path]) -> list[str]:
    """A distinct name per sweep folder: its name, or parent/name when names collide."""
    names = [Path(d).resolve().name for d in sweep_dirs]
    labels = [
        f"{Path(d).resolve().parent.name}/{n}" if names.count(n) > 1 else n
        for d, n in zip(sweep_dirs, names, strict=True)
    ]
    return [lab if labels.count(lab) == 1 else f"{lab}#{i + 1}" for i, lab in enumerate(labels)]


def load_results(sweep_dirs: list[Path]) -> tuple[pd.DataFrame, int]:
    """Every point of every sweep as one flat table (``sweep`` names its folder), and the missing.

    Rows are sorted by sweep, strategy order, phi and seed. When two folders
    hold the same (sweep, strategy, phi, seed) (``phi1`` and ``phi1.0``), the
    best status, then the newest file, is kept.
    """
    from bench.tables import strategy_order

    rows, missing, labels = [], 0, sweep_labels(sweep_dirs)
    for sweep_dir, label in zip(sweep_dirs, labels, strict=True):
        found, absent = read_sweep(sweep_dir)
        rows += [row | {"sweep": label} for row in found]
        missing += absent
    table = pd.DataFrame(rows)
    for column in INTERFACE:
        if column not in table:
            table[column] = None
    table = _dedupe(table)
    order = {s: i for i, s in enumerate(strategy_order(table["strategy"].astype(str)))}
    sweeps = {s: i for i, s in enumerate(labels)}
    table = (
        table.assign(_sw=table["sweep"].map(sweeps), _st=table["strategy"].map(order))
        .sort_values(["_sw", "_st", "phi", "seed"], kind="stable")
        .drop(columns=["_sw", "_st", "_mtime"])
        .reset_index(drop=True)
    )
    extras = [c for c in table.columns if c not in INTERFACE and c != "point"]
    return table[INTERFACE + ["point"] + extras], missing


def _dedupe(table: pd.DataFrame) -> pd.DataFrame:
    keys = ["sweep", "strategy", "phi", "seed"]
    rank = table["status"].map(STATUS_RANK).fillna(3)
    ranked = table.assign(_rank=rank).sort_values(["_rank", "_mtime"], ascending=[True, False])
    kept = ranked.drop_duplicates(keys).drop(columns="_rank")
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


def build_report(sweep_dirs: list[Path], out_dir: Path | None = None) -> Report:
    """Read the sweeps' results and write the CSV, figures and tables; see the module doc.

    Raises :class:`UserError` when a folder does not exist or holds no
    result.json. Safe to call while points are still running: what is
    missing is counted (``Report.missing``) and said on the figures.
    """
    from bench.figures import build_figures
    from bench.tables import write_tables

    sweep_dirs = [Path(d) for d in sweep_dirs]
    if not sweep_dirs:
        raise UserError("no sweep folder given")
    table, missing = load_results(sweep_dirs)
    out = Path(out_dir) if out_dir is not None else default_out_dir(sweep_dirs)
    csv = write_csv(table, out / "results.csv")
    figures = build_figures(table, out / "figures", missing=missing)
    tables = write_tables(table, out / "tables")
    return Report(table, figures, tables, csv, missing, out)


def parse_args(argv: list[str]) -> tuple[list[Path], Path | None] | None:
    """Paths and ``--out``; None when help was asked for."""
    paths: list[Path] = []
    out: Path | None = None
    args = iter(argv)
    for arg in args:
        if arg in ("-h", "--help"):
            return None
        if arg == "--out" or arg.startswith("--out="):
            value = arg.partition("=")[2] if "=" in arg else next(args, "")
            if not value:
                raise UserError("--out needs a folder: --out DIR")
            out = Path(value)
        elif arg.startswith("-") and arg != "-":
            raise UserError(f"unknown option {arg}; usage: python -m bench.plot SWEEP_DIR ...")
        else:
            paths.append(Path(arg))
    if not paths:
        raise UserError("no sweep folder given; usage: python -m bench.plot SWEEP_DIR ...")
    return paths, out


def describe(report: Report) -> list[str]:
    """The lines the CLI prints: a count by status, then every path written."""
    counts = report.table["status"].value_counts()
    by_status = ", ".join(f"{n} {s}" for s, n in counts.items())
    lines = [f"{len(report.table)} points ({by_status})"]
    if report.missing:
        lines.append(f"{_folders(report.missing)} without result.json (running or killed)")
    lines.append(str(report.csv))
    lines += [str(p) for paths in report.figures.values() for p in paths]
    lines += [str(p) for p in report.tables.values()]
    return lines


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    """The command line: see :data:`USAGE`."""
    parsed = parse_args(sys.argv[1:] if argv is None else argv)
    if parsed is None:
        print(USAGE, end="")
        return
    report = build_report(*parsed)
    print("\n".join(describe(report)))


if __name__ == "__main__":
    main()
