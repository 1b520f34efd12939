"""Datasets: the embedded ``shapes`` task, CIFAR-10/100 and any class-folder tree."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.errors import UserError


def num_classes(data: Mapping[str, Any]) -> int:
    """Number of classes a data config describes, counting class folders when not given."""
    if data.get("num_classes"):
        return int(data["num_classes"])
    if data.get("kind") == "imagefolder":
        from bench.data.imagefolder import split_dirs

        train, _ = split_dirs(data)
        return sum(1 for p in Path(train).iterdir() if p.is_dir())
    raise UserError(f"data.num_classes is not set for data={data.get('name')!r}")
