"""Results on known power laws, shared by the fits' tests (tests/analysis/test_fits.py) and
the fit tables' and lines' (tests/report/test_fits.py)."""

from __future__ import annotations

import pandas as pd
from helpers.fake_results import make_result

BASE = 1e6  # baseline MACs
E0 = 0.5  # baseline top-1 error
REQUIRED = ["strategy", "a", "b", "r2", "n_points", "flops_to_match_best"]


def point(strategy: str, phi: float, seed: int, macs: float, err: float, status: str = "ok"):
    """One result row of ``make_result``'s shape with the MACs and top-1 this test chose; a
    diverged or failed row carries them too, so counting it by mistake would change a fit."""
    return make_result(strategy, phi, seed, status) | {"macs": int(round(macs)), "top1": 1 - err}


def power_law(b: float, macs: float) -> float:
    """Error on the power law through the baseline (BASE, E0) with exponent ``b``."""
    return E0 * (macs / BASE) ** -b


# strategy, exponent b, MACs of phi=1 over 2**phi (real points miss their target a little)
LAWS = (("depth", 0.2, 1.0), ("width", 0.1, 1.03), ("resolution", -0.1, 0.97))


def hand_table() -> pd.DataFrame:
    """depth b=0.2, width b=0.1, resolution b=-0.1 (error grows), linear never finishes a
    level past the baseline; two identical seeds; phi=0 shared, exactly on every law."""
    rows = []
    for seed in (0, 1):
        for strategy, b, skew in LAWS:
            rows += [point(strategy, 0, seed, BASE, E0)]
            for phi in (1, 2):
                macs = BASE * 2**phi * (skew if phi == 1 else 1.0)
                rows.append(point(strategy, phi, seed, macs, power_law(b, macs)))
        rows.append(point("linear", 0, seed, BASE, E0))
        rows.append(point("linear", 1, seed, 2 * BASE, 0.4, "diverged"))
        rows.append(point("linear", 2, seed, 4 * BASE, 0.3, "failed"))
    return pd.DataFrame(rows)
