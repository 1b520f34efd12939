"""Sweeps that differ only in the training budget, drawn and written: does the best strategy
change with it?

Bello et al. (2021, "Revisiting ResNets") found that which way of scaling
wins depends on how long the networks train. For sweeps that
:func:`bench.analysis.compare.compare` finds differ only in the budget:

- ``top1_vs_macs_by_budget``: one panel per budget, shortest first, on shared
  axes, each the top-1-vs-FLOPs curves of that budget's sweep;
- ``ranking_by_budget.{csv,md}``: per phi level and budget, the strategies
  ranked by mean top-1 (with the interval when there are seeds), the leader by
  mean and its margin over the runner-up, the winner where the paired test
  decides one, and whether the winner (or only the order by mean) changes
  between budgets at that level (the table is :mod:`bench.analysis.budget_ranking`', re-exported
  here). phi = 0 is one baseline shared by every strategy, so it is not ranked.

A winner is a tested one: :func:`bench.analysis.decide.winners`, the strategy that
wins its paired comparison (by seed, Holm over the level's comparisons) with every
other strategy of that level and budget. Elsewhere the rank-1 strategy only
"leads by mean" (one seed, undecided, or tied within the margin), and "the winner
changes between budgets" is said only between two decided winners; a change of
the leader by mean is said as such, untested.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from bench.analysis.budget_ranking import RANKING_COLUMNS, budget_order, rank_by_budget
from bench.analysis.budget_verdicts import changes_cell, verdict_lines, winner_cell
from bench.analysis.flags import table_note
from bench.analysis.text import span
from bench.report.axes import clamp_top1, finish, log_x
from bench.report.draw import bad_handles, draw_bad, draw_curves, legend, strategy_handles
from bench.report.flags import draw_flags
from bench.report.prepared import Prepared, bad_points, baseline, subset
from bench.report.style import RC, Y_LABEL, new_figure
from bench.report.tables import INTERVAL_SENTENCES, format_top1, markdown_table
from bench.report.top1_vs_cost import AXES, caption
from bench.store import atomic_write_text

__all__ = [
    "RANKING_COLUMNS", "TESTED", "budget_caption", "budget_order", "plot_top1_by_budget",
    "rank_by_budget", "ranking_caption", "ranking_markdown", "write_ranking",
]  # fmt: skip


def plot_top1_by_budget(prep: Prepared, budgets: dict[str, str]) -> Figure:
    """One top-1-vs-FLOPs panel per budget on shared axes; not saved (the caller closes it)."""
    order = budget_order(prep.points, budgets)
    spec = AXES["top1_vs_macs"]
    with plt.rc_context(RC):
        options = prep.options
        fig, axes = new_figure(budget_caption(prep), options.caption, options.width, len(order),
                               sharex=True, sharey=True)  # fmt: skip
        flags: set[str] = set()
        statuses: set[str] = set()
        labels = []
        for ax, sweep in zip(axes, order, strict=True):
            part = subset(prep, [sweep])
            bad = bad_points(part.points, part.levels, spec.column)
            labels.append(draw_curves(ax, part, spec.column))
            draw_bad(ax, bad, prep.colors)
            flags |= draw_flags(ax, part.levels, spec.column)
            statuses |= set(bad["status"])
            ax.set_title(budgets[sweep])
        xs = prep.levels[spec.column].to_numpy(float)
        log_x(axes[0], xs, baseline(prep.points, spec.column))
        clamp_top1(axes[0])
        for ax, placed in zip(axes, labels, strict=True):  # once the shared limits are final
            first = ax.get_subplotspec().is_first_col()
            finish(ax, spec.label, placed, ylabel=Y_LABEL if first else "")
        handles = strategy_handles(subset(prep, prep.sweeps[:1])) + bad_handles(statuses)
        legend(fig, handles, flags)
    return fig


def budget_caption(prep: Prepared) -> str:
    """The by-budget figure's caption: model and data, panels, then the cost figure's notes."""
    notes = caption(prep).split("\n", 1)[1]
    seeds = span(prep.levels["n"])
    return f"{_setup(prep)} · one panel per training budget · seeds: {seeds}\n{notes}"


def _setup(prep: Prepared) -> str:
    points = prep.points
    model = ", ".join(dict.fromkeys(points["model"].dropna().astype(str)))
    data = ", ".join(dict.fromkeys(points["data"].dropna().astype(str)))
    return f"{model} on {data}"


def ranking_markdown(prep: Prepared, ranking: pd.DataFrame) -> str:
    """The ranking as a caption, one row per (phi, budget), and closing lines on the winners."""
    levels = prep.levels.set_index(["sweep", "strategy", "phi"])
    rows = []
    for (phi, sweep), group in ranking.groupby(["phi", "sweep"], sort=False):
        cells = [f"{s} {format_top1(levels.loc[(sweep, s, phi)])}" for s in group["strategy"]]
        first = group.iloc[0]
        winner = "".join(group.loc[group["winner"], "strategy"])
        margin = "—" if pd.isna(first["margin"]) else f"{100 * first['margin']:.1f}"
        rows.append({
            "phi": f"{phi:g}", "budget": first["budget"], "ranking": " > ".join(cells),
            "winner": winner_cell(first, winner), "margin": margin,
            "changes": changes_cell(first),
        })  # fmt: skip
    frame = pd.DataFrame(rows, columns=["phi", "budget", "ranking", "winner", "margin", "changes"])
    headers = ["φ", "Budget", "Ranking by mean, best first: top-1 (%)", "Winner (paired test)",
               "Lead by mean (pp)", "Winner changes between budgets"]  # fmt: skip
    table = markdown_table(frame, headers, {"budget", "ranking", "winner", "changes"})
    closing = " ".join(verdict_lines(ranking))
    return f"{ranking_caption(prep, ranking)}\n\n{table}\n{closing}\n"


def ranking_caption(prep: Prepared, ranking: pd.DataFrame) -> str:
    """What the ranking table shows: setup, interval, how a winner is decided, marks; phi = 0
    left out."""
    interval = prep.options.interval
    shown = set(ranking["interval"])
    parts = [INTERVAL_SENTENCES[interval]] if interval in shown else []
    if "range" in shown and interval != "range":
        parts.append("levels with 2 seeds: mean [lowest, highest] seed")
    intervals = "; ".join(parts) or "one seed per level, no interval"
    text = (
        f"{_setup(prep)}: strategies ranked by mean top-1 at each phi level and training "
        f"budget (phi = 0, one shared baseline, is not ranked). Top-1: {intervals}. {TESTED}"
    )
    note = table_note(prep.levels)
    return f"{text} {note}." if note else text


TESTED = (
    "Winner: named only where the paired test (bench.analysis.decide: paired by seed, Holm over "
    "the level's comparisons) puts one strategy ahead of every other at that level and budget; "
    "otherwise none, and the first by mean only leads by mean (one seed, undecided, or tied "
    "within the margin). Lead: first minus second by mean, untested. Winner changes between "
    'budgets: yes only between two decided winners; "by mean, untested" when only the first '
    "by mean changes."
)


def write_ranking(
    prep: Prepared, budgets: dict[str, str], out_dir: Path, decisions: pd.DataFrame | None = None
) -> dict[str, Path]:
    """``ranking_by_budget.csv`` (fractions, full precision) and ``.md`` into ``out_dir``;
    ``decisions`` as for :func:`rank_by_budget`."""
    ranking = rank_by_budget(prep, budgets, decisions)
    paths = {"ranking_csv": Path(out_dir) / "ranking_by_budget.csv"}
    paths["ranking_markdown"] = Path(out_dir) / "ranking_by_budget.md"
    atomic_write_text(paths["ranking_csv"], ranking.to_csv(index=False))
    atomic_write_text(paths["ranking_markdown"], ranking_markdown(prep, ranking))
    return paths
