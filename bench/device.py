"""Which device a point trains on, and what it records about it.

``device=auto`` picks CUDA when there is one; anything else must exist on
this machine, which is checked before any job starts.
"""

from __future__ import annotations

import platform
from typing import Any

import torch

from bench.errors import UserError


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
