"""The results table (EfficientNet's Table 3 layout) in Markdown and LaTeX.

One row per level (a strategy at a phi, seeds pooled by
:func:`bench.analysis.levels.summarize_levels`): phi, strategy, d, w, r, the
blocks per stage that were built, resolution, MACs, parameters and top-1 with
its interval. d is the multiplier the planner chose; rounding per stage can
make the network much deeper than d reads (VGG-11's 1-1-2-2-2 stages at
d = 1.0001 round up to 2-2-3-3-3), so the blocks are shown beside it. The header and the
caption say which interval (``plot.interval``); a cell whose interval was
clipped to [0, 100] %, or whose level had too few seeds for one (then the
seeds' range), shows its ends in brackets. Diverged and failed seeds are
counted in the cell, and flagged levels carry a footnote mark
(:mod:`bench.report.flags`) explained in the caption.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bench.analysis.flags import marks, table_note
from bench.analysis.levels import summarize_levels
from bench.analysis.text import (
    INTERVAL_HEADERS,
    describe_setup,
    format_count,
    latex_escape,
    span,
)
from bench.store import atomic_write_text

COLUMNS = (
    "phi", "strategy", "sweep", "d", "w", "r", "blocks", "resolution", "macs", "params", "top1",
)  # fmt: skip
HEADERS = {
    "phi": "φ",
    "strategy": "Strategy",
    "sweep": "Sweep",
    "d": "d",
    "w": "w",
    "r": "r",
    "blocks": "Blocks",
    "resolution": "Resolution",
    "macs": "MACs",
    "params": "Params (M)",
}
TEX_HEADERS = {"phi": r"$\phi$", "d": "$d$", "w": "$w$", "r": "$r$", "resolution": "Res."}
INTERVAL_SENTENCES = {
    "t95": "mean ± half-width of the 95% t-interval over ok seeds",
    "sd": "mean ± one standard deviation over ok seeds",
    "range": "mean [lowest, highest] over ok seeds",
}


def format_top1(level: pd.Series, digits: int = 1) -> str:
    """Top-1 (%) cell: "mean ± half", "mean [low, high]" (clipped, or the range of fewer than
    three seeds), or the status when no seed finished; then flag marks and bad-seed counts."""
    notes = [f"{int(level[f'n_{s}'])} {s}" for s in ("diverged", "failed") if level[f"n_{s}"] > 0]
    if level["n_ok"] == 0 or pd.isna(level["top1_mean"]):
        bad = [s for s in ("diverged", "failed") if level[f"n_{s}"] > 0]
        return "/".join(bad) or "no result"
    mean, low, high = (100 * level[f"top1_{k}"] for k in ("mean", "low", "high"))
    text = f"{mean:.{digits}f}"
    kind = level["top1_interval"]
    if kind in ("t95", "sd") and not level["top1_clipped"]:
        text += f" ± {high - mean:.{digits}f}"
    elif kind in ("t95", "sd", "range"):
        text += f" [{low:.{digits}f}, {high:.{digits}f}]"
    text += marks(level)
    return f"{text} ({', '.join(notes)})" if notes else text


def table_frame(levels: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """The displayed table: one row per level, strings ready for Markdown or LaTeX.

    Columns: phi, strategy, (sweep when several), d, w, r, blocks per stage,
    resolution, MACs, params (M), top-1 (%). Rows grouped by phi, then strategy order, then sweep.
    """
    several = levels["sweep"].nunique() > 1
    levels = levels.sort_values("phi", kind="stable").reset_index(drop=True)
    rows = [
        {
            "phi": f"{lv['phi']:g}",
            "strategy": str(lv["strategy"]),
            "sweep": str(lv["sweep"]),
            "d": _fixed(lv.get("depth_mult"), 2),
            "w": _fixed(lv.get("width_mult"), 2),
            "r": _fixed(lv.get("res_mult"), 2),
            "blocks": _blocks(lv.get("depths")),
            "resolution": _fixed(lv.get("resolution"), 0),
            "macs": format_count(lv.get("macs"), trim=False),
            "params": _params_m(lv.get("params")),
            "top1": format_top1(lv, digits),
        }
        for _, lv in levels.iterrows()
    ]
    columns = [c for c in COLUMNS if c != "sweep" or several]
    return pd.DataFrame(rows, columns=list(COLUMNS))[columns]


def top1_header(levels: pd.DataFrame, interval: str) -> str:
    """ "Top-1 (%, mean ± t95)": the header names the interval the cells show (the seeds'
    range when no level had seeds enough for ``interval``; none for one seed per level)."""
    shown = set(levels.loc[levels["n_ok"] > 0, "top1_interval"])
    kind = interval if interval in shown else "range" if "range" in shown else None
    return f"Top-1 (%, {INTERVAL_HEADERS[kind]})" if kind else "Top-1 (%)"


def _fixed(value: object, decimals: int) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):.{decimals}f}"


def _blocks(depths: object) -> str:
    """Blocks per stage as results.csv joins them ("1-1-2-2-2"); a dash where not recorded."""
    return depths if isinstance(depths, str) and depths else "—"


def _params_m(value: object) -> str:
    if value is None or pd.isna(value):
        return "—"
    millions = float(value) / 1e6
    return f"{millions:.{2 if millions < 10 else 1 if millions < 100 else 0}f}"


def caption(table: pd.DataFrame, levels: pd.DataFrame, interval: str = "t95") -> str:
    """What the table's numbers are: model, data, budget, seeds, the interval, the marks."""
    shown = set(levels.loc[levels["n_ok"] > 0, "top1_interval"])
    parts = []
    if interval in shown:
        parts.append(INTERVAL_SENTENCES[interval])
    if levels["top1_clipped"].any():
        parts.append("[low, high]: the interval's ends where it is clipped to [0, 100]%")
    if "range" in shown and interval != "range":
        parts.append("levels with 2 seeds: mean [lowest, highest] seed")
    if not parts:
        parts.append("one seed per point, no interval")
    text = f"{describe_setup(table)}; seeds per point: {span(levels['n'])}. "
    text += f"Top-1: {'; '.join(parts)}."
    note = table_note(levels)
    return f"{text} {note}." if note else text


# ---------------------------------------------------------------- writers


def markdown_table(frame: pd.DataFrame, headers: Sequence[str], left: set[str]) -> str:
    """A GitHub pipe table, columns padded; ``left`` columns left-aligned, others right."""
    cells = [list(headers)] + frame.astype(str).values.tolist()
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    right = [c not in left for c in frame.columns]

    def line(row: Sequence[str]) -> str:
        padded = (
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(row, widths, right, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|".join(
        ("-" * (w + 1) + ":") if r else (":" + "-" * (w + 1))
        for w, r in zip(widths, right, strict=True)
    )
    return "\n".join([line(cells[0]), f"|{rule}|"] + [line(row) for row in cells[1:]]) + "\n"


def to_markdown(table: pd.DataFrame, digits: int = 1, interval: str = "t95") -> str:
    """The results table as GitHub Markdown, a caption line first."""
    levels = summarize_levels(table, interval)
    frame = table_frame(levels, digits)
    headers = [HEADERS.get(c) or top1_header(levels, interval) for c in frame.columns]
    body = markdown_table(frame, headers, {"strategy", "sweep"})
    return f"{caption(table, levels, interval)}\n\n{body}"


def to_latex(
    table: pd.DataFrame, digits: int = 1, label: str = "tab:scaling", interval: str = "t95"
) -> str:
    """The results table as a booktabs LaTeX ``table`` (pandas Styler), a rule between levels."""
    levels = summarize_levels(table, interval)
    frame = table_frame(levels, digits)
    shown = frame.map(latex_escape)
    shown["phi"] = shown["phi"].where(frame["phi"] != frame["phi"].shift(), "")
    shown.columns = [
        TEX_HEADERS.get(c) or latex_escape(HEADERS.get(c) or top1_header(levels, interval))
        for c in frame.columns
    ]
    align = "".join("l" if c in ("strategy", "sweep") else "r" for c in frame.columns)
    tex = shown.style.hide(axis="index").to_latex(
        column_format=align,
        hrules=True,
        position_float="centering",
        caption=latex_escape(caption(table, levels, interval)),
        label=label,
    )
    return rules_between_levels(tex, list(frame["phi"]))


def rules_between_levels(tex: str, phis: list[str]) -> str:
    """Styler cannot put rules inside the body: add ``\\midrule`` where phi changes."""
    lines = tex.splitlines()
    start = lines.index(r"\midrule") + 1
    out = lines[:start]
    for i, row in enumerate(lines[start : start + len(phis)]):
        if i and phis[i] != phis[i - 1]:
            out.append(r"\midrule")
        out.append(row)
    return "\n".join(out + lines[start + len(phis) :]) + "\n"


def write_tables(
    table: pd.DataFrame, out_dir: Path, digits: int = 1, interval: str = "t95"
) -> dict[str, Path]:
    """Write ``results_table.md`` and ``results_table.tex`` into ``out_dir`` (atomically)."""
    out_dir = Path(out_dir)
    paths = {"markdown": out_dir / "results_table.md", "latex": out_dir / "results_table.tex"}
    atomic_write_text(paths["markdown"], to_markdown(table, digits, interval))
    atomic_write_text(paths["latex"], to_latex(table, digits, interval=interval))
    return paths
