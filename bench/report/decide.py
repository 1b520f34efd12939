"""Paired comparisons per budget level: which strategy is ahead, by how much, and how sure.

A seed fixes a point's initial weights, its batch order and its augmentation,
and batches depend only on (seed, epoch), so two strategies trained with the
same seed saw the same data in the same order: their top-1 difference at that
seed is *paired*, and data-order noise cancels in it. For each level (a phi of
one sweep) this module compares

- every pair of strategies at that phi, over the seeds both finished ``ok``;
- each strategy with the shared phi = 0 baseline (``versus`` = ``baseline``),
  over the seeds both finished (phi 0 itself compares nothing: its points
  are one training).

Per comparison, over its n paired seeds: the mean paired difference
(strategy minus versus, a top-1 fraction), a t-interval and a two-sided
paired t-test on the differences. Both assume the differences are roughly
normal and the seeds independent; with 2-5 seeds nothing can check the
first, and t (not a normal quantile) keeps the interval honest about how
little 2-5 values say about their spread (t = 12.7 at n = 2 and 95 %).

Multiplicity: the comparisons of one level are one family, corrected with
Holm's step-down procedure at ``alpha = (1 - confidence) / looks`` (``looks``
is the number of times an adaptive sweep may look at a level; Bonferroni's
split of alpha over the looks, :mod:`bench.sweep.rounds`). Each interval is
drawn at the level Holm used for its comparison, so it excludes 0 exactly
when Holm rejects (``p_value`` is Holm-adjusted, times ``looks``); these are
not simultaneous intervals. Intervals are clipped to [-1, 1], where a
difference of two top-1 fractions lies. A comparison is ``decided`` when its interval
excludes 0 (``winner`` names the better strategy) or lies within
``+-margin`` (``winner`` is ``tie``: a conservative two-one-sided-tests
equivalence). One paired seed decides nothing: no interval, ``undecided``.
Nor do seeds whose differences are all the same (``sd`` 0, typically points
that predict one class whatever their seed): a spread of 0 from 2-5 values
is no evidence of no noise, so there is no interval and no test.

``seeds_needed`` is how many paired seeds would decide a difference of
``margin`` at the observed paired spread ``sd``, with 80 % power at the first
Holm step's level: the smallest n with (t(1 - a/2, n-1) + t(0.8, n-1)) *
sd / sqrt(n) <= margin (the t-based normal approximation of a paired t-test's
power; it trusts ``sd``, itself a noisy estimate from few seeds).
"""

from __future__ import annotations

import functools
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from bench.report.levels import strategy_order, with_sweep
from bench.schema import Decide
from bench.store import read_json_or_none

COLUMNS = ["phi", "strategy", "versus", "diff", "low", "high", "p_value", "seeds", "decided",
           "winner"]  # fmt: skip
EXTRAS = ["sweep", "sd", "p_raw", "confidence", "seeds_needed", "kind"]
BASELINE = "baseline"
POWER = 0.8
MAX_SEEDS_NEEDED = 1000  # beyond this the estimate is "more than 1000" (NaN)


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


def paired_table(table: pd.DataFrame) -> pd.DataFrame:
    """Top-1 of ``ok`` points: one row per (sweep, phi, seed), one column per strategy."""
    table = with_sweep(table)
    ok = table[(table["status"] == "ok")].copy()
    ok["top1"] = pd.to_numeric(ok["top1"], errors="coerce")
    ok["phi"] = pd.to_numeric(ok["phi"], errors="coerce")
    ok = ok.dropna(subset=["top1", "phi"])
    wide = ok.pivot_table(index=["sweep", "phi", "seed"], columns="strategy", values="top1")
    return wide[strategy_order(wide.columns)]


def comparisons(table: pd.DataFrame) -> list[tuple[str, float, str, str, np.ndarray]]:
    """(sweep, phi, strategy, versus, paired differences) for every comparison of every level."""
    wide = paired_table(table)
    out = []
    for (sweep, phi), level in wide.groupby(level=["sweep", "phi"], sort=True):
        if phi == 0:
            continue
        level = level.droplevel(["sweep", "phi"]).dropna(axis=1, how="all")
        for a, b in combinations(level.columns, 2):
            pair = level[[a, b]].dropna()
            out.append((sweep, phi, b, a, (pair[b] - pair[a]).to_numpy(float)))
        base = _baseline(wide, sweep)
        if base is None:
            continue
        for strategy in level.columns:
            pair = pd.concat([level[strategy], base], axis=1, join="inner").dropna()
            diffs = (pair.iloc[:, 0] - pair.iloc[:, 1]).to_numpy(float)
            out.append((sweep, phi, strategy, BASELINE, diffs))
    return out


def _baseline(wide: pd.DataFrame, sweep: str) -> pd.Series | None:
    """The phi = 0 top-1 per seed (every strategy's phi 0 point is the same training)."""
    try:
        level = wide.loc[(sweep, 0.0)]
    except KeyError:
        return None
    values = level.mean(axis=1, skipna=True).dropna()
    return values if len(values) else None


def t_test(diffs: np.ndarray) -> tuple[float, float, float]:
    """Mean, standard deviation and two-sided paired t-test p-value of ``diffs`` (n >= 2); the
    p-value is NaN when the differences do not vary (nothing to test against)."""
    from scipy.stats import t

    n, mean = len(diffs), float(np.mean(diffs))
    sd = float(np.std(diffs, ddof=1))
    if sd == 0:
        return mean, 0.0, math.nan
    stat = mean / (sd / math.sqrt(n))
    return mean, sd, float(2 * t.sf(abs(stat), n - 1))


def seeds_needed(sd: float, margin: float, alpha: float, seeds: int) -> float:
    """Paired seeds that would decide a ``margin`` difference at spread ``sd`` (module doc)."""
    if not math.isfinite(sd) or sd == 0:  # no spread observed: no estimate
        return math.nan
    enough = NEEDED_N[_reach(alpha) * sd <= margin]
    return float(enough[0]) if len(enough) else math.nan


NEEDED_N = np.arange(2, MAX_SEEDS_NEEDED + 1)


@functools.lru_cache(maxsize=64)
def _reach(alpha: float) -> np.ndarray:
    """(t(1 - alpha/2, n-1) + t(power, n-1)) / sqrt(n) for every n of :data:`NEEDED_N`."""
    from scipy.stats import t

    n = NEEDED_N
    return (t.ppf(1 - alpha / 2, n - 1) + t.ppf(POWER, n - 1)) / np.sqrt(n)


def decisions(table: pd.DataFrame, decide: Decide | None = None, looks: int = 1) -> pd.DataFrame:
    """Every comparison of every level: :data:`COLUMNS` then :data:`EXTRAS` (module doc).

    ``decide`` is the config section (margin, confidence); ``looks`` the number of looks an
    adaptive sweep may take at a level (alpha is split evenly over them).
    """
    decide = decide or Decide()
    rows = [_row(*c) for c in comparisons(table)]
    frame = pd.DataFrame(rows, columns=COLUMNS + EXTRAS)
    if frame.empty:
        return frame
    return _holm(frame, (1 - decide.confidence) / max(1, looks), decide.margin, max(1, looks))


def _row(sweep: str, phi: float, strategy: str, versus: str, diffs: np.ndarray) -> dict:
    n = len(diffs)
    mean = float(np.mean(diffs)) if n else math.nan
    sd, p = (t_test(diffs)[1:]) if n >= 2 else (math.nan, math.nan)
    kind = "baseline" if versus == BASELINE else "pair"
    return {"sweep": sweep, "phi": float(phi), "strategy": strategy, "versus": versus,
            "diff": mean, "seeds": n, "sd": sd, "p_raw": p, "kind": kind}  # fmt: skip


def holm_steps(p_raw: np.ndarray, alpha: float) -> np.ndarray:
    """Per comparison, the alpha Holm's step-down tests it at: alpha / (m - rank) in order of
    p-value up to the first comparison it keeps, that comparison's for the rest."""
    m = len(p_raw)
    order = np.argsort(p_raw, kind="stable")
    steps = alpha / (m - np.arange(m))
    kept = np.flatnonzero(~(p_raw[order] < steps))
    if len(kept):
        steps[kept[0] :] = steps[kept[0]]
    out = np.empty(m)
    out[order] = steps
    return out


def holm_adjusted(p_raw: np.ndarray, looks: int = 1) -> np.ndarray:
    """Holm-adjusted p-values (times ``looks``, Bonferroni over the looks), capped at 1."""
    m = len(p_raw)
    order = np.argsort(p_raw, kind="stable")
    out = np.empty(m)
    out[order] = np.maximum.accumulate(np.minimum(1.0, p_raw[order] * looks * (m - np.arange(m))))
    return out


def _holm(frame: pd.DataFrame, alpha: float, margin: float, looks: int) -> pd.DataFrame:
    """Holm's step-down over the testable comparisons of each level; intervals at Holm's levels,
    verdicts from the intervals (module doc)."""
    from scipy.stats import t

    frame = frame.copy()
    n, p = frame["seeds"].to_numpy(float), frame["p_raw"].to_numpy(float)
    sd, diff = frame["sd"].to_numpy(float), frame["diff"].to_numpy(float)
    step, adjusted, family = (np.full(len(frame), math.nan) for _ in range(3))
    testable = np.flatnonzero((n >= 2) & np.isfinite(p))
    levels = frame.iloc[testable].groupby(["sweep", "phi"], sort=False).indices
    for where in levels.values():
        rows = testable[where]
        step[rows], adjusted[rows] = holm_steps(p[rows], alpha), holm_adjusted(p[rows], looks)
        family[rows] = len(rows)
    with np.errstate(invalid="ignore"):
        half = t.ppf(1 - step / 2, n - 1) * sd / np.sqrt(n)
    # a difference of two top-1 fractions lies in [-1, 1]; clipping decides nothing
    low, high = np.maximum(-1.0, diff - half), np.minimum(1.0, diff + half)
    frame["low"], frame["high"], frame["p_value"] = low, high, adjusted
    frame["confidence"] = 1 - step
    frame["seeds_needed"] = [
        seeds_needed(s, margin, alpha / f, int(k)) if k >= 2 else math.nan
        for s, f, k in zip(sd, family, n, strict=True)
    ]
    excludes = (low > 0) | (high < 0)
    tie = ~excludes & (low >= -margin) & (high <= margin)
    winner = np.where(low > 0, frame["strategy"], np.where(high < 0, frame["versus"], ""))
    frame["decided"] = excludes | tie
    frame["winner"] = np.where(tie, "tie", winner)
    return frame[COLUMNS + EXTRAS].reset_index(drop=True)


def ranking_rows(level: pd.DataFrame) -> pd.DataFrame:
    """The comparisons that decide a level's ranking: its strategy pairs, or, with one strategy
    at the level, that strategy against the baseline."""
    pairs = level[level["kind"] == "pair"]
    return pairs if len(pairs) else level


def level_decided(frame: pd.DataFrame) -> pd.Series:
    """Whether each (sweep, phi) level's ranking is decided (every ranking row decided)."""
    if frame.empty:
        return pd.Series(dtype=bool)
    grouped = frame.groupby(["sweep", "phi"], sort=False)
    return grouped.apply(lambda lv: bool(ranking_rows(lv)["decided"].all()), include_groups=False)


def winners(frame: pd.DataFrame) -> pd.DataFrame:
    """(sweep, phi, strategy): a level's decided winner, one that won each of its pairs there."""
    found = []
    pairs = frame[frame["kind"] == "pair"] if len(frame) else frame
    for (sweep, phi), level in pairs.groupby(["sweep", "phi"], sort=False):
        for strategy in set(level["strategy"]) | set(level["versus"]):
            mine = level[(level["strategy"] == strategy) | (level["versus"] == strategy)]
            if mine["decided"].all() and (mine["winner"] == strategy).all():
                found.append({"sweep": sweep, "phi": phi, "strategy": strategy})
    return pd.DataFrame(found, columns=["sweep", "phi", "strategy"])
