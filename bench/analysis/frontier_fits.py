"""Saturating fits of each strategy's compute envelope, judged by predicting a held-out budget.

Per strategy, ``err = E + a * C^-b`` over its envelope (:mod:`bench.analysis.frontier`;
C the training FLOPs, err = 1 - top-1, E the irreducible error bounded to
[0, 1], b to [0, 10]); the phi = 0 baseline at each budget is a level of every
strategy's fit (phi 0 is where every strategy starts, as in :mod:`bench.analysis.fits`),
though the frontier keeps it as its own series. A fit that only describes the
points it saw says little (Alabdulmohsin et al. 2022 judge scaling laws by
extrapolation), so each strategy is refitted without the largest budget and
asked to predict the best top-1 it measured there: ``abs_error`` is how far off that prediction was.
With several seeds, E and b get 95 % bootstrap intervals (seeds resampled
within each level). Too few points for a fit is said in the row's ``note``.

``flags`` (:mod:`bench.analysis.fit_flags`): the flags of the strategy's and the
baseline's ok points ("2 still improving"), then the fit's: E or b at a bound, as
many or fewer distinct envelope points than the law's 3 parameters, bootstrap
resamples that could not be fitted ("12 of 200 resamples failed"; their count is
``resamples_failed``, the fitted ones ``n_resamples``), and the same for the
held-out fit ("held-out fit: E at its bound 0, 3 distinct points for 3 parameters").

:func:`bench.report.frontier_fits.write_frontier_fits` writes ``tables/frontier_fits.csv``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeWarning, curve_fit

from bench.analysis.budget_ranking import budget_order
from bench.analysis.fit_flags import at_bounds, failed_resamples, join, too_few_points
from bench.analysis.flags import flag_text
from bench.analysis.frontier import envelope_index, series_points
from bench.analysis.frontier_leaders import BASELINE
from bench.analysis.levels import strategy_order

FIT_COLUMNS = [
    "strategy", "E", "a", "b", "predicted_top1", "measured_top1", "abs_error", "n_points",
    "held_out_budget", "n_fit_held_out", "E_low", "E_high", "b_low", "b_high", "note",
    "n_resamples", "resamples_failed", "flags",
]  # fmt: skip
MIN_POINTS = 3  # three parameters
BOOTSTRAP = 200
BOUNDS = {"E": (0.0, 1.0), "a": (0.0, np.inf), "b": (0.0, 10.0)}  # of the fit (a for C / min C)
PINNED = {k: BOUNDS[k] for k in ("E", "b")}  # flagged at a bound (a is returned rescaled)


def law(c: np.ndarray, e: float, a: float, b: float) -> np.ndarray:
    """``E + a * C^-b``."""
    return e + a * np.power(c, -b)


def law_gradient(c: np.ndarray, e: float, a: float, b: float) -> np.ndarray:
    """d law / d (E, a, b), one row per C: exact, so least squares needs no extra evaluations
    to estimate it (a bootstrap makes hundreds of fits)."""
    power = np.power(c, -b)
    return np.stack([np.ones_like(c), power, -a * power * np.log(c)], axis=1)


def fit_law(flops: np.ndarray, err: np.ndarray) -> tuple[float, float, float]:
    """(E, a, b) of ``err = E + a * C^-b`` by least squares, E in [0, 1], a and b >= 0.

    C is divided by its smallest value while fitting (so a is of order one and
    the problem is well scaled) and ``a`` returned for C in FLOPs. Raises
    ValueError with fewer than :data:`MIN_POINTS` points, RuntimeError if the
    fit does not converge.
    """
    flops, err = np.asarray(flops, float), np.asarray(err, float)
    if len(flops) < MIN_POINTS:
        raise ValueError(f"{len(flops)} points, {MIN_POINTS} needed")
    c0 = float(flops.min())
    x = flops / c0
    spread = max(float(err.max() - err.min()), 1e-3)
    p0 = (max(float(err.min()) - spread, 0.0), spread, 0.5)
    bounds = tuple(zip(*BOUNDS.values(), strict=True))
    with warnings.catch_warnings():  # three points leave no covariance: said in the row
        warnings.simplefilter("ignore", OptimizeWarning)
        (e, a, b), _ = curve_fit(law, x, err, p0=p0, bounds=bounds, jac=law_gradient, maxfev=20000)
    return float(e), float(a * c0**b), float(b)


def predict_top1(fit: tuple[float, float, float], flops: float) -> float:
    """The top-1 a fit predicts at ``flops`` training FLOPs."""
    e, a, b = fit
    return float(1.0 - law(np.array([flops]), e, a, b)[0])


def envelope(levels: pd.DataFrame) -> pd.DataFrame:
    """The levels of one strategy on its envelope, by compute."""
    return levels.loc[envelope_index(levels)].sort_values("train_flops")


def fit_strategy(
    levels: pd.DataFrame, points: pd.DataFrame, held_out: str | None, label: str
) -> dict[str, object]:
    """One row of the table for one strategy's levels and ok points (all budgets, the baseline's
    among them: the ``strategy`` of its levels and points is :data:`BASELINE`)."""
    strategy = str(levels.loc[levels["strategy"] != BASELINE, "strategy"].iloc[0])
    row: dict[str, object] = dict.fromkeys(FIT_COLUMNS)
    env = envelope(levels)
    row |= {"strategy": strategy, "n_points": len(env), "held_out_budget": label}
    row |= {"n_resamples": 0, "resamples_failed": 0}
    notes, flags = [], [flag_text(points)]
    try:
        fit = fit_law(env["train_flops"], 1 - env["top1"])
        row |= dict(zip(("E", "a", "b"), fit, strict=True))
        flags += at_bounds(row, PINNED)
        if len(env) == MIN_POINTS:
            notes.append("3 points for 3 parameters: the fit passes through them")
        row |= bootstrap(levels, points)
    except (ValueError, RuntimeError) as exc:
        notes.append(f"no fit: {exc} on the envelope")
    flags.append(too_few_points(env["train_flops"].nunique(), MIN_POINTS))
    flags.append(failed_resamples(int(row["resamples_failed"]), BOOTSTRAP))
    note, held = held_out_check(row, levels, held_out)
    row["note"] = "; ".join(n for n in (*notes, note) if n)
    held = ", ".join(f for f in held if f)
    row["flags"] = join([*flags, f"held-out fit: {held}" if held else ""])
    return row


def held_out_check(
    row: dict[str, object], levels: pd.DataFrame, held_out: str | None
) -> tuple[str, list[str]]:
    """Refit without the held-out sweep and predict its best level; fills the row, returns a
    note ("" when the prediction was made) and the held-out fit's flags."""
    if held_out is None:
        return "no held-out prediction: one budget only", []
    rest, there = levels[levels["sweep"] != held_out], levels[levels["sweep"] == held_out]
    if there.empty:
        return "no held-out prediction: no finished point at the largest budget", []
    env = envelope(rest)
    row["n_fit_held_out"] = len(env)
    best = there.loc[there["top1"].idxmax()]
    row["measured_top1"] = float(best["top1"])
    flags = [too_few_points(env["train_flops"].nunique(), MIN_POINTS)]
    try:
        fit = fit_law(env["train_flops"], 1 - env["top1"])
    except (ValueError, RuntimeError) as exc:
        note = f"no held-out prediction: {exc} on the envelope without the largest budget"
        return note, flags
    row["predicted_top1"] = predict_top1(fit, float(best["train_flops"]))
    row["abs_error"] = abs(row["predicted_top1"] - row["measured_top1"])  # type: ignore[operator]
    return "", [*at_bounds(dict(zip(("E", "a", "b"), fit, strict=True)), PINNED), *flags]


def bootstrap(levels: pd.DataFrame, points: pd.DataFrame) -> dict[str, float]:
    """95 % intervals of E and b over seeds resampled within each level, and how many resamples
    were fitted and failed ({} with one seed)."""
    keys = ["sweep", "strategy", "phi"]
    groups = {k: g["top1"].to_numpy(float) for k, g in points.groupby(keys)}
    ordered = levels.sort_values("train_flops", kind="stable")
    seeds = [groups.get(tuple(r)) for r in ordered[keys].itertuples(index=False)]
    if max((len(v) for v in seeds if v is not None), default=0) < 2:
        return {}
    flops = ordered["train_flops"].to_numpy(float)
    rng = np.random.default_rng(0)
    fits = []
    for _ in range(BOOTSTRAP):
        top1 = np.array([np.nan if v is None else rng.choice(v, len(v)).mean() for v in seeds])
        before = np.fmax.accumulate(np.concatenate([[-np.inf], top1]))[:-1]
        on = top1 > before  # the resampled envelope (nan never is)
        try:
            fits.append(fit_law(flops[on], 1 - top1[on]))
        except (ValueError, RuntimeError):
            continue  # counted: resamples_failed
    counts = {"n_resamples": len(fits), "resamples_failed": BOOTSTRAP - len(fits)}
    if not fits:
        return counts
    e, _, b = np.array(fits).T
    e_band, b_band = (np.percentile(v, [2.5, 97.5]).tolist() for v in (e, b))
    return {"E_low": e_band[0], "E_high": e_band[1], "b_low": b_band[0], "b_high": b_band[1],
            **counts}  # fmt: skip


def fit_frontier(
    levels: pd.DataFrame, points: pd.DataFrame, budgets: dict[str, str]
) -> pd.DataFrame:
    """tables/frontier_fits.csv's rows: one per strategy (:data:`FIT_COLUMNS`)."""
    ok = series_points(points)
    ok = ok.assign(strategy=ok["series"])  # the levels' keys: the baseline is its own
    order = budget_order(ok, budgets) if len(budgets) > 1 else []
    held_out = order[-1] if order else None
    label = budgets.get(held_out) if held_out else None
    rows = []
    for s in strategy_order(levels.loc[levels["strategy"] != BASELINE, "strategy"]):
        mine = [s, BASELINE]
        rows.append(fit_strategy(levels[levels["strategy"].isin(mine)],
                                 ok[ok["strategy"].isin(mine)], held_out, label))  # fmt: skip
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


def fit_lines(table: pd.DataFrame) -> list[str]:
    """The held-out checks in words, one per strategy that has one, with the row's flags."""
    lines = []
    for _, r in table.iterrows():
        if pd.isna(r["abs_error"]) or pd.isna(r["E"]):
            continue
        lines.append(
            f"{r['strategy']}: err = {r['E']:.3f} + a·C^-{r['b']:.3f} predicts "
            f"{100 * r['predicted_top1']:.1f}% at {r['held_out_budget']} "
            f"(measured {100 * r['measured_top1']:.1f}%, off by {100 * r['abs_error']:.1f} points)"
            + (f" [flagged: {r['flags']}]" if isinstance(r["flags"], str) and r["flags"] else "")
        )
    return lines
