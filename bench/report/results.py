"""Moved to :mod:`bench.analysis.results` (numbers, no drawing); this path keeps working for code
that imports it from here."""

from bench.analysis.results import (
    INT_COLUMNS,
    INTERFACE,
    ROW_KEYS,
    STATUS_RANK,
    Loaded,
    at_test_resolution,
    default_out_dir,
    folders,
    load_results,
    load_sweeps,
    read_sweep,
    select_strategies,
    sweep_labels,
    write_csv,
)

__all__ = [
    "INTERFACE",
    "INT_COLUMNS",
    "Loaded",
    "ROW_KEYS",
    "STATUS_RANK",
    "at_test_resolution",
    "default_out_dir",
    "folders",
    "load_results",
    "load_sweeps",
    "read_sweep",
    "select_strategies",
    "sweep_labels",
    "write_csv",
]
