"""Paired comparisons per budget level: which strategy wins it, by how much, and how sure.

A seed fixes a point's initial weights, its batch order and its augmentation,
and batches depend only on (seed, epoch), so two strategies trained with the
same seed saw the same data in the same order: seeds are *blocks*, and a
difference taken within a seed is *paired* (data-order noise cancels in it).
For each level (a phi of one sweep; phi 0 is the shared baseline and compares
nothing) this module compares

- every pair of strategies at that phi (``kind`` ``pair``), over the seeds
  both finished ``ok``; ``diff`` is the mean paired difference, strategy minus
  versus, a top-1 fraction;
- each strategy with the shared phi = 0 baseline (``kind`` ``baseline``),
  over the seeds both finished.

**Noise, pooled.** One pair's differences at 3-5 seeds give its sd 2-4
degrees of freedom, and t quantiles that large (8.6 at 2 df and 98.3 %) make
every interval wide. Instead the strategies' top-1 at a level is taken as
``x[s, j] = mu_s + b_j + e``: a strategy effect, a seed effect and noise with
one sd, sigma, for every strategy (the two-way layout without interaction,
fitted by least squares to the ok points there are: a seed missing one
strategy still counts for the others; a seed or strategy with a single point
adds nothing). Its residuals estimate sigma with ``(K - 1)(n - 1)`` degrees of
freedom for K strategies at n complete seeds, and a paired difference has sd
``sqrt(2) sigma`` (the ``sd`` column; ``df`` its degrees of freedom).
``decide.pool=sweep`` (the default) sums the residuals over every level of a
sweep, ``decide.pool=level`` keeps each level's own. Pooling over the sweep is
what gives the rounds their power: at the default sweep (3 strategies at phi
1 and 2, 5 seeds) it has 16 df, a level alone 8, and the simulation in
``tests/report/test_decide_simulation.py`` names the right winner of a 2-point
lead at a paired sd of 1 point in 92 % of levels (per level it would be about
85 %, under the 90 % asked). What it assumes: one noise sd for every strategy
at every level of the sweep (strategies at one phi have equal MACs; levels of
one sweep share the recipe and the test set, whose sampling is much of the
noise); ``sd_own`` (each pair's own paired sd) sits beside the pooled ``sd`` so
that a pair much noisier than the rest shows, and ``decide.pool=level``
weakens the assumption to one level. The baseline is kept out of the pool: it
is another network (it may sit at chance, or not share the level's seed
effects), and its comparisons use their own paired differences (``n - 1``
df). Pooled or not, intervals assume roughly normal noise and independent
seeds; with 3-5 seeds nothing can check either. With no degrees of freedom
(one seed) or no spread at all (every difference the same at every seed:
points that predict one class whatever their seed) a pair has no interval: a
spread of 0 is no evidence of no noise. One paired seed decides nothing.

**The ranking.** At a level with two or more strategies the *leader* has the
largest strategy effect (the best mean over complete seeds; ``leader``). The
level is *decided* when each of the leader's comparisons (``role`` ``leader``,
``ranks`` true) is either ahead (interval excludes 0) or tied (interval within
``+-decide.margin``); its *winner* is the leader when it is ahead of every
other strategy. Comparisons between two others (``role`` ``others``) are
reported with the same intervals but do not decide anything and do not keep
rounds going (telling two losers apart is not the question). With one
strategy at a level, it against the baseline is the ranking.

**Control.** ``alpha = 1 - decide.confidence``, split evenly over the looks
an adaptive sweep may take at a level (Bonferroni over looks,
:mod:`bench.sweep.rounds`): pair intervals are two-sided t-intervals at ``1 -
alpha / looks`` (98.3 % at the default 3 looks; the ``confidence`` column).
No further split over the leader's K - 1 comparisons or for the leader being
chosen by the data: naming a winner needs it to beat *every* other strategy
(an intersection, which costs nothing), and the chance of naming a wrong one
is largest when two strategies tie at the top and the rest are far behind
(the least favourable configuration of this rule: Gutmann and Maymin 1987,
"Is the selected population the best?", Ann. Statist. 15), where the rule is
one two-sided test of the two tied ones at ``alpha / looks``. So a look names
a wrong winner with probability at most ``alpha / looks`` and the adaptive
sweep at most ``alpha``, per level. The simulations check it through the
planner itself: on null data and at that least favourable case (where not
splitting alpha over the looks does exceed it). A decided tie is a
two-one-sided-tests equivalence at the same intervals. Rows between two others
are per-comparison statements at the stated confidence, not family-wise. The
baseline comparisons are one family per level, corrected with Holm's
step-down at ``alpha / looks``; each of their intervals is drawn at the level
Holm used for it, so it excludes 0 exactly when its ``p_value`` is below
``alpha``. Intervals are clipped to [-1, 1], where a difference of two top-1
fractions lies.

``p_value``: pair rows, the pooled t-test's p times ``looks``; baseline rows,
Holm-adjusted times ``looks`` (capped at 1). ``seeds_needed`` is how many
paired seeds would decide a difference of ``margin`` at the row's ``sd``, with
80 % power at its alpha: the smallest n with (t(1 - a/2, df(n)) + t(0.8,
df(n))) * sd / sqrt(n) <= margin, where df(n) grows by K - 1 a seed for a pair
(by 1 for a baseline row): the t-approximation of a paired t-test's power; it
trusts ``sd``.

``flags``: the learning and MAC flags (:data:`bench.analysis.flags.FLAGS`) of
the points a row compares, counted ("1 still improving"): a verdict between
flagged points is about them as they stand.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from bench.analysis.flags import FLAGS, flagged
from bench.analysis.levels import strategy_order, with_sweep
from bench.schema import Decide
from bench.store import read_json_or_none

COLUMNS = ["phi", "strategy", "versus", "diff", "low", "high", "p_value", "seeds", "decided",
           "winner"]  # fmt: skip
EXTRAS = ["sweep", "sd", "p_raw", "confidence", "seeds_needed", "kind"]
# role: leader (a comparison of the level's leader), others (between two non-leaders) or
# baseline; ranks: the row decides the level's ranking; df: of the sd the interval used
ADDED = ["role", "ranks", "leader", "df", "sd_own", "flags"]
BASELINE = "baseline"
POWER = 0.8
MAX_SEEDS_NEEDED = 1000  # beyond this the estimate is "more than 1000" (NaN)
NO_SPREAD = 1e-9  # a pooled sd below this (in top-1 fractions) is zero up to rounding


def settings(sweep_dirs: list[Path]) -> tuple[Decide, int]:
    """The ``decide`` section and number of looks a sweep recorded in its ``sweep.json``
    (:mod:`bench.sweep.rounds`); the defaults and one look when none did."""
    for folder in sweep_dirs:
        record = (read_json_or_none(Path(folder) / "sweep.json") or {}).get("decide")
        if isinstance(record, dict):
            try:
                looks = max(1, int(record.get("looks", 1)))
                fields = {k: v for k, v in record.items() if k in Decide.model_fields}
                return Decide.model_validate(fields), looks
            except (TypeError, ValueError):  # a hand-edited manifest: the defaults
                continue
    return Decide(), 1


def paired_table(table: pd.DataFrame, values: str = "top1") -> pd.DataFrame:
    """``values`` of ``ok`` points: one row per (sweep, phi, seed), one column per strategy."""
    table = with_sweep(table)
    ok = table[(table["status"] == "ok")].copy()
    ok["top1"] = pd.to_numeric(ok["top1"], errors="coerce")
    ok["phi"] = pd.to_numeric(ok["phi"], errors="coerce")
    ok = ok.dropna(subset=["top1", "phi"])
    wide = ok.pivot_table(index=["sweep", "phi", "seed"], columns="strategy", values=values)
    return wide[strategy_order(wide.columns)]


@dataclass(frozen=True)
class Levels:
    """Every level's per-seed top-1 as arrays, the input of the statistics."""

    keys: list[tuple[str, float]]  # (sweep, phi) of each level
    names: list[str]  # the strategy of each column
    x: np.ndarray  # (levels, strategies, seeds): top-1 of ok points, NaN where none
    base: np.ndarray  # (levels, seeds): the sweep's phi 0 top-1, NaN where none
    flags: np.ndarray  # (levels, strategies, seeds, len(FLAGS)): 1 where an ok point is flagged
    base_flags: np.ndarray  # (levels, seeds, len(FLAGS)): the same for the baseline


def level_arrays(table: pd.DataFrame) -> Levels:
    """The ok points of ``table`` as :class:`Levels` (levels sorted by sweep, then phi)."""
    table = with_sweep(table)
    marked = table.assign(**{f"_flag{i}": flagged(table, f) for i, f in enumerate(FLAGS)})
    wide = paired_table(marked)
    if wide.empty:
        return Levels([], [], np.zeros((0, 0, 0)), np.zeros((0, 0)), np.zeros((0, 0, 0, 0)),
                      np.zeros((0, 0, 0)))  # fmt: skip
    names = list(wide.columns)
    seeds = sorted(wide.index.get_level_values("seed").unique())
    levels = wide.index.droplevel("seed").unique().sort_values()
    keys = [(str(s), float(p)) for s, p in levels if p != 0]
    full = pd.MultiIndex.from_tuples(
        [(s, p, k) for s, p in keys for k in seeds], names=["sweep", "phi", "seed"]
    )
    shape = (len(keys), len(seeds), len(names))
    x = wide.reindex(full).to_numpy(float).reshape(shape).transpose(0, 2, 1)
    base = _baseline(wide, keys, seeds)
    flags, base_flags = [], []
    for i in range(len(FLAGS)):
        if not marked[f"_flag{i}"].any():  # the common case, and pivoting is slow
            flags.append(np.zeros(x.shape))
            base_flags.append(np.zeros(base.shape))
            continue
        mark = paired_table(marked, f"_flag{i}").reindex(columns=names)
        flags.append(mark.reindex(full).to_numpy(float).reshape(shape).transpose(0, 2, 1))
        base_flags.append(_baseline(mark, keys, seeds, how="max"))
    flags = (np.nan_to_num(np.stack(flags, axis=-1)) > 0).astype(int)
    base_flags = (np.nan_to_num(np.stack(base_flags, axis=-1)) > 0).astype(int)
    return Levels(keys, names, x, base, flags, base_flags)


def _baseline(
    wide: pd.DataFrame, keys: list[tuple[str, float]], seeds: list, how: str = "mean"
) -> np.ndarray:
    """Per level and seed, its sweep's phi 0 value (every strategy's phi 0 point is the same
    training, so their mean is that training's top-1)."""
    zero = wide.xs(0.0, level="phi") if 0.0 in wide.index.get_level_values("phi") else None
    if zero is None:
        return np.full((len(keys), len(seeds)), np.nan)
    per_seed = getattr(zero, how)(axis=1, skipna=True)
    index = pd.MultiIndex.from_tuples([(s, k) for s, _ in keys for k in seeds])
    return per_seed.reindex(index).to_numpy(float).reshape(len(keys), len(seeds))


def additive_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares of ``x[l, s, j] = mu_s + b_j + e`` per level over its finite cells.

    Returns the strategy effects (levels, strategies; only their differences mean anything),
    the residual sum of squares and its degrees of freedom (cells minus the design's rank).
    A complete layout (every strategy at every seed the level has) has the textbook closed
    form: effects are the strategies' means, residuals ``x - row - column + grand mean``;
    others are solved as least squares.
    """
    seen = np.isfinite(x)
    rows, cols = seen.any(axis=2), seen.any(axis=1)
    cells = rows[:, :, None] & cols[:, None, :]
    complete = (seen == cells).all(axis=(1, 2))
    n_rows, n_cols = rows.sum(axis=1), cols.sum(axis=1)
    filled = np.where(seen, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        row_mean = filled.sum(axis=2) / n_cols[:, None]
        col_mean = filled.sum(axis=1) / n_rows[:, None]
        grand = filled.sum(axis=(1, 2)) / (n_rows * n_cols)
        resid = x - row_mean[:, :, None] - col_mean[:, None, :] + grand[:, None, None]
    rss = (np.where(seen, resid, 0.0) ** 2).sum(axis=(1, 2))
    df = np.maximum(n_rows - 1, 0) * np.maximum(n_cols - 1, 0)
    effects = np.where(rows, row_mean, 0.0)
    if not complete.all():
        odd = np.flatnonzero(~complete)
        effects[odd], rss[odd], df[odd] = _least_squares(x[odd])
    return effects, rss, df


def _least_squares(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`additive_fit` of layouts with missing cells: the minimum-norm least-squares
    solution through the design's SVD; the residual df is the cells minus its rank."""
    n_levels, k, n = x.shape
    design = np.concatenate([np.repeat(np.eye(k), n, axis=0), np.tile(np.eye(n), (k, 1))], 1)
    seen = np.isfinite(x).reshape(n_levels, k * n)
    X = design[None] * seen[..., None]
    y = np.where(seen, x.reshape(n_levels, k * n), 0.0)
    u, s, vt = np.linalg.svd(X, full_matrices=False)
    tol = s.max(axis=1, keepdims=True, initial=0) * max(X.shape[1:]) * np.finfo(float).eps
    keep = s > tol
    coef = np.where(keep, np.einsum("lcr,lc->lr", u, y) / np.where(keep, s, 1), 0.0)
    beta = np.einsum("lrp,lr->lp", vt, coef)
    resid = y - np.einsum("lcp,lp->lc", X, beta)
    return beta[:, :k], (resid**2).sum(axis=1), seen.sum(axis=1) - keep.sum(axis=1)


def paired(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mean and sd (ddof 1) of paired differences ``d`` along the last axis (NaN:
    unpaired seed); mean NaN without a pair, sd NaN below two."""
    seen = np.isfinite(d)
    n = seen.sum(axis=-1)
    filled = np.where(seen, d, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=-1) / n
        square = np.where(seen, (filled - mean[..., None]) ** 2, 0.0).sum(axis=-1)
        sd = np.sqrt(square / (n - 1))
    sd = np.where(n >= 2, sd, np.nan)
    return n, mean, np.where(sd < NO_SPREAD, 0.0, sd)


def t_test(diffs: np.ndarray) -> tuple[float, float, float]:
    """Mean, standard deviation and two-sided paired t-test p-value of ``diffs`` (n >= 2); the
    p-value is NaN when the differences do not vary (nothing to test against)."""
    _, mean, sd = paired(np.asarray(diffs, float))
    p = _p_value(mean, sd / math.sqrt(len(diffs)), len(diffs) - 1)
    return float(mean), float(sd), float(p)


def _p_value(mean: np.ndarray, se: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Two-sided t-test p of ``mean`` at standard error ``se``; NaN without spread or df."""
    from scipy.stats import t

    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * t.sf(np.abs(mean / se), df)
    return np.where((se > 0) & (df > 0), p, np.nan)


def _half(se: np.ndarray, df: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    from scipy.stats import t

    with np.errstate(invalid="ignore"):
        return np.where((se > 0) & (df > 0), t.ppf(1 - alpha / 2, np.maximum(df, 1)) * se, np.nan)


def seeds_needed(
    sd: float, margin: float, alpha: float, seeds: int, per_seed: float = 1.0
) -> float:
    """Paired seeds that would decide a ``margin`` difference at spread ``sd`` (module doc);
    ``per_seed``: the degrees of freedom each further seed adds (1 for a lone pair)."""
    if not math.isfinite(sd) or sd == 0:  # no spread observed: no estimate
        return math.nan
    return float(_first_enough(_reach(alpha, per_seed), np.array([margin / sd]))[0])


NEEDED_N = np.arange(2, MAX_SEEDS_NEEDED + 1)


@functools.lru_cache(maxsize=256)
def _reach(alpha: float, per_seed: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """(t(1 - alpha/2, df) + t(power, df)) / sqrt(n), df = offset + per_seed (n - 1), for each
    n of :data:`NEEDED_N`."""
    from scipy.stats import t

    n = NEEDED_N
    df = np.maximum(offset + per_seed * (n - 1), 1)
    return (t.ppf(1 - alpha / 2, df) + t.ppf(POWER, df)) / np.sqrt(n)


def holm_steps(p_raw: np.ndarray, alpha: float) -> np.ndarray:
    """Per comparison, the alpha Holm's step-down tests it at: alpha / (m - rank) in order of
    p-value up to the first comparison it keeps, that comparison's for the rest. Each row of a
    2-D ``p_raw`` is a family; NaN p-values are not part of it (and get NaN)."""
    p = np.atleast_2d(np.asarray(p_raw, float))
    order, ranked, m, rank = _ranked(p)
    with np.errstate(divide="ignore"):
        steps = np.where(rank < m, alpha / (m - rank), np.nan)
    kept = np.where(~(ranked < steps) & (rank < m), rank, p.shape[1]).min(axis=1, keepdims=True)
    at_kept = np.take_along_axis(steps, np.minimum(kept, p.shape[1] - 1), axis=1)
    steps = np.where((rank >= kept) & (rank < m), at_kept, steps)
    return _unrank(steps, order).reshape(np.shape(p_raw))


def holm_adjusted(p_raw: np.ndarray, looks: int = 1) -> np.ndarray:
    """Holm-adjusted p-values (times ``looks``, Bonferroni over the looks), capped at 1; rows
    of a 2-D ``p_raw`` are families, NaN p-values left out (and NaN)."""
    p = np.atleast_2d(np.asarray(p_raw, float))
    order, ranked, m, rank = _ranked(p)
    scaled = np.minimum(1.0, ranked * looks * np.maximum(m - rank, 0))
    adjusted = np.fmax.accumulate(np.where(rank < m, scaled, np.nan), axis=1)
    return _unrank(np.where(rank < m, adjusted, np.nan), order).reshape(np.shape(p_raw))


def _ranked(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each row sorted by p-value (NaN last): the order, the sorted p, the family size m and
    each place's rank."""
    order = np.argsort(np.where(np.isfinite(p), p, np.inf), axis=1, kind="stable")
    m = np.isfinite(p).sum(axis=1, keepdims=True)
    return order, np.take_along_axis(p, order, axis=1), m, np.arange(p.shape[1])[None]


def _unrank(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    np.put_along_axis(out, order, values, axis=1)
    return out


def decisions(table: pd.DataFrame, decide: Decide | None = None, looks: int = 1) -> pd.DataFrame:
    """Every comparison of every level: :data:`COLUMNS`, :data:`EXTRAS`, then :data:`ADDED`
    (module doc).

    ``decide`` is the config section (margin, confidence, pool); ``looks`` the number of looks
    an adaptive sweep may take at a level (alpha is split evenly over them).
    """
    decide = decide or Decide()
    levels = level_arrays(table)
    if not levels.keys:
        return pd.DataFrame(columns=COLUMNS + EXTRAS + ADDED)
    looks = max(1, looks)
    alpha = (1 - decide.confidence) / looks
    pairs = _pairs(levels, _pool_groups(levels.keys, decide.pool), alpha, looks)
    parts = [pairs, _baselines(levels, alpha, looks)]
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sort_values(["_level", "_block", "_order"], kind="stable")
    return _verdicts(frame, decide.margin).reset_index(drop=True)


def _pairs(levels: Levels, groups: np.ndarray, alpha: float, looks: int) -> pd.DataFrame:
    """Strategy pairs at every level: the pooled sd (:func:`pooled_sd`), t-intervals at
    ``1 - alpha``, the leader and its comparisons."""
    x, names = levels.x, np.array(levels.names)
    if len(names) < 2:
        return pd.DataFrame()
    a, b = np.array(list(combinations(range(len(names)), 2))).T
    sd, dof, effects, per_seed = pooled_sd(x, groups)
    present = _present(levels)
    d = x[:, b] - x[:, a]
    n, diff, own = paired(d)
    shape = n.shape
    se = np.where(n >= 2, sd[:, None] / np.sqrt(np.maximum(n, 1)), np.nan)  # sd is paired
    dof = np.broadcast_to(dof[:, None], shape)
    p = _p_value(diff, se, dof)
    leader = np.argmax(np.where(present, effects, -np.inf), axis=1)
    mine = (a[None] == leader[:, None]) | (b[None] == leader[:, None])
    columns = {
        "strategy": names[b], "versus": names[a], "leader": names[leader][:, None],
        "diff": diff, "seeds": n, "sd": sd[:, None], "df": dof, "sd_own": own, "p_raw": p,
        "p_value": np.minimum(1.0, p * looks), "half": _half(se, dof, alpha), "alpha": alpha,
        "needed_alpha": alpha, "per_seed": per_seed[:, None],
        "df_offset": dof - per_seed[:, None] * (n - 1), "ranks": mine,
        "role": np.where(mine, "leader", "others"), "kind": "pair", "_block": 0,
        "flags": _counted(levels.flags[:, b] + levels.flags[:, a], d),
    }  # fmt: skip
    return _flat(levels, columns, keep=present[:, a] & present[:, b])


def pooled_sd(
    x: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per level, the sd of a paired difference, sqrt(2) sigma, from the residuals of
    :func:`additive_fit` over its strategies, summed over the levels of its ``groups`` (its
    sweep, or itself), and their degrees of freedom; NaN sd without any, 0 below
    :data:`NO_SPREAD`. Also the strategy effects (the leader's is the largest) and the degrees
    of freedom one more seed at the level would add (for :func:`seeds_needed`)."""
    effects, rss, df = additive_fit(x)
    total = np.bincount(groups, weights=rss)[groups]
    dof = np.rint(np.bincount(groups, weights=df)[groups]).astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(2 * total / dof)
    sd = np.where(dof > 0, sd, np.nan)
    per_seed = np.maximum(np.isfinite(x).any(axis=2).sum(axis=1) - 1, 1)
    return np.where(sd < NO_SPREAD, 0.0, sd), dof, effects, per_seed


def _present(levels: Levels) -> np.ndarray:
    """(levels, strategies): which strategies have an ok point at the level."""
    return np.isfinite(levels.x).any(axis=2)


def _pool_groups(keys: list[tuple[str, float]], pool: str) -> np.ndarray:
    """The group each level's residuals pool in: its sweep, or itself (``decide.pool``)."""
    labels = [sweep for sweep, _ in keys] if pool == "sweep" else list(range(len(keys)))
    return pd.factorize(pd.Series(labels))[0]


def _baselines(levels: Levels, alpha: float, looks: int) -> pd.DataFrame:
    """Each strategy against its sweep's baseline: its own paired t, Holm per level."""
    x, base = levels.x, levels.base[:, None, :]
    d = x - base
    n, diff, own = paired(d)
    dof = np.maximum(n - 1, 0)
    se = np.where(n >= 2, own / np.sqrt(np.maximum(n, 1)), np.nan)
    p = _p_value(diff, se, dof)
    strategies = _present(levels)
    present = strategies & np.isfinite(base).any(axis=2)
    tested = np.where(present & np.isfinite(p), p, np.nan)
    steps, adjusted = holm_steps(tested, alpha), holm_adjusted(tested, looks)
    family = np.isfinite(tested).sum(axis=1, keepdims=True)
    first = np.where(family > 0, alpha / np.maximum(family, 1), np.nan)  # Holm's first step
    alone = strategies.sum(axis=1, keepdims=True) == 1
    columns = {
        "strategy": np.array(levels.names), "versus": BASELINE, "leader": "",
        "diff": diff, "seeds": n, "sd": own, "df": dof, "sd_own": own, "p_raw": p,
        "p_value": adjusted, "half": _half(se, dof, steps), "alpha": steps,
        "needed_alpha": first, "per_seed": 1.0, "df_offset": 0.0, "ranks": alone & present,
        "role": "baseline", "kind": "baseline", "_block": 1,
        "flags": _counted(levels.flags + levels.base_flags[:, None], d),
    }  # fmt: skip
    return _flat(levels, columns, keep=present)


def _counted(marks: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Per comparison, its flagged points over the seeds it pairs, in words ("1 still
    improving, 2 off MAC target"; "" for none). ``marks``: (..., seeds, len(FLAGS)) counts of
    flagged points, ``d``: the paired differences (NaN: an unpaired seed)."""
    counts = (marks * np.isfinite(d)[..., None]).sum(axis=-2)
    if not counts.any():
        return np.full(counts.shape[:-1], "", dtype=object)
    flat = counts.reshape(-1, len(FLAGS))
    words = [
        ", ".join(f"{c} {f.label}" for c, f in zip(row, FLAGS, strict=True) if c)
        for row in flat.tolist()
    ]
    return np.array(words, dtype=object).reshape(counts.shape[:-1])


def _flat(levels: Levels, columns: dict, keep: np.ndarray) -> pd.DataFrame:
    """(levels, comparisons) arrays (or what broadcasts to them) as rows, where ``keep``."""
    shape = keep.shape
    frame = pd.DataFrame(
        {k: np.broadcast_to(np.asarray(v), shape).reshape(-1) for k, v in columns.items()}
    )
    frame["_level"] = np.repeat(np.arange(shape[0]), shape[1])
    frame["_order"] = np.tile(np.arange(shape[1]), shape[0])
    frame["sweep"] = np.repeat([s for s, _ in levels.keys], shape[1])
    frame["phi"] = np.repeat([p for _, p in levels.keys], shape[1])
    return frame[keep.reshape(-1)]


def _verdicts(frame: pd.DataFrame, margin: float) -> pd.DataFrame:
    """Intervals (clipped to [-1, 1]), their confidence, the verdicts and seeds_needed."""
    diff, half = frame["diff"].to_numpy(float), frame["half"].to_numpy(float)
    # a difference of two top-1 fractions lies in [-1, 1]; clipping decides nothing
    low, high = np.maximum(-1.0, diff - half), np.minimum(1.0, diff + half)
    frame["low"], frame["high"] = low, high
    frame["confidence"] = np.where(np.isfinite(half), 1 - frame["alpha"].to_numpy(float), np.nan)
    excludes = (low > 0) | (high < 0)
    tie = ~excludes & (low >= -margin) & (high <= margin)
    winner = np.where(low > 0, frame["strategy"], np.where(high < 0, frame["versus"], ""))
    frame["decided"] = excludes | tie
    frame["winner"] = np.where(tie, "tie", winner)
    frame["seeds_needed"] = _seeds_needed(frame, margin)
    for column in ("seeds", "df"):
        frame[column] = frame[column].astype(int)
    frame["ranks"] = frame["ranks"].astype(bool)
    return frame[COLUMNS + EXTRAS + ADDED]


def _seeds_needed(frame: pd.DataFrame, margin: float) -> np.ndarray:
    """:func:`seeds_needed` of every row, one table look-up per (alpha, df growth) met."""
    sd, alpha = frame["sd"].to_numpy(float), frame["needed_alpha"].to_numpy(float)
    per_seed, seeds = frame["per_seed"].to_numpy(float), frame["seeds"].to_numpy(int)
    offset = frame["df_offset"].to_numpy(float)
    out = np.full(len(frame), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        wanted = (seeds >= 2) & np.isfinite(alpha) & np.isfinite(sd) & (sd > 0)
    for a, f, o in set(zip(alpha[wanted], per_seed[wanted], offset[wanted], strict=True)):
        rows = np.flatnonzero(wanted & (alpha == a) & (per_seed == f) & (offset == o))
        out[rows] = _first_enough(_reach(float(a), float(f), float(o)), margin / sd[rows])
    return out


def _first_enough(reach: np.ndarray, most: np.ndarray) -> np.ndarray:
    """The first n of :data:`NEEDED_N` whose ``reach`` is at most each of ``most`` (NaN: none)."""
    falling = np.minimum.accumulate(reach)
    where = np.searchsorted(-falling, -most, side="left")
    return np.where(where < len(NEEDED_N), NEEDED_N[np.minimum(where, len(NEEDED_N) - 1)], np.nan)


def ranking_rows(level: pd.DataFrame) -> pd.DataFrame:
    """The comparisons that decide a level's ranking: its leader's against every other
    strategy, or, with one strategy at the level, that strategy against the baseline."""
    return level[level["ranks"].astype(bool)]


def level_decided(frame: pd.DataFrame) -> pd.Series:
    """Whether each (sweep, phi) level's ranking is decided: every ranking row decided (its
    leader ahead of or tied with each other strategy)."""
    if frame.empty:
        return pd.Series(dtype=bool)
    ranks = frame[frame["ranks"].astype(bool)]
    return ranks.groupby(["sweep", "phi"], sort=False)["decided"].all().astype(bool)


def winners(frame: pd.DataFrame) -> pd.DataFrame:
    """(sweep, phi, strategy): a level's decided winner, its leader ahead of every other
    strategy there (a tie at the top names none)."""
    if frame.empty:
        return pd.DataFrame(columns=["sweep", "phi", "strategy"])
    rows = frame[frame["ranks"].astype(bool) & (frame["kind"] == "pair")]
    won = (rows["decided"].astype(bool) & (rows["winner"] == rows["leader"])).groupby(
        [rows["sweep"], rows["phi"]], sort=False
    )
    found = won.all()
    leaders = rows.groupby(["sweep", "phi"], sort=False)["leader"].first()
    out = leaders[found].rename("strategy").reset_index()
    return out[["sweep", "phi", "strategy"]]
