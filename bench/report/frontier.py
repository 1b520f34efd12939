"""The compute frontier written and drawn: ``tables/frontier.{csv,md}``,
``tables/frontier_leaders.csv`` and ``figures/compute_frontier.*``.

Its numbers (levels, envelopes, the frontier, who leads at each budget and the crossovers)
are :mod:`bench.analysis.frontier`' and :mod:`bench.analysis.frontier_leaders`' (re-exported
here).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.analysis.frontier import (
    FRONTIER_COLUMNS,
    KEYS,
    envelope_index,
    frontier_levels,
    frontier_table,
    series_points,
)
from bench.analysis.frontier_leaders import (
    BASELINE_LABEL,
    about,
    budget_steps,
    crossover_lines,
    crossovers,
    label,
    leader_rows,
    leader_steps,
)
from bench.report.prepared import Prepared
from bench.report.style import save_and_close
from bench.schema import Decide
from bench.store import atomic_write_text

__all__ = [
    "FRONTIER_CAPTION",
    "FRONTIER_COLUMNS",
    "KEYS",
    "LEADERS_CAPTION",
    "LEADERS_HEADER",
    "about",
    "budget_steps",
    "crossover_lines",
    "crossovers",
    "envelope_index",
    "frontier_levels",
    "frontier_markdown",
    "frontier_table",
    "series_points",
    "write_frontier",
]


def frontier_markdown(levels: pd.DataFrame, leaders: pd.DataFrame, lines: list[str]) -> str:
    """tables/frontier.md: the frontier's levels, the leader at each budget, the crossovers."""
    out = [FRONTIER_CAPTION, "", "| Training FLOPs | Strategy | φ | Budget | Top-1 (%) | Seeds | "
           "Flags |", "|---:|:---|---:|:---|---:|---:|:---|"]  # fmt: skip
    for _, r in levels[levels["on_frontier"]].iterrows():
        out.append(
            f"| {r['train_flops']:.3g} | {label(r['strategy'])} | {r['phi']:g} | {r['budget']} "
            f"| {100 * r['top1']:.1f} | {int(r['n'])} | {r['flags'] or '—'} |"
        )
    out += [
        "",
        LEADERS_CAPTION,
        "",
        LEADERS_HEADER,
        "|---:|:---|---:|:---|---:|---:|---:|:---|:---|",
    ]
    for _, r in leaders.iterrows():
        out.append(
            f"| {_span(r)} | {label(r['leader'])} | {r['phi']:g} | {r['budget']} | "
            f"{100 * r['top1']:.1f} | {r['seeds']} | {r['n_series']} | {r['verdict']} | "
            f"{r['flags'] or '—'} |"
        )
    return "\n".join([*out, "", *(f"- {line}" for line in lines), ""])


LEADERS_HEADER = (
    "| Training FLOPs | Leader | φ | Budget | Top-1 (%) | Seeds | Series | Verdict | Flags |"
)


def _span(row: pd.Series) -> str:
    first, last = row["train_flops"], row["train_flops_last"]
    return f"{first:.3g}" if first == last else f"{first:.3g}–{last:.3g}"


FRONTIER_CAPTION = (
    "Compute frontier: the best top-1 reached with at most each training compute (levels pool "
    f"seeds). φ 0 is the shared baseline, its own series ({BASELINE_LABEL}), never a strategy's "
    "point. Flags: the level's ok seeds still improving, not above chance or off their MAC "
    "target, counted."
)
LEADERS_CAPTION = (
    "Leader at each training budget (training FLOPs within 1.1x of a budget's first are that "
    "budget): each series offers its best level so far by mean, and the best of those leads by "
    'mean. Verdict: "decided" when bench.analysis.decide\'s paired t-test (seeds paired across '
    "budgets, Holm over the budget's comparisons) puts the leader ahead of every other series; it "
    "assumes roughly normal paired differences and independent seeds, and does not correct for "
    'choosing each series\' level by mean on the same seeds. Otherwise "leads by mean" and why '
    "not (one seed, undecided, tied within the margin). Series: how many were compared. Flags: "
    "the leader's level's, counted."
)


def write_frontier(
    prep: Prepared,
    budgets: dict[str, str],
    out_dir: Path,
    decide: Decide | None = None,
    looks: int = 1,
) -> tuple[dict[str, Path], list[Path], list[str], pd.DataFrame]:
    """Write tables/frontier.{csv,md}, tables/frontier_leaders.csv and figures/compute_frontier.*;
    return the table paths, the figure paths, the crossover lines and the levels (for the fits).
    ``decide`` and ``looks``: the sweep's decide settings
    (:func:`bench.analysis.decide.settings`)."""
    from bench.report.frontier_plot import frontier_caption, plot_frontier

    levels = frontier_levels(prep.points, budgets)
    steps = leader_steps(levels, series_points(prep.points), decide, looks)
    lines, leaders = crossover_lines(levels, steps), leader_rows(steps)
    tables = Path(out_dir) / "tables"
    paths = {"frontier_csv": tables / "frontier.csv", "frontier_markdown": tables / "frontier.md"}
    paths["frontier_leaders_csv"] = tables / "frontier_leaders.csv"
    table = frontier_table(prep.points, levels)
    atomic_write_text(paths["frontier_csv"], table.to_csv(index=False))
    atomic_write_text(paths["frontier_markdown"], frontier_markdown(levels, leaders, lines))
    atomic_write_text(paths["frontier_leaders_csv"], leaders.to_csv(index=False))
    fig = plot_frontier(prep, levels, steps, lines)
    text = frontier_caption(levels, steps, lines, "top1_tested_at" in prep.points)
    out = Path(out_dir) / "figures"
    figures = save_and_close(fig, out, "compute_frontier", prep.options.formats, text)
    return paths, figures, lines, levels
