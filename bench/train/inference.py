"""What a trained point costs to run: inference latency, throughput and peak training memory.

Accuracy at equal training FLOPs is only half of a scaling comparison; the other half is
what the network costs once deployed, which MACs predict poorly (depth is sequential,
width is parallel). Measuring happens on the training device, right after training, and
must stay a small fraction of a point's wall time, so both timings adapt their number of
runs to a time budget instead of using a fixed count.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import nn


class Runs(NamedTuple):
    """How many forward passes one timing makes: untimed first, then timed (at least / most)."""

    warmup: int
    min_runs: int
    max_runs: int


LATENCY_SHARE = 0.2  # of the budget; batch-1 runs are cheap, so many fit
LATENCY = Runs(warmup=3, min_runs=10, max_runs=1000)
# One eval batch already averages over hundreds of images; a second would double the cost.
THROUGHPUT = Runs(warmup=1, min_runs=1, max_runs=100)
MIN_RUNS_CAP = 4.0  # minimum counts yield once this many budgets have passed
MB = 2**20
_STATM = "/proc/self/statm"  # Linux: sizes in pages; the 2nd field is resident
clock = time.perf_counter  # every timing reads this clock (tests give it a simulated one)


@dataclass(frozen=True)
class Workload:
    """What one timing runs: the input side, the throughput batch, and how the point ran."""

    resolution: int
    batch_size: int
    channels_last: bool = False
    amp: bool = False
    in_channels: int = 3

    def runner(self, model: nn.Module, device: torch.device, batch: int) -> Callable[[], None]:
        """One forward pass of ``model`` on a random batch of ``batch`` images, as configured."""
        shape = (batch, self.in_channels, self.resolution, self.resolution)
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        x = torch.randn(*shape, device=device).contiguous(memory_format=memory_format)
        autocast = (
            (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if self.amp else nullcontext
        )

        def forward() -> None:
            with autocast():
                model(x)

        return forward


def measure_inference(
    model: nn.Module,
    device: torch.device,
    workload: Workload,
    budget_seconds: float,
) -> dict[str, Any]:
    """Batch-1 latency and eval-batch throughput of ``model`` (already on ``device``).

    Inputs are random: a forward pass's cost does not depend on pixel values. Both
    timings run warm-up passes first (oneDNN / cuDNN pick kernels per shape), then time
    passes while another fits in their share of ``budget_seconds`` (warm-up included).
    They make at least a minimum count of timed passes (10 at batch 1, 1 at the eval
    batch) unless ``MIN_RUNS_CAP`` budgets have passed, and always one, so ``seconds``
    exceeds the budget for a model whose passes outlast it; ``*_runs`` says how many
    were timed.
    ``latency_ms`` is the median batch-1 pass; ``inference_images_per_sec`` is the
    workload's batch over the median eval-batch pass. Each module's train/eval flag is
    restored afterwards, mixed modes included. On a CPU shared with other busy processes
    both numbers are inflated, batch 1 most (each of its many short parallel regions
    waits for every thread to be scheduled).
    """
    start = clock()
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    cap = start + budget_seconds * MIN_RUNS_CAP
    try:
        with torch.inference_mode():
            one = workload.runner(model, device, 1)
            latency = _time_runs(one, device, LATENCY, start + budget_seconds * LATENCY_SHARE, cap)
            many = workload.runner(model, device, workload.batch_size)
            throughput = _time_runs(many, device, THROUGHPUT, start + budget_seconds, cap)
    finally:
        for module, training in modes:
            module.training = training
    return {
        "latency_ms": statistics.median(latency) * 1000.0,
        "inference_images_per_sec": workload.batch_size / statistics.median(throughput),
        "latency_runs": len(latency),
        "throughput_runs": len(throughput),
        "seconds": clock() - start,
    }


def _time_runs(
    forward: Callable[[], None],
    device: torch.device,
    runs: Runs,
    deadline: float,
    cap: float,
) -> list[float]:
    """Seconds of each timed call that ends by ``deadline``; ``runs.min_runs`` until ``cap``."""
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    for _ in range(runs.warmup):
        forward()
    sync()
    times: list[float] = []
    while len(times) < runs.max_runs:
        if times:
            now = clock()
            fits = now + times[-1] <= deadline  # the next pass, if as long as the last
            if not fits and (len(times) >= runs.min_runs or now >= cap):
                break
        began = clock()
        forward()
        sync()
        times.append(clock() - began)
    return times


class PeakMemory:
    """Peak memory of the code run between :meth:`start` and :meth:`stop` (or a ``with``).

    ``mb`` means different things per device, because each reports what it can:

    - CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``, in MiB:
      the peak of memory held by tensors on that device, *absolute* (weights, optimizer
      state and any GPU-resident data allocated before ``start`` count), excluding the
      caching allocator's reserve and the CUDA context.
    - CPU (Linux): the growth of the process's resident set size, in MiB: the largest RSS
      sampled during the run (every ``interval`` seconds by a background thread, plus at
      start and stop) minus the RSS at start, so what was resident at start (weights, data
      already loaded) is left out, unlike on CUDA. Its limits: a spike shorter than the
      interval can be missed; memory freed earlier in the process but kept by the
      allocator rather than returned to the OS is reused without raising RSS, so a second
      point trained in the same process can show less growth than the first; RSS counts
      everything resident (data loading, libraries loaded lazily), not just tensors, and
      not pages swapped out.
    - CPU without ``/proc``: growth of ``ru_maxrss``, the process's high-water mark, which
      cannot be reset: it is 0 unless training rose above the process's earlier peak, so
      it is a lower bound.
    """

    def __init__(self, device: torch.device, interval: float = 0.05) -> None:
        self.device = torch.device(device)
        self.interval = interval
        self.mb: float | None = None
        self._start_bytes = 0
        self._peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> PeakMemory:
        """Reset the peak and, on CPU, begin sampling RSS."""
        self.mb = None
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            return self
        self._start_bytes = self._peak_bytes = _rss_bytes()
        if os.path.exists(_STATM):
            self._stop.clear()
            self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> float:
        """Stop sampling and return (and keep, as ``mb``) the peak in MiB."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.mb = torch.cuda.max_memory_allocated(self.device) / MB
            return self.mb
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self._peak_bytes = max(self._peak_bytes, _rss_bytes())
        self.mb = max(0, self._peak_bytes - self._start_bytes) / MB
        return self.mb

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._peak_bytes = max(self._peak_bytes, _rss_bytes())

    def __enter__(self) -> PeakMemory:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _rss_bytes() -> int:
    """Current RSS from /proc (Linux); elsewhere the peak RSS so far, the best available."""
    try:
        with open(_STATM) as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
