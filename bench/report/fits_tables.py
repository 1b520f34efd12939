"""The fits table: ``tables/fits.{csv,md,tex}`` with a caption saying what each column means."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.analysis.text import format_count
from bench.store import atomic_write_text

# Markdown keeps the caption's Unicode; LaTeX gets it escaped, then these substitutions.
_TEX_SYMBOLS = {
    **{"·": r"$\cdot$", "MACs^(−b)": r"MACs$^{-b}$", "×": r"$\times$", "∞": r"$\infty$"},
    **{"≤": r"$\le$", "φ": r"$\phi$", "–": "--"},
}


def fits_caption(fits: pd.DataFrame, tex: bool = False) -> str:
    """One line: what a, b, r2 and flops_to_match_best mean, points and seeds, interval kind."""
    targets = "; ".join(
        f"{r.best_strategy} at φ={r.best_phi:g}, {100 * r.best_top1:.1f}%, "
        f"baseline {format_count(r.baseline_macs)} MACs"
        for r in fits.drop_duplicates("sweep").itertuples()
    )
    lo, hi = fits["n_points"].min(), fits["n_points"].max()
    text = (
        "Power-law fit per strategy, top-1 error = a · MACs^(−b), least squares in log space "
        "over every seed's ok points, the φ=0 baseline in each; r2 in log space. "
        "flops_to_match_best: MACs, × the baseline's, at which a strategy's fit reaches the "
        f"best strategy's top-1 at the largest φ ({targets}); ∞ where b ≤ 0 or no fit; "
        f"extrapolated from {fits['n_levels'].max()} levels at most, an order of magnitude "
        f"only. Points per strategy: {lo if lo == hi else f'{lo}–{hi}'}; "
        f"seeds: {fits['n_seeds'].max()}. Intervals: {'; '.join(dict.fromkeys(fits['interval']))}. "
        f"{FLAGS_SENTENCE}"
    )
    return _text(text, tex)


FLAGS_SENTENCE = (
    "flags: the fitted points' flags, counted (still improving, not above chance, off MAC "
    "target; over the strategy's ok points and the baseline's, one per seed), then the fit's: "
    "as many or fewer distinct MAC values than its 2 parameters (the line passes through "
    "them), bootstrap resamples that could not be fitted (resamples_failed in fits.csv)."
)


def _text(value: object, tex: bool) -> str:
    text = str(value)
    if not tex:
        return text
    for char in ("\\", "&", "%", "$", "#", "_", "{", "}"):
        text = text.replace(char, "\\" + char)
    for symbol, latex in _TEX_SYMBOLS.items():
        text = text.replace(symbol, latex)
    return text


def _number(value: float, spec: str, tex: bool) -> str:
    if pd.isna(value):
        return "—"
    return _text("∞", tex) if np.isinf(value) else format(value, spec)


def _cell(row: pd.Series, name: str, spec: str, tex: bool) -> str:
    """``value [low, high]`` when the row has bounds, else the value alone."""
    text = _number(row[name], spec, tex)
    if pd.isna(row.get(f"{name}_low")) or pd.isna(row[name]):
        return text
    low, high = (_number(row[f"{name}_{e}"], spec, tex) for e in ("low", "high"))
    return f"{text} [{low}, {high}]"


def display_frame(fits: pd.DataFrame, tex: bool = False) -> pd.DataFrame:
    """The fits as strings, one row per fit: what the Markdown and LaTeX tables show."""
    several = fits["sweep"].nunique() > 1
    rows = [
        {
            "strategy": _text(r["strategy"], tex),
            **({"sweep": _text(r["sweep"], tex)} if several else {}),
            "a": _cell(r, "a", "#.3g", tex),
            "b": _cell(r, "b", ".3f", tex),
            "r2": _number(r["r2"], ".3f", tex),
            "n_points": str(r["n_points"]),
            "flops_to_match_best": _cell(r, "flops_to_match_best", "#.3g", tex),
            "note": _text(r["note"], tex),
            "flags": _text(r.get("flags") or "", tex),
        }
        for _, r in fits.iterrows()
    ]
    return pd.DataFrame(rows)


def write_fits(fits: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """Write ``fits.csv`` (full precision), ``fits.md`` and ``fits.tex`` into ``out_dir``."""
    out_dir = Path(out_dir)
    paths = {"csv": out_dir / "fits.csv", "markdown": out_dir / "fits.md"}
    paths["latex"] = out_dir / "fits.tex"
    atomic_write_text(paths["csv"], fits.to_csv(index=False))
    markdown = _markdown(display_frame(fits))
    atomic_write_text(paths["markdown"], f"{fits_caption(fits)}\n\n{markdown}")
    shown = display_frame(fits, tex=True)
    tex = (
        shown.rename(columns=_TEX_HEADERS)
        .style.hide(axis="index")
        .to_latex(
            column_format="l" * (1 + ("sweep" in shown)) + "r" * 5 + "ll",
            hrules=True,
            position_float="centering",
            caption=fits_caption(fits, tex=True),
            label="tab:fits",
        )
    )
    atomic_write_text(paths["latex"], tex)
    return paths


_TEX_HEADERS = {
    **{"strategy": "Strategy", "sweep": "Sweep", "a": "$a$", "b": "$b$", "r2": "$R^2$ (log)"},
    **{"n_points": "Points", "flops_to_match_best": r"MACs to match best ($\times$ base)"},
    "note": "Note",
    "flags": "Flags",
}


def _markdown(frame: pd.DataFrame) -> str:
    """A GitHub pipe table; text columns left-aligned, numbers right-aligned."""
    left = {"strategy", "sweep", "note", "flags"}
    rule = [":---" if c in left else "---:" for c in frame.columns]
    lines = [list(frame.columns), rule, *frame.astype(str).to_numpy().tolist()]
    return "".join("| " + " | ".join(cells) + " |\n" for cells in lines)
