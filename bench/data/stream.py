"""Batches of a split too big for memory, streamed from disk through DataLoader workers.

The augmentation protocol is the data config's (``data.augment``), the same
as for an in-memory split (:mod:`bench.data.batches`): ``pad_crop`` (CIFAR's:
resize, reflect-pad 1/8, random crop, flip; evaluation sees the whole
resized image) or ``random_resized_crop`` (ImageNet's, built by timm's
transform factory: random-resized crop and flip for training; resize to
``resolution / data.crop_pct`` and centre crop for evaluation). Workers hand
back uint8 tensors; normalisation runs on the device.

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
from torch.utils.data import DataLoader, Dataset, Sampler

from bench.data import StreamSet
from bench.data.batches import Batches, Preprocess, Shard, channel_stats
from bench.hardware.device import traits

STATS_IMAGES = 512  # training images the normalisation statistics are measured on


def stream_transform(resolution: int, train: bool, preprocess: Preprocess) -> Any:
    """The per-sample transform of the protocol, ending in a uint8 CHW tensor."""
    from timm.data import create_transform
    from torchvision import transforms as T

    r = int(resolution)
    if preprocess.augment == "random_resized_crop":
        if train:
            return create_transform(
                r, is_training=True, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), hflip=0.5,
                color_jitter=0.0, interpolation="bilinear", use_prefetcher=True,
            )  # fmt: skip
        return create_transform(
            r, is_training=False, crop_pct=preprocess.crop_pct, interpolation="bilinear",
            use_prefetcher=True,
        )  # fmt: skip
    steps = [T.Resize(r, antialias=True), T.CenterCrop(r)]
    if train:
        steps += [T.RandomCrop(r, padding=r // 8, padding_mode="reflect"), T.RandomHorizontalFlip()]
    return T.Compose([*steps, T.PILToTensor()])


def stream_stats(split: StreamSet, resolution: int) -> tuple[tuple, tuple]:
    """Channel statistics of an evenly spaced subset of the training files, at ``resolution``."""
    from torchvision import transforms as T

    dataset = copy.copy(split.dataset)
    size = int(resolution)
    dataset.transform = T.Compose(
        [T.Resize(size, antialias=True), T.CenterCrop(size), T.PILToTensor()]
    )
    step = max(1, len(dataset) // STATS_IMAGES)
    images = torch.stack([dataset[i][0] for i in range(0, len(dataset), step)])
    return channel_stats(images)


class _Seeded(Dataset):
    """Reads ``(index, seed)`` items: each sample's random draws come from its own seed."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: tuple[int, int]) -> Any:
        index, seed = item
        random.seed(seed)  # timm's crops draw from random, torchvision's from torch
        torch.manual_seed(seed)
        return self.dataset[index]


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

    def __init__(
        self,
        split: StreamSet,
        resolution: int,
        batch_size: int,
        device: torch.device,
        train: bool,
        seed: int,
        mean: tuple,
        std: tuple,
        preprocess: Preprocess,
        channels_last: bool = False,
        shard: Shard = Shard(),
    ) -> None:
        super().__init__(batch_size, device, train, seed, mean, std, channels_last, shard)
        dataset = copy.copy(split.dataset)
        dataset.transform = stream_transform(resolution, train, preprocess)
        self.n = len(dataset)
        self.sampler = _EpochItems()
        per = self.batch_size // shard.world if train else self.batch_size
        self.loader = DataLoader(
            _Seeded(dataset),
            batch_size=per,
            sampler=self.sampler,
            num_workers=split.workers,
            persistent_workers=split.workers > 0,
            pin_memory=traits(device).pin_memory,
        )

    def __len__(self) -> int:
        """Batches per epoch (training drops the last partial batch)."""
        return self.n // self.batch_size if self.train else -(-self.n // self.batch_size)

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
        """Batches of epoch ``index``, starting after ``skip`` batches."""
        self.sampler.items = self.items(index, skip)
        fast = traits(self.device).non_blocking
        for x, y in self.loader:
            x = x.to(self.device, non_blocking=fast)
            yield self.finish(x), y.to(self.device, non_blocking=fast)
