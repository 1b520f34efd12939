"""What makes a fit degenerate, said in words beside it: the fit tables' ``flags`` column.

A fitted law is a finding only when the data pinned it down. Three things say
it did not, and the tables count each rather than hide it:

- a parameter at a bound of its fit (``E`` at 0 or 1, ``b`` at 0 or its upper
  bound): the optimiser ran into a wall, so the value is the bound's, not the
  data's (a saturating law whose ``E`` is 1e-23 describes points that do not
  saturate yet);
- as many or fewer distinct points than the law's parameters: the curve passes
  through the points (or cannot be fitted), so it tests nothing;
- bootstrap resamples that could not be fitted: the interval rests on the
  others only, and how many failed says how far to trust it.

Each fit's flags follow the flags of the points it was fitted to
(:func:`bench.analysis.flags.flag_text`), in one ``"; "``-joined text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

BOUND_TOLERANCE = 1e-4  # a parameter this close (a share of its bounds' span) is at the bound


def at_bounds(values: Mapping[str, float], bounds: Mapping[str, tuple[float, float]]) -> list[str]:
    """ "E at its bound 0" for each parameter within :data:`BOUND_TOLERANCE` of a finite bound
    (``bounds``: name -> (low, high)); a missing or NaN value is at no bound."""
    found = []
    for name, (low, high) in bounds.items():
        value = values.get(name)
        if value is None or not np.isfinite(value):
            continue
        span = (high - low) if np.isfinite(high) else max(abs(low), 1.0)
        for bound in (low, high):
            if np.isfinite(bound) and abs(value - bound) <= BOUND_TOLERANCE * span:
                found.append(f"{name} at its bound {bound:g}")
    return found


def too_few_points(distinct: int, parameters: int) -> str:
    """ "3 distinct points for 3 parameters" when the points cannot test the law, else ""."""
    if distinct > parameters:
        return ""
    return f"{distinct} distinct point{'s' * (distinct != 1)} for {parameters} parameters"


def failed_resamples(failed: int, total: int) -> str:
    """ "12 of 200 resamples failed", or "" when none did (or none was drawn)."""
    return f"{failed} of {total} resamples failed" if total and failed else ""


def join(parts: Iterable[str]) -> str:
    """The non-empty parts, ``"; "``-joined: a table cell."""
    return "; ".join(p for p in parts if p)
