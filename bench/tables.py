"""Per-level summaries and paper tables (EfficientNet Table 3 style) from the results table.

A sweep trains every (strategy, phi, seed) point; readers compare strategies
at one budget level, so the unit of a table row is a *level*: one strategy at
one phi, its seeds pooled. :func:`summarize_levels` does the pooling once, and
the figures use it too, so a figure's band and a table's "±" are the same
number. Top-1 is pooled over finished (``ok``) seeds only; diverged and failed
seeds are counted and named, never averaged in and never silently dropped.

The interval is Student's t (two-sided 95%) on the seeds' mean
(:func:`bench.stats.mean_ci`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from bench.stats import mean_ci
from bench.store import atomic_write_text

# Strategies in the order every figure, legend and table uses (DESIGN.md); others follow sorted.
STRATEGY_ORDER = ("depth", "width", "resolution", "compound", "linear", "uniform", "fast")
LEVEL_KEYS = ["sweep", "strategy", "phi"]
# Columns pooled per level: the mean over ok seeds, or over any seed when none finished.
LEVEL_METRICS = (
    "macs",
    "params",
    "activations",
    "depth_mult",
    "width_mult",
    "res_mult",
    "resolution",
    "extra_blocks",
    "target_macs",
    "images_per_sec",
    "wall_seconds",
    "epochs",
)


def strategy_order(names: Iterable[str]) -> list[str]:
    """Known strategies in DESIGN.md's order, then any others sorted, so every output agrees."""
    present = {str(n) for n in names}
    return [s for s in STRATEGY_ORDER if s in present] + sorted(present - set(STRATEGY_ORDER))


def summarize_levels(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (sweep, strategy, phi): seed counts by status, pooled metrics, top-1 mean/CI.

    Columns: the keys, ``n``, ``n_ok``, ``n_diverged``, ``n_failed``, the
    :data:`LEVEL_METRICS` that exist, ``top1_mean``, ``top1_hw`` (fractions;
    ``top1_hw`` is NaN below two ok seeds). Rows are sorted by sweep (first
    seen first), strategy (:func:`strategy_order`) and phi.
    """
    table = _with_sweep(table)
    keys = LEVEL_KEYS
    metrics = [m for m in LEVEL_METRICS if m in table]
    numeric = table[metrics].apply(pd.to_numeric, errors="coerce")
    frame = pd.concat([table[keys + ["status"]], numeric, _top1(table)], axis=1)
    ok = frame[frame["status"] == "ok"]
    groups = frame.groupby(keys, sort=False, dropna=False)

    levels = groups.size().rename("n").to_frame()
    for status in ("ok", "diverged", "failed"):
        levels[f"n_{status}"] = groups["status"].agg(lambda s, st=status: int((s == st).sum()))
    pooled = ok.groupby(keys, sort=False, dropna=False)[metrics].mean()
    levels = levels.join(pooled.combine_first(groups[metrics].mean()))
    ci = {key: mean_ci(group) for key, group in ok.groupby(keys, sort=False)["top1"]}
    index = pd.MultiIndex.from_tuples(list(ci), names=keys)
    ci_frame = pd.DataFrame(list(ci.values()), index=index, columns=["top1_mean", "top1_hw"])
    levels = levels.join(ci_frame.astype(float)).reset_index()
    return _sort_levels(levels, table)


def _sort_levels(frame: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Sort rows by sweep (as first seen in ``table``), strategy order, then phi."""
    sweeps = list(dict.fromkeys(_with_sweep(table)["sweep"]))
    strategies = strategy_order(frame["strategy"])
    return (
        frame.assign(
            _sweep=frame["sweep"].map({s: i for i, s in enumerate(sweeps)}),
            _strategy=frame["strategy"].map({s: i for i, s in enumerate(strategies)}),
        )
        .sort_values(["_sweep", "_strategy", "phi"], kind="stable")
        .drop(columns=["_sweep", "_strategy"])
        .reset_index(drop=True)
    )


def _with_sweep(table: pd.DataFrame) -> pd.DataFrame:
    return table if "sweep" in table else table.assign(sweep="")


def _top1(table: pd.DataFrame) -> pd.Series:
    if "top1" not in table:
        return pd.Series(math.nan, index=table.index, name="top1")
    return pd.to_numeric(table["top1"], errors="coerce")


# ---------------------------------------------------------------- formatting


def format_count(value: float, digits: int = 3, trim: bool = True) -> str:
    """A count with an SI suffix and ``digits`` significant digits: 2.6M, 42M, 1.6G.

    ``trim=False`` keeps trailing zeros (5.10M), so a table column reads evenly.
    """
    if value is None or pd.isna(value):
        return "—"
    value = float(f"{float(value):.{digits}g}")  # round first: 999.7M is 1G, not 1000M
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return _significant(value / scale, digits, trim) + suffix
    return _significant(value, digits, trim)


def _significant(x: float, digits: int, trim: bool = True) -> str:
    if x == 0:
        return "0"
    place = digits - 1 - math.floor(math.log10(abs(x)))
    x = round(x, place)  # 519.1 at 2 digits is 520, not 519
    text = f"{x:.{max(0, place)}f}"
    return text.rstrip("0").rstrip(".") if trim and "." in text else text


def format_top1(level: pd.Series, digits: int = 1, pm: str = "±") -> str:
    """Top-1 (%) cell: "mean", "mean ± half-width", or the status when no seed finished."""
    notes = [f"{int(level[f'n_{s}'])} {s}" for s in ("diverged", "failed") if level[f"n_{s}"] > 0]
    if level["n_ok"] == 0 or pd.isna(level["top1_mean"]):
        bad = [s for s in ("diverged", "failed") if level[f"n_{s}"] > 0]
        return "/".join(bad) or "no result"
    text = f"{100 * level['top1_mean']:.{digits}f}"
    if not pd.isna(level["top1_hw"]):
        text += f" {pm} {100 * level['top1_hw']:.{digits}f}"
    return f"{text} ({', '.join(notes)})" if notes else text


def table_frame(table: pd.DataFrame, digits: int = 1, pm: str = "±") -> pd.DataFrame:
    """The displayed table: one row per level, strings ready for Markdown or LaTeX.

    Columns: phi, strategy, (sweep when several), d, w, r, resolution, MACs,
    params (M), top-1 (%). Rows grouped by phi, then strategy order, then sweep.
    """
    levels = summarize_levels(table)
    several = levels["sweep"].nunique() > 1
    levels = levels.sort_values("phi", kind="stable").reset_index(drop=True)
    rows = []
    for _, lv in levels.iterrows():
        row = {"phi": f"{lv['phi']:g}", "strategy": str(lv["strategy"])}
        if several:
            row["sweep"] = str(lv["sweep"])
        row |= {
            "d": _fixed(lv.get("depth_mult"), 2),
            "w": _fixed(lv.get("width_mult"), 2),
            "r": _fixed(lv.get("res_mult"), 2),
            "resolution": _fixed(lv.get("resolution"), 0),
            "macs": format_count(lv.get("macs"), trim=False),
            "params": _params_m(lv.get("params")),
            "top1": format_top1(lv, digits, pm),
        }
        rows.append(row)
    columns = ["phi", "strategy"] + (["sweep"] if several else []) + list(_HEADERS)[2:]
    return pd.DataFrame(rows, columns=columns)


_HEADERS = {
    "phi": ("φ", r"$\phi$"),
    "strategy": ("Strategy", "Strategy"),
    "d": ("d", "$d$"),
    "w": ("w", "$w$"),
    "r": ("r", "$r$"),
    "resolution": ("Resolution", "Res."),
    "macs": ("MACs", "MACs"),
    "params": ("Params (M)", "Params (M)"),
    "top1": ("Top-1 (%)", r"Top-1 (\%)"),
}
_SWEEP_HEADER = ("Sweep", "Sweep")


def _fixed(value: object, decimals: int) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):.{decimals}f}"


def _params_m(value: object) -> str:
    if value is None or pd.isna(value):
        return "—"
    millions = float(value) / 1e6
    return f"{millions:.{2 if millions < 10 else 1 if millions < 100 else 0}f}"


def caption(table: pd.DataFrame) -> str:
    """One sentence saying what the table's numbers are (model, data, budget, seeds, interval)."""
    levels = summarize_levels(table)
    seeds = _span(levels["n"])
    what = describe_setup(table)
    interval = (
        "mean ± half-width of the 95% t-interval over seeds"
        if (levels["n_ok"] > 1).any()
        else "one seed per point"
    )
    return f"{what}; seeds per point: {seeds}. Top-1: {interval}."


def describe_setup(table: pd.DataFrame) -> str:
    """ "tiny on shapes · 5 epochs per point": what was trained and for how long."""
    model = _join(table, "model") or "model"
    data = _join(table, "data") or "data"
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
        lo, hi = (_significant(round(v, 1), 3) for v in (epochs.min(), epochs.max()))
        span = lo if lo == hi else f"{lo}–{hi}"
        parts.append(f"{span} epoch{'' if span == '1' else 's'} per point")
    return ", ".join(parts) or "budget unknown"


def _join(table: pd.DataFrame, column: str) -> str:
    if column not in table:
        return ""
    return ", ".join(str(v) for v in dict.fromkeys(table[column].dropna()))


def _span(counts: pd.Series) -> str:
    lo, hi = int(counts.min()), int(counts.max())
    return str(lo) if lo == hi else f"{lo}–{hi}"


# ---------------------------------------------------------------- writers


def to_markdown(table: pd.DataFrame, digits: int = 1) -> str:
    """The results table as GitHub Markdown, a caption line first."""
    frame = table_frame(table, digits)
    headers = [_header(c, 0) for c in frame.columns]
    cells = [headers] + frame.astype(str).values.tolist()
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    right = [c not in ("strategy", "sweep") for c in frame.columns]

    def line(row: Sequence[str]) -> str:
        padded = (
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(row, widths, right, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if r else (":" + "-" * (w + 1))
            for w, r in zip(widths, right, strict=True)
        )
        + "|"
    )
    body = [line(headers), rule] + [line(row) for row in cells[1:]]
    return f"{caption(table)}\n\n" + "\n".join(body) + "\n"


def to_latex(table: pd.DataFrame, digits: int = 1, label: str = "tab:scaling") -> str:
    """The results table as a booktabs LaTeX ``table`` (pandas Styler), a rule between levels."""
    frame = table_frame(table, digits, pm=r"$\pm$")
    text_cols = [c for c in ("strategy", "sweep") if c in frame]
    show = frame.copy()
    show["phi"] = show["phi"].where(show["phi"] != show["phi"].shift(), "")
    show.columns = [_header(c, 1) for c in frame.columns]
    styler = show.style.hide(axis="index").format(
        escape="latex", subset=[_header(c, 1) for c in text_cols]
    )
    align = "".join("l" if c in text_cols else "r" for c in frame.columns)
    tex = styler.to_latex(
        column_format=align,
        hrules=True,
        position_float="centering",
        caption=_latex_escape(caption(table)).replace("±", r"$\pm$"),
        label=label,
    )
    return _rules_between_levels(tex, list(frame["phi"]))


def _header(column: str, which: int) -> str:
    return (_HEADERS.get(column) or _SWEEP_HEADER)[which]


def _latex_escape(text: str) -> str:
    for char in ("\\", "&", "%", "$", "#", "_", "{", "}"):
        text = text.replace(char, "\\" + char)
    return text.replace("·", r"$\cdot$").replace("–", "--")


def _rules_between_levels(tex: str, phis: list[str]) -> str:
    """Styler cannot put rules inside the body: add ``\\midrule`` where phi changes."""
    lines = tex.splitlines()
    start = lines.index(r"\midrule") + 1
    out = lines[:start]
    for i, row in enumerate(lines[start : start + len(phis)]):
        if i and phis[i] != phis[i - 1]:
            out.append(r"\midrule")
        out.append(row)
    return "\n".join(out + lines[start + len(phis) :]) + "\n"


def write_tables(table: pd.DataFrame, out_dir: Path, digits: int = 1) -> dict[str, Path]:
    """Write ``results_table.md`` and ``results_table.tex`` into ``out_dir`` (atomically)."""
    out_dir = Path(out_dir)
    paths = {"markdown": out_dir / "results_table.md", "latex": out_dir / "results_table.tex"}
    atomic_write_text(paths["markdown"], to_markdown(table, digits))
    atomic_write_text(paths["latex"], to_latex(table, digits))
    return paths
