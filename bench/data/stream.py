"""Batches of a split too big for memory, streamed from disk through DataLoader workers.

The augmentation protocol is the data config's (``data.augment``), the same
as for an in-memory split (:mod:`bench.data.batches`). ``pad_crop`` (CIFAR's):
workers decode and resize each image to the point's side, and the device
reflect-pads, crops and flips whole batches with the in-memory path's own
draws (:func:`~bench.data.batches.pad_crop_flip`), so per-sample work in the
workers is a decode. ``random_resized_crop`` (ImageNet's): each worker cuts
timm's random-resized crop and flips it (training) or resizes to
``resolution / data.crop_pct`` and centre-crops (evaluation), decoding
JPEGs only as large as the crop needs (:mod:`bench.data.jpeg`). Workers hand
back uint8 channels-last batches; normalisation runs on the device.

Unreadable files are skipped and counted, as the in-memory decode does: a
worker returns nothing for one, the batch is made of the readable samples,
and :attr:`StreamBatches.unreadable` holds every file index met so (the
counts of all workers, gathered in this process).

The workers persist across epochs. Every sample's random draws are seeded
from (seed, epoch, its position in the epoch), so an epoch's batches depend
only on (seed, epoch): whichever worker reads a sample, however many
processes share the batch, and whether the point resumed mid-epoch.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from bench.data.batches import Batches, BatchSpec, Preprocess, channel_stats, pad_crop_flip
from bench.data.jpeg import CentreCrop, RandomResizedCrop
from bench.data.splits import StreamSet
from bench.hardware.device import traits

STATS_IMAGES = 512  # training images the normalisation statistics are measured on


def stream_transform(resolution: int, train: bool, preprocess: Preprocess) -> Any:
    """The per-sample transform of the protocol, ending in a uint8 H x W x C tensor."""
    if preprocess.augment != "random_resized_crop":
        return CentreCrop(resolution, 1.0)  # the device pads, crops and flips
    return RandomResizedCrop(resolution) if train else CentreCrop(resolution, preprocess.crop_pct)


def stream_stats(split: StreamSet, resolution: int) -> tuple[tuple, tuple]:
    """Channel statistics of an evenly spaced subset of the training files, at ``resolution``."""
    dataset = copy.copy(split.dataset)
    dataset.transform = CentreCrop(resolution, 1.0)
    step = max(1, len(dataset) // STATS_IMAGES)
    read = [dataset[i] for i in range(0, len(dataset), step)]
    images = torch.stack([item[0] for item in read if item is not None])
    return channel_stats(images.permute(0, 3, 1, 2).contiguous())  # as in memory: NCHW


class _Seeded(Dataset):
    """Reads ``(index, seed)`` items: each sample's random draws come from its own seed."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: tuple[int, int]) -> tuple[int, Any]:
        index, seed = item
        random.seed(seed)  # every draw of the crop and the flip (torch's seeding costs more)
        return index, self.dataset[index]


def collate(items: list[tuple[int, Any]]) -> tuple[torch.Tensor, ...]:
    """(uint8 N x H x W x C images, labels, positions of the readable items in the batch,
    file indices of the unreadable ones)."""
    kept = [k for k, (_, sample) in enumerate(items) if sample is not None]
    bad = torch.tensor([i for i, sample in items if sample is None], dtype=torch.long)
    if not kept:
        none = torch.empty(0, dtype=torch.long)
        return torch.empty(0, dtype=torch.uint8), none, none, bad
    images, labels = default_collate([items[k][1] for k in kept])
    return images, labels, torch.tensor(kept, dtype=torch.long), bad


class _EpochItems(Sampler):
    """The items of the epoch being read; set before each pass over the persistent loader."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int]] = []

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class StreamBatches(Batches):
    """A split streamed from disk through persistent DataLoader workers."""

    def __init__(self, split: StreamSet, spec: BatchSpec) -> None:
        super().__init__(spec)
        dataset = copy.copy(split.dataset)
        dataset.transform = stream_transform(self.resolution, self.train, self.preprocess)
        self.n = len(dataset)
        self.pad = (
            self.resolution // 8 if self.train and self.preprocess.augment == "pad_crop" else 0
        )
        self.unreadable: set[int] = set()  # file indices found unreadable, by every worker
        self.sampler = _EpochItems()
        per = self.batch_size // self.shard.world if self.train else self.batch_size
        self.loader = DataLoader(
            _Seeded(dataset),
            batch_size=per,
            sampler=self.sampler,
            num_workers=split.workers,
            persistent_workers=split.workers > 0,
            pin_memory=traits(self.device).pin_memory,
            collate_fn=collate,
        )

    def items(self, index: int, skip: int) -> list[tuple[int, int]]:
        """This rank's (sample, seed) items of epoch ``index`` after ``skip`` batches."""
        base = self.seed * 100_003 + index
        if not self.train:
            return [(i, 0) for i in range(skip * self.batch_size, self.n)]
        order = torch.randperm(self.n, generator=torch.Generator().manual_seed(base))
        order = order[: len(self) * self.batch_size].view(len(self), self.batch_size)
        part = self.shard.take(self.batch_size)
        positions = torch.arange(order.numel()).view_as(order)
        order, positions = order[skip:, part].reshape(-1), positions[skip:, part].reshape(-1)
        return [
            (i, hash((base, p)) & 0x7FFF_FFFF)
            for i, p in zip(order.tolist(), positions.tolist(), strict=True)
        ]

    def epoch(self, index: int, skip: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches of epoch ``index``, starting after ``skip`` batches (readable images only)."""
        self.sampler.items = self.items(index, skip)
        fast = traits(self.device).non_blocking
        part = torch.arange(self.batch_size)[self.shard.take(self.batch_size)]
        for b, (x, y, kept, bad) in enumerate(self.loader, start=skip):
            self.unreadable.update(bad.tolist())
            if not len(y):
                continue
            x, y = x.to(self.device, non_blocking=fast), y.to(self.device, non_blocking=fast)
            if not self.pad:
                yield self.finish_hwc(x), y
                continue
            x = F.pad(x.permute(0, 3, 1, 2), (self.pad,) * 4, mode="reflect")
            x = pad_crop_flip(x, self.pad, (self.seed, index, b), self.batch_size, part[kept])
            yield self.finish(x), y
