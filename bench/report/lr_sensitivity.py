"""Does the best learning rate drift with scale? Validation top-1 against rate, per point.

For points tuned with ``tune.lrs`` (:mod:`bench.train.tuning`), each candidate's
validation top-1 (``lr_candidates`` in result.json): ``tables/lr_sensitivity.csv``
(one row per point and rate, the chosen one marked) and
``figures/lr_sensitivity.*`` (a line per point, coloured by strategy, the
chosen rate filled). If the best rate moves with phi, a comparison at one
fixed rate favours the networks that rate suits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from bench.analysis.lr_sensitivity import LR_COLUMNS, lr_table
from bench.report.prepared import Prepared
from bench.report.style import RC, new_figure, save_and_close
from bench.store import atomic_write_text

__all__ = ["LR_COLUMNS", "lr_table", "plot_lr_sensitivity", "write_lr_sensitivity"]


def plot_lr_sensitivity(prep: Prepared, table: pd.DataFrame) -> plt.Figure:
    """Validation top-1 against rate (log axis), a line per point; not saved."""
    text = "Validation top-1 against the peak learning rate · a line per point (strategy, phi, seed) · filled: the chosen rate"  # noqa: E501
    with plt.rc_context(RC):
        fig, (ax,) = new_figure(text, prep.options.caption, prep.options.width)
        for (strategy, phi, *_), rows in table.groupby(["strategy", "phi", "seed", "sweep"]):
            rows = rows.sort_values("lr")
            color = prep.colors.get(strategy, "0.4")
            marker, label = prep.markers.get(strategy, "o"), f"{strategy} φ={phi:g}"
            ax.plot(rows["lr"], 100 * rows["val_top1"], color=color, marker=marker, mfc="none",
                    label=label)  # fmt: skip
            best = rows[rows["chosen"]]
            ax.scatter(best["lr"], 100 * best["val_top1"], color=color, zorder=3, s=14)
        ax.set_xscale("log")
        ax.set_xlabel("Peak learning rate")
        ax.set_ylabel("Validation top-1 (%)")
        ax.legend(frameon=False, fontsize=5)
    return fig


def write_lr_sensitivity(
    prep: Prepared, results: dict[str, list[dict[str, Any]]], out_dir: Path
) -> tuple[dict[str, Path], list[Path]]:
    """tables/lr_sensitivity.csv and figures/lr_sensitivity.* when any point was tuned."""
    table = lr_table(results)
    if table.empty:
        return {}, []
    path = Path(out_dir) / "tables" / "lr_sensitivity.csv"
    atomic_write_text(path, table.to_csv(index=False))
    fig = plot_lr_sensitivity(prep, table)
    out = Path(out_dir) / "figures"
    text = "Validation top-1 against the peak learning rate, a line per tuned point"
    figures = save_and_close(fig, out, "lr_sensitivity", prep.options.formats, text)
    return {"lr_sensitivity_csv": path}, figures
