"""Hand-made points on a compute frontier, shared by tests/analysis/test_frontier.py and
tests/report/test_frontier.py."""

from __future__ import annotations

import pandas as pd


def points(rows, seeds=(0,), spread=0.0):
    """Hand-made ok points: (sweep, strategy, phi, seed, train_flops, top1) rows, or (sweep,
    strategy, phi, train_flops, top1) repeated for ``seeds`` with top1 + spread * seed."""
    cols = ["sweep", "strategy", "phi", "seed", "train_flops", "top1"]
    if len(rows[0]) == 5:
        rows = [(w, s, p, k, f, t + spread * k) for w, s, p, f, t in rows for k in seeds]
    return pd.DataFrame(rows, columns=cols).assign(status="ok", epochs=1.0, budget="epochs")


# depth leads at small compute, width overtakes it from 4e14; depth's 6e14 level is below
# width's cheaper 0.70, so it is off the frontier
HAND = points([
    ("e1", "depth", 0, 0, 1e14, 0.50), ("e1", "width", 0, 0, 1e14, 0.50),
    ("e1", "depth", 1, 0, 2e14, 0.60), ("e1", "width", 1, 0, 2e14, 0.55),
    ("e2", "depth", 0, 0, 3e14, 0.58), ("e2", "width", 0, 0, 3e14, 0.58),
    ("e2", "depth", 1, 0, 6e14, 0.62), ("e2", "width", 1, 0, 4e14, 0.70),
])  # fmt: skip
