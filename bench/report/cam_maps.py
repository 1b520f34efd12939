"""What the class-activation-map grid is made of: its columns and each column's maps.

:mod:`bench.report.cam` computes them (rebuilding networks, running Grad-CAM) and
:mod:`bench.report.cam_draw` draws them; both import these types from here, so neither
imports the other's module to name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Column:
    """One network of the grid: a point with a checkpoint, or why its strategy has none."""

    label: str  # "baseline" or the strategy
    phi: float
    result: dict[str, Any] | None = None
    missing: str = "no checkpoint"


@dataclass(frozen=True)
class Maps:
    """One column's cells: RGB images in [0, 1] (N, H, W, 3), heat maps (N, H, W), predictions."""

    images: np.ndarray
    cams: np.ndarray
    predicted: list[int]
    layer: str
