"""Words and numbers as the report prints them: counts, budgets, intervals, LaTeX escapes.

Every figure caption, table cell and table caption goes through these, so the
same quantity reads the same everywhere (2.61M MACs, "5 epochs per point",
"95% t-interval of the mean").
"""

from __future__ import annotations

import math

import pandas as pd

# What each interval kind (bench.analysis.stats.seed_interval) is called in captions and headers.
INTERVAL_NAMES = {
    "t95": "95% t-interval of the mean",
    "sd": "mean ± 1 SD",
    "range": "lowest to highest seed",
}
INTERVAL_HEADERS = {"t95": "mean ± t95", "sd": "mean ± SD", "range": "mean [min, max]"}
CLIPPED = "clipped to [0, 100]%"
LATEX_SIGNS = {
    **{"±": r"$\pm$", "·": r"$\cdot$", "–": "--", "φ": r"$\phi$", "×": r"$\times$"},
    **{"†": r"$^{\dagger}$", "‡": r"$^{\ddagger}$", "§": r"$^{\S}$", ">": r"$>$"},
}


def format_count(value: float | None, digits: int = 3, trim: bool = True) -> str:
    """A count with an SI suffix and ``digits`` significant digits: 2.6M, 42M, 1.6G.

    ``trim=False`` keeps trailing zeros (5.10M), so a table column reads evenly.
    """
    if value is None or pd.isna(value):
        return "—"
    value = float(f"{float(value):.{digits}g}")  # round first: 999.7M is 1G, not 1000M
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return significant(value / scale, digits, trim) + suffix
    return significant(value, digits, trim)


def significant(x: float, digits: int, trim: bool = True) -> str:
    """``x`` to ``digits`` significant digits (519.1 at 2 digits is "520")."""
    if x == 0:
        return "0"
    place = digits - 1 - math.floor(math.log10(abs(x)))
    x = round(x, place)
    text = f"{x:.{max(0, place)}f}"
    return text.rstrip("0").rstrip(".") if trim and "." in text else text


def describe_setup(table: pd.DataFrame) -> str:
    """ "tiny on shapes · 5 epochs per point": what was trained and for how long."""
    model = join_values(table, "model") or "model"
    data = join_values(table, "data") or "data"
    return f"{model} on {data} · {describe_budget(table)}"


def describe_budget(table: pd.DataFrame) -> str:
    """ "5 epochs per point" or "equal training FLOPs" (from the ``budget``/``epochs`` columns)."""
    parts = []
    budgets = table["budget"].dropna().unique() if "budget" in table else []
    for budget in budgets:
        rows = table[table["budget"] == budget]
        if budget == "flops":
            parts.append("equal training FLOPs")
            continue
        epochs = pd.to_numeric(rows.get("epochs"), errors="coerce").dropna()
        if epochs.empty:
            parts.append(f"equal {budget}")
            continue
        lo, hi = (significant(round(v, 1), 3) for v in (epochs.min(), epochs.max()))
        span = lo if lo == hi else f"{lo}–{hi}"
        parts.append(f"{span} epoch{'' if span == '1' else 's'} per point")
    text = ", ".join(parts) or "budget unknown"
    if "top1_tested_at" in table and (table["top1_tested_at"] == "best").any():
        text += " · top-1 at each point's best test resolution"
    return text


def budget_label(rows: pd.DataFrame) -> str:
    """One sweep's budget in a few words: "2 epochs", "equal FLOPs (4 baseline epochs)"."""
    budgets = set(rows["budget"].dropna()) if "budget" in rows else set()
    epochs = pd.to_numeric(rows.get("epochs"), errors="coerce").dropna()
    spans = sorted({significant(round(float(v), 1), 3) for v in epochs}, key=float)
    span = "/".join(spans) or "?"
    unit = "epoch" if span == "1" else "epochs"
    if budgets == {"flops"}:
        return f"equal FLOPs ({span} baseline {unit})"
    return f"{span} {unit}" if budgets <= {"epochs"} else "/".join(sorted(budgets))


def join_values(table: pd.DataFrame, column: str) -> str:
    """The distinct values of ``column`` in first-seen order, comma separated."""
    if column not in table:
        return ""
    return ", ".join(str(v) for v in dict.fromkeys(table[column].dropna()))


def span(counts: pd.Series) -> str:
    """ "3" when every count is 3, else "2–3"."""
    counts = counts.dropna()
    if counts.empty:
        return "0"
    lo, hi = int(counts.min()), int(counts.max())
    return str(lo) if lo == hi else f"{lo}–{hi}"


def interval_note(kinds: set[str], asked: str) -> str:
    """What the interval around a level's mean is, for a caption: the kind asked for, and the
    seed range where a level had too few seeds for it; empty when every level has one seed."""
    notes = []
    if asked in kinds:
        clipped = f", {CLIPPED}" if asked in ("t95", "sd") else ""
        notes.append(f"band: {INTERVAL_NAMES[asked]}{clipped}")
    if "range" in kinds and asked != "range":
        notes.append("levels with 2 seeds: each seed and their range")
    return " · ".join(notes) or "one seed per level: no interval"


def latex_escape(text: str) -> str:
    """Plain text (a caption, a strategy name) safe inside LaTeX, Unicode signs as math."""
    for char in ("\\", "&", "%", "$", "#", "_", "{", "}"):
        text = text.replace(char, "\\" + char)
    for sign, tex in LATEX_SIGNS.items():
        text = text.replace(sign, tex)
    return text
