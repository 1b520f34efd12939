"""Points a reader must see: still improving, not above chance, off the MAC target.

A top-1 on a scaling curve is a finding only when the point finished learning
(``still_improving`` false), learned at all (``above_chance`` true) and sits
where the plan put it (``within_tolerance`` true); :mod:`bench.train.diagnostics`
decides each flag. This module says which points and levels carry which flag, as data and
in words; the report never hides such a point, it marks it:

- figures: an overlay in ink on the level's marker, one shape per kind, so it
  reads in greyscale and without colour vision: an open ring around the
  marker (still improving), a "?" above left (not above chance), a "↔" above
  right (off its MAC target: its x is not where the budget level is); each
  kind present gets a legend entry (drawn by :mod:`bench.report.flags`);
- tables: a footnote mark in the top-1 cell (†, ‡, §), explained in the
  caption; tables that list points or fits rather than levels carry the
  counts in words (:func:`flag_text`: "2 still improving; 1 off MAC target").

A level is marked when any of its ok seeds is flagged (learning flags count
among ok points only, as in :func:`bench.train.diagnostics.problems`; a diverged or
failed point has its own marker).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bench.train.diagnostics import parse_flag


@dataclass(frozen=True)
class Flag:
    """One kind of problem: where it is recorded, how it is counted, named and footnoted (how
    it is drawn is :data:`bench.report.flags.OVERLAYS`')."""

    key: str  # the result's field
    bad: bool  # the value that flags a point
    count: str  # the level column counting flagged ok seeds
    label: str  # legend entry
    mark: str  # table footnote mark
    note: str  # the mark's meaning, for a table caption


FLAGS = (
    Flag("still_improving", True, "n_improving", "still improving", "†",
         "a seed was still improving when its budget ended (more epochs may reorder)"),
    Flag("above_chance", False, "n_chance", "not above chance", "‡",
         "a seed's top-1 is not above chance (it did not learn)"),
    Flag("within_tolerance", False, "n_off_target", "off MAC target", "§",
         "a seed is off its MAC target beyond plan.tolerance"),
)  # fmt: skip
COUNTS = tuple(f.count for f in FLAGS)


def flagged(table: pd.DataFrame, flag: Flag) -> pd.Series:
    """Which rows are ok points carrying ``flag``'s bad value (a missing column flags none)."""
    if flag.key not in table:
        return pd.Series(False, index=table.index)
    values = table[flag.key].map(parse_flag)
    return (table["status"] == "ok") & (values == flag.bad)


def count_flags(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per level (``keys``), how many ok seeds carry each flag: the :data:`COUNTS` columns."""
    frame = table[keys].copy()
    for flag in FLAGS:
        frame[flag.count] = flagged(table, flag).astype(int)
    return frame.groupby(keys, sort=False, dropna=False)[list(COUNTS)].sum()


def counted(counts: Mapping[str, Any]) -> str:
    """The flags of a :data:`COUNTS` mapping (a level row) in words, in :data:`FLAGS` order:
    "2 still improving; 1 off MAC target", or "" when none is flagged."""
    present = [(f, int(counts.get(f.count) or 0)) for f in FLAGS]
    return "; ".join(f"{n} {f.label}" for f, n in present if n > 0)


def flag_text(points: pd.DataFrame) -> str:
    """The flags of a set of points (rows of the results table; only ``ok`` rows count) in words,
    as :func:`counted` says them: what a table of points or of fits shows for them."""
    return counted({f.count: int(flagged(points, f).sum()) for f in FLAGS})


def marks(level: pd.Series) -> str:
    """The footnote marks of a level (a row of summarize_levels): "†§" or ""."""
    return "".join(f.mark for f in FLAGS if level.get(f.count, 0) > 0)


def table_note(levels: pd.DataFrame) -> str:
    """The caption's legend of the marks that appear, e.g. "† a seed was ...; § ..."."""
    present = [f for f in FLAGS if f.count in levels and (levels[f.count] > 0).any()]
    return "; ".join(f"{f.mark} {f.note}" for f in present)


def any_flagged(levels: pd.DataFrame) -> np.ndarray:
    """Per level, whether any kind is flagged."""
    present = [c for c in COUNTS if c in levels]
    if not present:
        return np.zeros(len(levels), dtype=bool)
    return (levels[present] > 0).any(axis=1).to_numpy()
