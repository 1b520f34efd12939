"""What a sweep shows: figures, tables, fits and verdicts drawn from its recorded results.

The orchestration is :mod:`bench.report.build`; the figures and tables are a module each
(style, cost, pareto, tables, budgets, families, fits, frontier, curves, cam). The numbers
they show (results, levels, statistics, decisions, verdict lines, frontier and fits, flags)
are :mod:`bench.analysis`'; the old paths (``bench.report.decide``, ``bench.report.stats``, ...)
re-export them. Importing this package loads no plotting library: :func:`build_report` and its
names are loaded on first use, and every drawing module selects matplotlib's Agg backend
(reports are drawn without a display) through :mod:`bench.report.style`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COST_FIGURES", "DEFAULT_PLOT", "FIGURE_NAMES", "Report", "build_report"]


def __getattr__(name: str) -> Any:
    """``bench.report.build_report`` and the other names of :data:`__all__`, imported on first
    use, so that ``import bench.report.decide`` does not load the report's builder."""
    if name in __all__:
        from bench.report import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
