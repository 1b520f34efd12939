"""What a sweep shows: figures, tables, fits and verdicts drawn from its recorded results.

The orchestration is :mod:`bench.report.build`; the figures and tables are a
module each (results, levels, flags, style, cost, pareto, tables, compare,
budgets, families, fits, curves, cam).
"""

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: reports are drawn without a display

from bench.report.build import (  # noqa: E402
    COST_FIGURES,
    DEFAULT_PLOT,
    FIGURE_NAMES,
    Report,
    build_report,
)

__all__ = ["COST_FIGURES", "DEFAULT_PLOT", "FIGURE_NAMES", "Report", "build_report"]
