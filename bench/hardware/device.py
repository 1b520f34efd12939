"""Which device a point trains on, what that device does differently, and what it records.

``device=auto`` picks CUDA when there is one; anything else must exist on
this machine, which is checked before any job starts. Everything that only
CUDA does (cuDNN autotuning, pinned memory and non-blocking copies, resizing
on the device, NCCL, waiting for queued kernels before reading a clock, bf16
and compilation by default) follows from one check, :func:`traits`, so the
CPU branch and the CUDA branch are each one place a test can cover.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Any

import torch

from bench.errors import UserError


@dataclass(frozen=True)
class Traits:
    """What a device does differently; every CUDA-only choice in scalebench reads one of these."""

    cuda: bool
    cudnn_benchmark: bool  # let cuDNN pick the fastest kernels for fixed input shapes
    pin_memory: bool  # page-locked host buffers for the DataLoader, so copies can overlap
    non_blocking: bool  # host-to-device copies that do not wait
    resize_on_device: bool  # resize a split on the device (CPU: torch's uint8 kernel)
    dist_backend: str  # nccl on GPUs, gloo on CPUs
    bf16_by_default: bool  # train.amp=auto
    compile_by_default: bool  # train.compile=auto (with enough steps)


def traits(device: torch.device) -> Traits:
    """The one device check."""
    cuda = device.type == "cuda"
    return Traits(
        cuda=cuda,
        cudnn_benchmark=cuda,
        pin_memory=cuda,
        non_blocking=cuda,
        resize_on_device=cuda,
        dist_backend="nccl" if cuda else "gloo",
        bf16_by_default=cuda,
        compile_by_default=cuda,
    )


def prepare(device: torch.device) -> None:
    """Set up the process for training on ``device`` (cuDNN autotuning on CUDA)."""
    if traits(device).cudnn_benchmark:
        torch.backends.cudnn.benchmark = True
    if traits(device).cuda and device.index is not None:
        torch.cuda.set_device(device)


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so that a clock read after it means something."""
    if traits(device).cuda:
        torch.cuda.synchronize(device)


def resolve_device(spec: str) -> torch.device:
    """``auto`` picks CUDA when present; ``cuda`` / ``cuda:N`` must exist here."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(
                f"device={spec} but no CUDA device is available; use device=auto or cpu"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(
                f"device={spec} but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    return device


def device_info(device: torch.device, world_size: int) -> dict[str, Any]:
    """What result.json says about the hardware: type, name, processes, CPU threads."""
    info: dict[str, Any] = {"type": device.type, "world_size": world_size}
    if device.type == "cuda":
        info["name"] = torch.cuda.get_device_name(device)
    else:
        info["name"] = platform.processor() or platform.machine()
        info["threads"] = torch.get_num_threads()
    return info
