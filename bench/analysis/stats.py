"""Statistics over seeds, in one place: tables, figures and the coefficient search use these.

A point's seeds are few (2 to 5), so the interval on their mean is Student's
t (two-sided 95 %), never a normal one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd


def t_quantile(df: int, level: float = 0.95) -> float:
    """The two-sided ``level`` quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, df)) if df >= 1 else math.nan


def finite(values: Iterable[float | None]) -> np.ndarray:
    """The values that are numbers (None and NaN dropped), as floats."""
    return np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)


def mean_ci(values: Iterable[float | None]) -> tuple[float, float]:
    """Mean and half-width of its two-sided 95 % t interval (NaN half-width below 2 values)."""
    x = finite(values)
    if x.size == 0:
        return math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.nan
    half = t_quantile(x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(half)


MIN_BAND_SEEDS = 3  # below this many values a band is not drawn: every seed and their range are
INTERVALS = ("t95", "sd", "range")


class Interval(NamedTuple):
    """What a level's seeds say: their mean and the interval shown around it.

    ``kind`` is the interval actually shown: the one asked for, ``range`` when
    there are fewer than :data:`MIN_BAND_SEEDS` values (a t-interval on two
    seeds has t = 12.7 and says nothing), ``one`` for a single value, ``none``
    for no value. ``clipped`` is true when an end was pulled in to ``bounds``.
    """

    mean: float
    low: float
    high: float
    kind: str
    clipped: bool


def seed_interval(
    values: Iterable[float | None], kind: str = "t95", bounds: tuple[float, float] = (0.0, 1.0)
) -> Interval:
    """Mean of the finite ``values`` and an interval of ``kind`` around it, inside ``bounds``.

    ``t95``: the two-sided 95 % t-interval on the mean (:func:`mean_ci`);
    ``sd``: mean +- one standard deviation; ``range``: lowest to highest value.
    Accuracy cannot leave [0, 1], so neither can its interval: t95 and sd are
    clipped to ``bounds`` (and say so), a range never needs it.
    """
    if kind not in INTERVALS:
        raise ValueError(f"interval {kind!r} must be one of {', '.join(INTERVALS)}")
    x = finite(values)
    if x.size == 0:
        return Interval(math.nan, math.nan, math.nan, "none", False)
    mean = float(x.mean())
    if x.size == 1:
        return Interval(mean, mean, mean, "one", False)
    if x.size < MIN_BAND_SEEDS or kind == "range":
        return Interval(mean, float(x.min()), float(x.max()), "range", False)
    half = mean_ci(x)[1] if kind == "t95" else float(x.std(ddof=1))
    low, high = max(bounds[0], mean - half), min(bounds[1], mean + half)
    return Interval(mean, low, high, kind, bool(low > mean - half or high < mean + half))
