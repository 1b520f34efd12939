"""What every benchmark script shares: progress lines, device sync, synthetic batches,
the plain training loop users would write, and the peak the MFU figures divide by."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

STARTED = time.perf_counter()
H100_BF16_DENSE = 989e12  # FLOP/s; the H200 has the same compute


def log(msg: str, tag: str = "bench") -> None:
    """Progress on stderr, with seconds since start: stdout's last line is the JSON."""
    print(f"[{tag} {time.perf_counter() - STARTED:5.0f}s] {msg}", file=sys.stderr, flush=True)


def device() -> torch.device:
    """The accelerator when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sync(dev: torch.device) -> None:
    """Wait for the device, so a timer brackets the work and only the work."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


class NoEval:
    """A one-image held-out split: these benchmarks time training only."""

    def __init__(self, dev: torch.device, side: int = 8) -> None:
        self.device = dev
        self.side = side

    def epoch(self, index: int, skip: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        yield (torch.zeros(1, 3, self.side, self.side, device=self.device),
               torch.zeros(1, dtype=torch.long, device=self.device))  # fmt: skip


class SyntheticBatches:
    """One random batch held on the device, served forever (timm's benchmark does the same)."""

    def __init__(self, batch: int, side: int, classes: int, dev: torch.device,
                 channels_last: bool, per_epoch: int = 1000) -> None:  # fmt: skip
        self.x = torch.randn(batch, 3, side, side, device=dev)
        if channels_last:
            self.x = self.x.contiguous(memory_format=torch.channels_last)
        self.y = torch.randint(0, classes, (batch,), device=dev)
        self.device = dev
        self.per_epoch = per_epoch

    def __len__(self) -> int:
        return self.per_epoch

    def epoch(self, index: int, skip: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for _ in range(skip, len(self)):
            yield self.x, self.y


def forever(loader: Any) -> Iterator[Any]:
    """The loader's batches, epoch after epoch."""
    while True:
        yield from loader


def plain_rate(model: nn.Module, batches: Iterator[Any], prepare: Callable[..., Any],
               steps: int, warmup: int, batch: int, dev: torch.device,
               label_smoothing: float = 0.0) -> float:  # fmt: skip
    """Images/s of the loop users write: SGD with Nesterov, fp32, the loss read every step.

    ``prepare(x, y)`` is what the loop does to a batch from its loader (to the
    device, normalised); the timer starts after ``warmup`` steps.
    """
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)  # fmt: skip
    model.train()
    start = time.perf_counter()
    for step in range(warmup + steps):
        if step == warmup:
            sync(dev)
            start = time.perf_counter()
        x, y = prepare(*next(batches))
        loss = F.cross_entropy(model(x), y, label_smoothing=label_smoothing)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()  # per-step logging, as such loops do
    sync(dev)
    return steps * batch / (time.perf_counter() - start)
