"""Does the best learning rate drift with scale? The table of validation top-1 against rate.

For points tuned with ``tune.lrs`` (:mod:`bench.train.tuning`), each candidate's validation
top-1 (``lr_candidates`` in result.json), one row per point and rate, the chosen one marked:
``tables/lr_sensitivity.csv``, written and drawn by :mod:`bench.report.lr_sensitivity`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

LR_COLUMNS = ["sweep", "strategy", "phi", "seed", "lr", "val_top1", "status", "chosen"]


def lr_table(results: dict[str, list[dict[str, Any]]]) -> pd.DataFrame:
    """One row per (point, candidate rate) of every tuned point (empty when none was tuned)."""
    rows = [
        {"sweep": r.get("sweep"), "strategy": r.get("strategy"), "phi": r.get("phi"),
         "seed": r.get("seed"), "lr": c.get("lr"), "val_top1": c.get("val_top1"),
         "status": c.get("status"), "chosen": c.get("lr") == r.get("lr")}
        for points in results.values() for r in points for c in r.get("lr_candidates") or []
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=LR_COLUMNS)
