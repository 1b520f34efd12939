"""Datasets: the embedded ``shapes`` task, CIFAR-10/100 and any class-folder tree.

Every loader turns a ``data`` config into one :class:`Data`: splits held in
memory as one uint8 tensor (:class:`ImageSet`, what the trainer slices into
batches on the device) or, when a split is too big for memory, streamed from
disk (:class:`StreamSet`). Loaders return images at their stored size; the
trainer resizes and augments them for each point's resolution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from bench.errors import UserError


@dataclass
class ImageSet:
    """A split held in memory: uint8 images [N, 3, S, S] (contiguous, CPU), int64 labels [N]."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class StreamSet:
    """A split streamed from disk.

    ``dataset`` is ImageFolder-like: ``dataset[i]`` is (PIL RGB image, int
    label), unreadable files are replaced by a readable sample, and the caller
    sets ``dataset.transform``.
    """

    dataset: Any

    def __len__(self) -> int:
        return len(self.dataset)


@dataclass
class Data:
    """Both splits of a dataset and what the run records about it."""

    train: ImageSet | StreamSet
    test: ImageSet | StreamSet
    num_classes: int
    classes: list[str]
    skipped: int  # unreadable image files skipped at decode time
    description: str  # one line, for logs and result.json


# The loaders import the dataclasses above, so they are imported after them.
from bench.data import cifar, imagefolder, shapes  # noqa: E402

LOADERS: dict[str, Callable[[Mapping[str, Any]], Data]] = {
    "shapes": shapes.load,
    "cifar10": cifar.load_cifar10,
    "cifar100": cifar.load_cifar100,
    "imagefolder": imagefolder.load,
}


def load_data(data_cfg: Mapping[str, Any]) -> Data:
    """Load the dataset a ``data`` config describes, dispatching on ``data.kind``."""
    kind = data_cfg.get("kind")
    if kind not in LOADERS:
        raise UserError(f"data.kind={kind!r} is not one of: {', '.join(LOADERS)}")
    return LOADERS[kind](data_cfg)


def num_classes(data: Mapping[str, Any]) -> int:
    """Number of classes a data config describes, counting class folders when not given."""
    if data.get("num_classes"):
        return int(data["num_classes"])
    if data.get("kind") == "imagefolder":
        train, _ = imagefolder.split_dirs(data)
        return len(imagefolder.class_folders(train))
    raise UserError(f"data.num_classes is not set for data={data.get('name')!r}")
