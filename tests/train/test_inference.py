"""bench.train.inference: latency / throughput timing and peak training memory."""

from __future__ import annotations

import math
import os
import time

import pytest
import torch
from torch import nn

from bench.train import inference
from bench.train.inference import (
    LATENCY,
    LATENCY_SHARE,
    THROUGHPUT,
    PeakMemory,
    Workload,
    measure_inference,
)

CPU = torch.device("cpu")
MB = 2**20
HAS_PROC = os.path.exists("/proc/self/statm")


def net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 10),
    )


class Clock:
    """A simulated clock: it moves only when a forward pass says it took time."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Every timing of bench.train.inference reads this clock instead of the wall's."""
    simulated = Clock()
    monkeypatch.setattr(inference, "clock", simulated)
    return simulated


class Sleepy(nn.Module):
    """A forward pass of known cost on the simulated clock: 3 ms at batch 1, 10 ms at batch 8."""

    def __init__(self, clock: Clock, base: float = 0.002, per_image: float = 0.001) -> None:
        super().__init__()
        self.clock, self.base, self.per_image = clock, base, per_image

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.clock.now += self.base + self.per_image * x.shape[0]
        return x


class Probe(nn.Module):
    """Records the context each forward pass ran in."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.seen: list[tuple] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fail:
            raise RuntimeError("boom")
        self.seen.append(
            (
                tuple(x.shape),
                x.is_contiguous(memory_format=torch.channels_last),
                torch.is_inference_mode_enabled(),
                torch.is_autocast_enabled("cpu"),
                self.training,
            )
        )
        return x


def test_small_model_gives_positive_finite_numbers():
    out = measure_inference(net(), CPU, Workload(16, 8), budget_seconds=0.2)
    assert math.isfinite(out["latency_ms"]) and out["latency_ms"] > 0
    assert math.isfinite(out["inference_images_per_sec"]) and out["inference_images_per_sec"] > 0
    assert out["latency_runs"] >= LATENCY.min_runs
    assert out["throughput_runs"] >= THROUGHPUT.min_runs


def test_numbers_match_a_forward_of_known_cost(clock):
    out = measure_inference(Sleepy(clock), CPU, Workload(4, 8), budget_seconds=0.3)
    assert out["latency_ms"] == pytest.approx(3.0)
    assert out["inference_images_per_sec"] == pytest.approx(8 / 0.010)


def test_time_spent_follows_the_budget(clock):
    out = measure_inference(Sleepy(clock), CPU, Workload(4, 8), budget_seconds=0.3)
    # the last pass that fits ends within one pass (10 ms) of the budget
    assert 0.3 - 0.010 <= out["seconds"] <= 0.3
    latency_passes = LATENCY.warmup + out["latency_runs"]  # 3 ms each, in 20 % of the budget
    assert latency_passes == int(0.3 * LATENCY_SHARE / 0.003 + 1e-9)
    assert out["throughput_runs"] > THROUGHPUT.min_runs + 1


def test_passes_longer_than_the_budget_get_the_minimum_runs(clock):
    slow = Sleepy(clock, base=0.002, per_image=0.002)  # 4 ms at batch 1, 66 ms at batch 32
    out = measure_inference(slow, CPU, Workload(4, 32), budget_seconds=0.05)
    assert out["latency_runs"] == LATENCY.min_runs
    assert out["throughput_runs"] == THROUGHPUT.min_runs
    minimum = (LATENCY.warmup + LATENCY.min_runs) * 0.004
    expected = minimum + (THROUGHPUT.warmup + THROUGHPUT.min_runs) * 0.066
    assert out["seconds"] == pytest.approx(expected)


def test_minimum_runs_yield_to_the_cap(clock):
    out = measure_inference(Sleepy(clock, base=0.03), CPU, Workload(4, 2), budget_seconds=0.02)
    assert out["latency_runs"] == 1  # the warm-up alone outlasted 4 budgets
    assert out["throughput_runs"] == 1


def test_inputs_and_context():
    probe = Probe()
    measure_inference(
        probe, CPU, Workload(12, 5, channels_last=True, amp=True), budget_seconds=0.01
    )
    shapes = {seen[0] for seen in probe.seen}
    assert shapes == {(1, 3, 12, 12), (5, 3, 12, 12)}
    assert all(seen[1:] == (True, True, True, False) for seen in probe.seen)
    probe = Probe()
    measure_inference(probe, CPU, Workload(12, 5), budget_seconds=0.0)
    assert not any(seen[1] or seen[3] for seen in probe.seen)


@pytest.mark.parametrize("fail", [False, True])
def test_each_module_mode_is_restored(fail: bool):
    model = nn.Sequential(net(), Probe(fail))
    model.train()
    model[0][1].eval()  # a frozen batch norm inside a training model
    before = [m.training for m in model.modules()]
    if fail:
        with pytest.raises(RuntimeError, match="boom"):
            measure_inference(model, CPU, Workload(8, 2), budget_seconds=0.0)
    else:
        measure_inference(model, CPU, Workload(8, 2), budget_seconds=0.0)
    assert [m.training for m in model.modules()] == before
    evaluated = nn.Sequential(net(), Probe()).eval()
    measure_inference(evaluated, CPU, Workload(8, 2), budget_seconds=0.0)
    assert not any(m.training for m in evaluated.modules())


def test_peak_memory_sees_a_large_tensor():
    with PeakMemory(CPU) as peak:
        held = torch.ones(50 * MB)  # 200 MiB, every page written
        time.sleep(0.1)
    assert held.sum() > 0
    assert peak.mb >= 100


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc to sample current RSS")
def test_peak_memory_catches_a_spike_freed_before_stop():
    with PeakMemory(CPU) as peak:
        spike = torch.ones(50 * MB)
        time.sleep(0.3)
        del spike
    assert peak.mb >= 100
    with PeakMemory(CPU, interval=60.0) as missed:  # the documented limit: no sample in time
        spike = torch.ones(50 * MB)
        del spike
    assert missed.mb < 50


def test_peak_memory_is_about_zero_when_nothing_is_allocated():
    with PeakMemory(CPU) as peak:
        time.sleep(0.2)
    assert 0 <= peak.mb < 20


def test_without_proc_the_high_water_mark_is_used(monkeypatch):
    monkeypatch.setattr(inference, "_STATM", "/nonexistent/statm")
    with PeakMemory(CPU) as idle:
        time.sleep(0.05)
    assert idle.mb == 0  # nothing rose above the process's earlier peak
    headroom = inference._rss_bytes() - current_rss()  # peak so far minus what is resident now
    with PeakMemory(CPU) as peak:
        held = torch.ones((headroom + 200 * MB) // 4)
    assert held.sum() > 0
    assert peak.mb >= 100


def current_rss() -> int:
    if not HAS_PROC:
        return 0
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda():
    device = torch.device("cuda")
    model = net().to(device).to(memory_format=torch.channels_last).train()
    workload = Workload(32, 64, channels_last=True, amp=True)
    out = measure_inference(model, device, workload, budget_seconds=0.2)
    assert out["latency_ms"] > 0 and math.isfinite(out["inference_images_per_sec"])
    assert out["latency_runs"] >= 1 and model.training
    with PeakMemory(device) as peak:
        held = torch.ones(64 * MB, device=device)  # 256 MiB
    del held
    assert peak.mb >= 256
    with PeakMemory(device) as idle:
        torch.ones(1, device=device)
    assert idle.mb < 256  # the earlier peak was reset
