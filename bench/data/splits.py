"""What a loaded dataset is: its splits, in memory or streamed, and what a run records of it.

Its own module so that the loaders, which build these, and the package, which lists the
loaders, import it from below rather than each other; it loads no torch, so neither does
checking a config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the splits hold tensors; describing them needs no torch
    import torch


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

    ``dataset`` is ImageFolder-like: ``dataset[i]`` is (transformed image, int
    label), or None for an unreadable file; the caller sets ``dataset.transform``
    (it receives the opened, not yet decoded, PIL image).
    """

    dataset: Any
    workers: int = 2  # DataLoader processes that read it

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
    identity: dict[str, Any]  # what decides the images: part of a point's training key
    val: ImageSet | None = None  # held out of train by data.val_fraction (bench.data.validation)
