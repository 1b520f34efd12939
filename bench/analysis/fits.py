"""Scaling-law fits per strategy: top-1 error against MACs as a power law, and what it implies.

The figures compare strategies level by level; a fit sums up each one by how fast its error
falls as it grows. Per strategy of a sweep, over every seed's ok points (rows with status "ok"
and a top-1; diverged and failed rows never enter),

    err = 1 - top1 = a * MACs**(-b)

by ordinary least squares on ``log err = log a - b log MACs``; ``r2`` is that fit's R² (log
space). phi=0 is one baseline network whichever strategy recorded it: its ok rows are pooled
to one point per seed (mean MACs and error) and added to every strategy's fit. Points with
top-1 = 1 have no log error and are left out (the ``note`` says so); fewer than 2 distinct MAC
values leave a strategy unfitted (NaN ``a``, ``b``, ``r2``; the ``note`` says why).

Intervals, with at least 2 seeds: percentile bootstrap over seeds. Each of
:data:`N_RESAMPLES` resamples (numpy generator seeded with :data:`RNG_SEED`: deterministic)
draws the sweep's seeds with replacement, one draw shared by all strategies, refits every
strategy on the drawn seeds' points (a seed drawn twice counts twice) and recomputes
``flops_to_match_best``; bounds are the 2.5 % and 97.5 % quantiles over the resamples that
could be fitted (``n_resamples``). n seeds allow only C(2n-1, n) distinct resamples (10 for 3,
126 for 5): the interval is coarse and, with so few seeds, likely too narrow. ``a`` and ``b``
are strongly correlated; their intervals are marginal.

``flops_to_match_best``: how many times the baseline's MACs a strategy needs, on its own fit,
to reach the top-1 the best strategy reaches at the sweep's largest phi. Best = highest mean
top-1 over ok rows at the largest phi with ok rows (ties: first in
:func:`bench.analysis.levels.strategy_order`), target ``e* = 1 - that mean``; baseline MACs =
mean MACs of the phi=0 ok rows. ``a M**(-b) = e*`` gives ``M = (a / e*)**(1/b)``; reported is
``M / baseline MACs``, ``inf`` when ``b <= 0`` or there is no fit, NaN without an ok baseline.
The best strategy gets its own fit's answer (near ``2**phi_max``, not forced). In a resample
the target is the (same) best strategy's mean over the drawn seeds. This extrapolates from 3-5
levels, for a strategy well behind the best far past its largest level, where nothing says the
power law still holds: read it, and its interval, as an order of magnitude.

``resamples_failed``: resamples that could not be fitted (fewer than 2 distinct MAC values
drawn), out of :data:`N_RESAMPLES`. ``flags`` (:mod:`bench.analysis.fit_flags`): the flags of the
points a strategy's fit rests on (its ok points past phi 0 and the baseline's, one per seed:
"2 still improving"), then the fit's own: as many or fewer distinct MAC values than the law's 2
parameters (the line passes through them), resamples that failed. The power law has no bounds,
so nothing is at one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import linregress

from bench.analysis.fit_flags import failed_resamples, join, too_few_points
from bench.analysis.flags import flag_text
from bench.analysis.levels import strategy_order

N_RESAMPLES = 2000
RNG_SEED = 0
LEVEL = 0.95
COLUMNS = ("strategy", "a", "b", "r2", "n_points", "flops_to_match_best")
BOUNDED = ("a", "b", "flops_to_match_best")
EXTRA = (
    *(f"{name}_{end}" for name in BOUNDED for end in ("low", "high")),
    *("n_seeds", "n_levels", "n_resamples", "interval", "note"),
    *("best_strategy", "best_phi", "best_top1", "baseline_macs", "sweep"),
    *("resamples_failed", "flags"),
)
PARAMETERS = 2  # a and b


def fit_strategies(
    table: pd.DataFrame, n_resamples: int = N_RESAMPLES, rng_seed: int = RNG_SEED
) -> pd.DataFrame:
    """One row per (sweep, strategy): the power-law fit, its intervals and flops_to_match_best.

    Columns: :data:`COLUMNS`, then :data:`EXTRA` (definitions in the module docstring). Every
    strategy in the table gets a row, fitted or not, so a missing fit is seen, not dropped.
    """
    frame = table.assign(
        sweep=table["sweep"].fillna("").astype(str) if "sweep" in table else "",
        **{c: pd.to_numeric(table[c], errors="coerce") for c in ("phi", "top1", "macs")},
    )
    ok = frame[(frame["status"] == "ok") & frame["top1"].notna() & (frame["macs"] > 0)]
    ok = ok.assign(err=1.0 - ok["top1"])
    frames = [
        _fit_sweep(ok[ok["sweep"] == sweep], strategy_order(names), n_resamples, rng_seed).assign(
            sweep=sweep
        )
        for sweep, names in frame.groupby("sweep", sort=False)["strategy"]
    ]
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, *EXTRA])
    return pd.concat(frames, ignore_index=True)[[*COLUMNS, *EXTRA]]


def _fit_sweep(ok: pd.DataFrame, names: list[str], n_resamples: int, rng_seed: int) -> pd.DataFrame:
    """Fit every strategy of one sweep, then solve for the best strategy's top-1."""
    base = ok[ok["phi"] == 0].groupby("seed", as_index=False)[["phi", "macs", "err"]].mean()
    sets = {
        s: pd.concat([ok[(ok["strategy"] == s) & (ok["phi"] != 0)], base], ignore_index=True)
        for s in names
    }
    fits = pd.DataFrame([{"strategy": s, **_fit_one(points)} for s, points in sets.items()])
    best, best_phi, target = _best(ok, names)
    base_macs = float(ok.loc[ok["phi"] == 0, "macs"].mean())
    best_top1 = target["top1"].mean()
    ratio = _ratio(np.log(fits["a"]), fits["b"], 1.0 - best_top1, base_macs)
    fits["flops_to_match_best"] = np.where(fits["b"].isna() & np.isfinite(base_macs), np.inf, ratio)
    fits = fits.assign(best_strategy=best, best_phi=best_phi, best_top1=best_top1)
    fits["baseline_macs"] = base_macs
    seeds = np.sort(ok["seed"].unique())
    if len(seeds) < 2:
        bounds = {f"{n}_{e}": np.nan for n in BOUNDED for e in ("low", "high")}
        fits = fits.assign(**bounds, n_resamples=0, interval="none (fewer than 2 seeds)")
        return _with_flags(fits, ok, 0)
    good = {s: points[points["err"] > 0] for s, points in sets.items()}
    boot = _bootstrap(good, target, seeds, base_macs, n_resamples, rng_seed)
    interval = f"{LEVEL:.0%} percentile bootstrap over seeds ({n_resamples} resamples)"
    return _with_flags(fits.join(boot, on="strategy").assign(interval=interval), ok, n_resamples)


def _with_flags(fits: pd.DataFrame, ok: pd.DataFrame, drawn: int) -> pd.DataFrame:
    """``resamples_failed`` and ``flags`` (module doc): the points' flags, then the fit's."""
    fits = fits.assign(resamples_failed=(drawn - fits["n_resamples"]) if drawn else 0)
    base = ok[ok["phi"] == 0].drop_duplicates("seed")  # one training per seed
    fits["flags"] = [
        join((
            flag_text(pd.concat([ok[(ok["strategy"] == r.strategy) & (ok["phi"] != 0)], base])),
            too_few_points(int(r.n_levels), PARAMETERS),
            failed_resamples(int(r.resamples_failed), drawn),
        ))
        for r in fits.itertuples()
    ]  # fmt: skip
    return fits


def _fit_one(points: pd.DataFrame) -> dict[str, object]:
    """Least squares of log error on log MACs; NaN and a note when it cannot be fitted."""
    good = points[points["err"] > 0]
    perfect = len(points) - len(good)
    notes = [f"{perfect} point(s) with top-1 = 1 left out (no log error)"] if perfect else []
    counts = {"n_points": len(good), "n_seeds": good["seed"].nunique()}
    counts["n_levels"] = good["macs"].nunique()
    if good["macs"].nunique() < 2:
        notes.insert(0, f"no fit: fewer than 2 distinct MAC values ({len(good)} ok point(s))")
        return {"a": np.nan, "b": np.nan, "r2": np.nan, **counts, "note": "; ".join(notes)}
    fit = linregress(np.log(good["macs"]), np.log(good["err"]))
    a, b, r2 = float(np.exp(fit.intercept)), -float(fit.slope), float(fit.rvalue) ** 2
    return {"a": a, "b": b, "r2": r2, **counts, "note": "; ".join(notes)}


def _best(ok: pd.DataFrame, names: list[str]) -> tuple[str | None, float, pd.DataFrame]:
    """The best strategy at the largest ok phi, that phi, and its ok rows there (seed, top1)."""
    if ok.empty:
        return None, np.nan, pd.DataFrame({"seed": [], "top1": []})
    phi = float(ok["phi"].max())
    top = ok[ok["phi"] == phi]
    means = top.groupby("strategy")["top1"].mean()
    best = max((s for s in names if s in means.index), key=lambda s: means[s])
    return best, phi, top.loc[top["strategy"] == best, ["seed", "top1"]]


def _ratio(log_a: np.ndarray, b: np.ndarray, err: np.ndarray, base_macs: float) -> np.ndarray:
    """M / baseline MACs where ``a M**-b = err``: inf for ``b <= 0``, NaN where b is NaN."""
    log_a, b, err = np.asarray(log_a, float), np.asarray(b, float), np.asarray(err, float)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        ratio = np.exp((log_a - np.log(err)) / b - np.log(base_macs))
    return np.where(b > 0, ratio, np.where(np.isnan(b), np.nan, np.inf))


def _bootstrap(
    sets: Mapping[str, pd.DataFrame],
    target: pd.DataFrame,
    seeds: np.ndarray,
    base_macs: float,
    n: int,
    rng_seed: int,
) -> pd.DataFrame:
    """Percentile bounds of a, b and flops_to_match_best over seed resamples, per strategy."""
    rng = np.random.default_rng(rng_seed)
    draws = rng.multinomial(len(seeds), np.full(len(seeds), 1 / len(seeds)), size=n)
    # a resample is a count per seed; fit each distinct one once (few with few seeds)
    unique, inverse = np.unique(draws, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    column = {seed: i for i, seed in enumerate(seeds)}
    weights = unique[:, target["seed"].map(column).to_numpy(int)]
    with np.errstate(divide="ignore", invalid="ignore"):
        top1 = (weights @ target["top1"].to_numpy(float)) / weights.sum(axis=1)
    rows = {}
    for strategy, points in sets.items():
        counts = unique[:, points["seed"].map(column).to_numpy(int)]
        log_m, log_e = np.log(points["macs"].to_numpy(float)), np.log(points["err"].to_numpy(float))
        fits = np.array([_weighted_fit(log_m, log_e, c) for c in counts]).reshape(-1, 2)[inverse]
        ratio = _ratio(fits[:, 0], fits[:, 1], 1.0 - top1[inverse], base_macs)
        rows[strategy] = {
            **_bounds("a", np.exp(fits[:, 0])),
            **_bounds("b", fits[:, 1]),
            **_bounds("flops_to_match_best", ratio),
            "n_resamples": int(np.isfinite(fits[:, 1]).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _weighted_fit(log_m: np.ndarray, log_e: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """(log a, b) on the points repeated as often as their seed was drawn; NaN if unfittable."""
    if np.unique(log_m[counts > 0]).size < 2:
        return np.nan, np.nan
    slope, intercept = np.polyfit(np.repeat(log_m, counts), np.repeat(log_e, counts), 1)
    return float(intercept), -float(slope)


def _bounds(name: str, values: np.ndarray) -> dict[str, float]:
    """Two-sided quantiles, ignoring NaN; not interpolated, so an ``inf`` draw stays ``inf``."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return {f"{name}_low": np.nan, f"{name}_high": np.nan}
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(values, [tail, 1 - tail], method="inverted_cdf")
    return {f"{name}_low": float(low), f"{name}_high": float(high)}
