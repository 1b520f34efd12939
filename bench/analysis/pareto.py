"""The accuracy/FLOPs frontier of level means: which levels no other level beats for less.

:mod:`bench.report.pareto` draws it (a step line coloured by owner) and the by-family figure
draws each family's.
"""

from __future__ import annotations

import math

import pandas as pd


def pareto_front(levels: pd.DataFrame, y: str = "top1_mean") -> pd.DataFrame:
    """Levels not dominated in (lower MACs, higher ``y``), sorted by MACs; ties keep the first.

    A level is dominated when another has no more MACs and no less top-1,
    and is strictly better in one of them.
    """
    ok = levels.dropna(subset=["macs", y])
    ok = ok.sort_values(["macs", y], ascending=[True, False], kind="stable")
    best, keep = -math.inf, []
    for index, top1 in ok[y].items():
        if top1 > best:
            keep.append(index)
            best = top1
    return ok.loc[keep]
