"""Statistics over seeds, in one place: tables, figures and the coefficient search use these.

A point's seeds are few (2 to 5), so the interval on their mean is Student's
t (two-sided 95 %), never a normal one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

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
