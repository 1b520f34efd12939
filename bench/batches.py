"""Batches at a point's resolution, the same way for every strategy.

In-memory splits (``ImageSet``) are resized once to the point's resolution
(antialiased bilinear) and held as one uint8 tensor on the training device,
reflect-padded by 1/8 of the side; a training batch is a slice of a seeded
permutation, randomly cropped back to size and randomly flipped on the
device, then normalised. Streamed splits (``StreamSet``) get the same
resize, pad-crop and flip as per-sample transforms in DataLoader workers,
with pinned memory and non-blocking copies. Either way an epoch's order
depends only on (seed, epoch), so a resumed point continues mid-epoch with
exactly the batches it would have seen.

Under DDP every rank draws the same global batch and keeps its own slice,
so the samples a point sees do not depend on the number of processes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from bench.cache import LRU
from bench.data import Data, ImageSet, StreamSet

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_resized: LRU[torch.Tensor] = LRU(2)  # the split at a point's size, for the next point


@dataclass(frozen=True)
class Shard:
    """This process's share of every global batch (rank r of world)."""

    rank: int = 0
    world: int = 1

    def take(self, global_batch: int) -> slice:
        """The slice of a global batch that belongs to this rank."""
        per = global_batch // self.world
        return slice(self.rank * per, (self.rank + 1) * per)


def channel_stats(images: torch.Tensor, max_images: int = 512) -> tuple[tuple, tuple]:
    """Per-channel mean and std of uint8 images in [0, 1], from an evenly spaced subset."""
    step = max(1, len(images) // max_images)
    x = images[::step].float().div_(255)
    mean = x.mean(dim=(0, 2, 3))
    std = x.std(dim=(0, 2, 3)).clamp_min(1e-3)
    return tuple(mean.tolist()), tuple(std.tolist())


def resize_uint8(
    images: torch.Tensor, size: int, device: torch.device, chunk: int = 2048
) -> torch.Tensor:
    """Antialiased bilinear resize of uint8 NCHW images to ``size`` px, on ``device``."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images.to(device)
    if device.type == "cpu":
        return _resize_uint8_cpu(images.contiguous(), size)
    out = torch.empty((len(images), 3, size, size), dtype=torch.uint8, device=device)
    for i in range(0, len(images), chunk):
        x = images[i : i + chunk].to(device, non_blocking=True).float()
        y = F.interpolate(
            x, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
        out[i : i + chunk] = y.round_().clamp_(0, 255).to(torch.uint8)
    return out


def _resize_uint8_cpu(images: torch.Tensor, size: int) -> torch.Tensor:
    """torch's uint8 antialiased kernel (far faster than via float), one chunk per CPU thread.

    The kernel runs on one thread however many torch has, so the split is
    done here; images are independent, so the result is the same bytes.
    """
    threads = min(torch.get_num_threads(), max(1, len(images) // 256))
    if threads == 1:
        return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True)
    out = torch.empty((len(images), images.shape[1], size, size), dtype=torch.uint8)

    def resize(part: slice) -> None:
        out[part] = F.interpolate(images[part], size=(size, size), mode="bilinear", antialias=True)

    per = -(-len(images) // threads)
    parts = [slice(i, i + per) for i in range(0, len(images), per)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(resize, parts))
    return out


def _padded_on_device(split: ImageSet, size: int, pad: int, device: torch.device) -> torch.Tensor:
    """The split at ``size`` px, reflect-padded by ``pad``, kept for the next point at that size."""

    def make() -> torch.Tensor:
        x = resize_uint8(split.images, size, device)
        if pad:  # in uint8 (CPU and CUDA kernels take it): far faster on CPU than through float
            x = F.pad(x, (pad,) * 4, mode="reflect")
        return x

    return _resized.get((id(split.images), split.images.data_ptr(), size, pad, str(device)), make)


def preprocessing(data: Data) -> dict[str, Any]:
    """How a dataset's images reach the network: part of what a point learns from."""
    if isinstance(data.train, ImageSet):
        return {
            "storage": "memory",
            "normalize": "train-split channel statistics",
            "augment": "pad_crop",
        }
    return {"storage": "stream", "normalize": "imagenet statistics", "augment": "pad_crop"}


def make_batches(
    data: Data,
    resolution: int,
    batch_sizes: tuple[int, int],
    device: torch.device,
    seed: int,
    shard: Shard,
    channels_last: bool,
) -> tuple[DeviceBatches | StreamBatches, DeviceBatches | StreamBatches]:
    """Training and held-out batches at ``resolution``: from memory, or streamed from disk."""
    batch, eval_batch = batch_sizes
    if isinstance(data.train, ImageSet):
        mean, std = channel_stats(data.train.images)
        common = {"device": device, "mean": mean, "std": std, "channels_last": channels_last}
        train = DeviceBatches(
            data.train, resolution, batch, train=True, seed=seed, shard=shard, **common
        )
        test = DeviceBatches(data.test, resolution, eval_batch, train=False, seed=seed, **common)
        return train, test
    common = {"device": device, "workers": data.train.workers, "channels_last": channels_last}
    train = StreamBatches(
        data.train, resolution, batch, train=True, seed=seed, shard=shard, **common
    )
    test = StreamBatches(data.test, resolution, eval_batch, train=False, seed=seed, **common)
    return train, test


class DeviceBatches:
    """An in-memory split as one device tensor; batches are slices, augmented on the device."""

    def __init__(
        self,
        split: ImageSet,
        resolution: int,
        batch_size: int,
        device: torch.device,
        train: bool,
        seed: int,
        mean: tuple,
        std: tuple,
        channels_last: bool = False,
        shard: Shard = Shard(),
    ) -> None:
        self.resolution = int(resolution)
        self.pad = self.resolution // 8 if train else 0
        self.images = _padded_on_device(split, self.resolution, self.pad, device)
        self.labels = split.labels.to(device)
        self.batch_size = int(batch_size)
        self.device = device
        self.train = train
        self.seed = int(seed)
        self.channels_last = channels_last
        self.shard = shard
        self.mean = torch.tensor(mean, device=device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(std, device=device).view(1, 3, 1, 1) * 255
        self.n = len(self.labels)

    def __len__(self) -> int:
        """Batches per epoch (training drops the last partial batch)."""
        return self.n // self.batch_size if self.train else -(-self.n // self.batch_size)

    def epoch(self, index: int, skip: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches of epoch ``index``, starting after ``skip`` batches."""
        if self.train:
            g = torch.Generator().manual_seed(self.seed * 100_003 + index)
            order = torch.randperm(self.n, generator=g).to(self.device)
        else:
            order = torch.arange(self.n, device=self.device)
        for b in range(skip, len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            if self.train:
                idx = idx[self.shard.take(self.batch_size)]
            yield self._batch(idx, generator_seed=(self.seed, index, b))

    def _batch(self, idx: torch.Tensor, generator_seed: tuple) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.images[idx]
        if self.train:
            x = self._augment(x, generator_seed)
        x = (x.float() - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, self.labels[idx]

    def _augment(self, x: torch.Tensor, seed: tuple) -> torch.Tensor:
        """Random crop back to size from the padded images, and random horizontal flip."""
        g = torch.Generator(device=self.device).manual_seed(hash(seed) & 0x7FFF_FFFF)
        n, r = len(x), self.resolution
        dy = torch.randint(0, 2 * self.pad + 1, (n,), device=self.device, generator=g)
        dx = torch.randint(0, 2 * self.pad + 1, (n,), device=self.device, generator=g)
        ar = torch.arange(r, device=self.device)
        rows = (dy[:, None] + ar)[:, :, None]
        cols = (dx[:, None] + ar)[:, None, :]
        batch = torch.arange(n, device=self.device)[:, None, None]
        x = x[batch, :, rows, cols].permute(0, 3, 1, 2)  # advanced indexing puts C last
        flip = torch.rand(n, device=self.device, generator=g) < 0.5
        return torch.where(flip[:, None, None, None], x.flip(3), x)


class StreamBatches:
    """A split streamed from disk through DataLoader workers, with the same augmentation."""

    def __init__(
        self,
        split: StreamSet,
        resolution: int,
        batch_size: int,
        device: torch.device,
        train: bool,
        seed: int,
        workers: int,
        channels_last: bool = False,
        shard: Shard = Shard(),
    ) -> None:
        from torchvision import transforms as T

        r = int(resolution)
        steps = [T.Resize(r, antialias=True), T.CenterCrop(r)]
        if train:
            steps += [T.RandomCrop(r, padding=r // 8, padding_mode="reflect")]
            steps += [T.RandomHorizontalFlip()]
        self.dataset = copy.copy(split.dataset)
        self.dataset.transform = T.Compose([*steps, T.PILToTensor()])
        self.resolution = r
        self.batch_size = int(batch_size)
        self.device = device
        self.train = train
        self.seed = int(seed)
        self.workers = int(workers)
        self.channels_last = channels_last
        self.shard = shard
        self.mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1) * 255
        self.n = len(self.dataset)

    def __len__(self) -> int:
        """Batches per epoch (training drops the last partial batch)."""
        return self.n // self.batch_size if self.train else -(-self.n // self.batch_size)

    def epoch(self, index: int, skip: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches of epoch ``index``, starting after ``skip`` batches."""
        if self.train:
            torch.manual_seed(self.seed * 100_003 + index)  # per-sample augmentation draws
            g = torch.Generator().manual_seed(self.seed * 100_003 + index)
            order = torch.randperm(self.n, generator=g)[: len(self) * self.batch_size]
            per = self.batch_size // self.shard.world
            order = order.view(len(self), self.batch_size)[:, self.shard.take(self.batch_size)]
        else:
            per = self.batch_size
            order = torch.arange(self.n)
        indices = order.reshape(-1)[skip * per :].tolist()
        loader = DataLoader(
            self.dataset,
            batch_size=per,
            sampler=indices,
            num_workers=self.workers,
            pin_memory=self.device.type == "cuda",
            drop_last=False,
        )
        for x, y in loader:
            x = x.to(self.device, non_blocking=True)
            y = y.to(self.device, non_blocking=True)
            x = (x.float() - self.mean) / self.std
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            yield x, y
