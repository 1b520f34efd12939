"""bench.analysis.pareto: the front of level means in (fewer MACs, higher top-1)."""

from __future__ import annotations

import pandas as pd

from bench.analysis.pareto import pareto_front


def test_pareto_front_keeps_only_undominated_levels():
    levels = pd.DataFrame(
        {
            "sweep": "s",
            "strategy": ["depth", "width", "depth", "width", "compound"],
            "phi": [0, 0, 1, 1, 1],
            "macs": [1.0, 1.0, 2.0, 2.1, 1.9],
            "top1_mean": [0.5, 0.5, 0.6, 0.7, 0.65],
        }
    )
    front = pareto_front(levels)
    assert list(front["strategy"]) == ["depth", "compound", "width"]
    assert list(front["macs"]) == [1.0, 1.9, 2.1]
