"""A level is one strategy at one phi of one sweep, its seeds pooled; and the strategies' order.

Readers compare strategies at a budget level, so figures and tables draw
levels, not seeds. :func:`summarize_levels` pools once for the whole report,
so a figure's band and a table's interval are the same numbers. Top-1 is
pooled over finished (``ok``) seeds only; diverged and failed seeds are
counted, never averaged in and never dropped silently. The interval around
the mean is :func:`bench.analysis.stats.seed_interval` (``plot.interval``): with fewer
than three ok seeds it is their range, and it never leaves [0, 100] %.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from bench.analysis.flags import count_flags
from bench.analysis.stats import seed_interval

# Strategies in the order every figure, legend and table uses (docs/design.md); others follow
# sorted.
STRATEGY_ORDER = ("depth", "width", "resolution", "compound", "linear", "uniform", "fast")
LEVEL_KEYS = ["sweep", "strategy", "phi"]
# Columns pooled per level: the mean over ok seeds, or over any seed when none finished.
LEVEL_METRICS = (
    "macs", "params", "activations", "depth_mult", "width_mult", "res_mult", "resolution",
    "extra_blocks", "target_macs", "images_per_sec", "wall_seconds", "epochs", "latency_ms",
)  # fmt: skip
INTERVAL_COLUMNS = ["top1_mean", "top1_low", "top1_high", "top1_interval", "top1_clipped"]


def strategy_order(names: Iterable[str]) -> list[str]:
    """Known strategies in docs/design.md's order, then others sorted: every output agrees."""
    present = {str(n) for n in names}
    return [s for s in STRATEGY_ORDER if s in present] + sorted(present - set(STRATEGY_ORDER))


def summarize_levels(table: pd.DataFrame, interval: str = "t95") -> pd.DataFrame:
    """One row per (sweep, strategy, phi): seed counts, pooled metrics, top-1 and its interval.

    Columns: the keys, ``n``, ``n_ok``, ``n_diverged``, ``n_failed``, the
    :data:`LEVEL_METRICS` that exist, :data:`INTERVAL_COLUMNS` (fractions;
    ``top1_interval`` is the kind shown: ``interval``, ``range`` below three
    ok seeds, ``one`` or ``none``), ``depths`` (blocks per stage, where recorded) and the
    flag counts of
    :data:`bench.analysis.flags.COUNTS`. Rows are sorted by sweep (first seen
    first), strategy (:func:`strategy_order`) and phi.
    """
    table = with_sweep(table)
    keys = LEVEL_KEYS
    metrics = [m for m in LEVEL_METRICS if m in table]
    numeric = table[metrics].apply(pd.to_numeric, errors="coerce")
    frame = pd.concat([table[keys + ["status"]], numeric, _top1(table)], axis=1)
    groups = frame.groupby(keys, sort=False, dropna=False)

    levels = groups.size().rename("n").to_frame()
    for status in ("ok", "diverged", "failed"):
        levels[f"n_{status}"] = groups["status"].agg(lambda s, st=status: int((s == st).sum()))
    ok = frame[frame["status"] == "ok"]
    pooled = ok.groupby(keys, sort=False, dropna=False)[metrics].mean()
    levels = levels.join(pooled.combine_first(groups[metrics].mean()))
    if "depths" in table:  # what was built: every seed of a level builds the same network
        levels["depths"] = table.groupby(keys, sort=False, dropna=False)["depths"].first()
    levels = levels.join(_intervals(ok, keys, interval), how="left")
    levels = levels.join(count_flags(table, keys))
    levels["top1_interval"] = levels["top1_interval"].fillna("none")
    levels["top1_clipped"] = levels["top1_clipped"].fillna(False).astype(bool)
    return _sort_levels(levels.reset_index(), table)


def _intervals(ok: pd.DataFrame, keys: list[str], interval: str) -> pd.DataFrame:
    """Mean, ends, kind and clipping of each level's ok top-1 values."""
    rows = {key: seed_interval(group, interval) for key, group in ok.groupby(keys)["top1"]}
    index = pd.MultiIndex.from_arrays([[k[i] for k in rows] for i in range(len(keys))], names=keys)
    frame = pd.DataFrame([tuple(r) for r in rows.values()], index=index, columns=INTERVAL_COLUMNS)
    return frame.astype({c: float for c in INTERVAL_COLUMNS[:3]})


def _sort_levels(frame: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Sort rows by sweep (as first seen in ``table``), strategy order, then phi."""
    sweeps = list(dict.fromkeys(table["sweep"]))
    strategies = strategy_order(frame["strategy"])
    return (
        frame.assign(
            _sweep=frame["sweep"].map({s: i for i, s in enumerate(sweeps)}),
            _strategy=frame["strategy"].map({s: i for i, s in enumerate(strategies)}),
        )
        .sort_values(["_sweep", "_strategy", "phi"], kind="stable")
        .drop(columns=["_sweep", "_strategy"])
        .reset_index(drop=True)
    )


def with_sweep(table: pd.DataFrame) -> pd.DataFrame:
    """The table with a ``sweep`` column ("" when it has none)."""
    return table if "sweep" in table else table.assign(sweep="")


def _top1(table: pd.DataFrame) -> pd.Series:
    if "top1" not in table:
        return pd.Series(math.nan, index=table.index, name="top1")
    return pd.to_numeric(table["top1"], errors="coerce")
