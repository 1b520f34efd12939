"""Job functions a supervised training process imports by name (tests/sweep/test_zygote.py)."""

from __future__ import annotations

import os
import sys
from typing import Any


def where(_cfg: Any) -> dict[str, Any]:
    """Who started this training process, and whether it began with torch's stack imported."""
    return {"pid": os.getpid(), "parent": os.getppid(), "warm": "bench.train.point" in sys.modules}


def convolve(threads: int) -> float:
    """A convolution on ``threads`` CPU threads (the OpenMP pool that a fork can break)."""
    import torch

    torch.set_num_threads(threads)
    x = torch.ones(64, 3, 64, 64)
    return float(torch.nn.functional.conv2d(x, torch.ones(16, 3, 3, 3)).sum())
