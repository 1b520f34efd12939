"""What the training loop changes, as one explicit value: a checkpoint is this, saved.

It lives apart from the loop (:mod:`bench.train.loop`) so that the checkpoint
(:mod:`bench.train.checkpoint`) reads and writes it without importing the loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass
class State:
    """Everything the loop changes; a checkpoint is this, saved."""

    model: nn.Module
    eval_model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0
    last_loss: float | None = None
    timings: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("eval", "checkpoint", "log"), 0.0)
    )
    last_checkpoint: float = field(default_factory=time.monotonic)  # when one was last written
    resumed_versions: dict[str, Any] = field(default_factory=dict)  # what wrote the checkpoint
