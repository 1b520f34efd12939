"""Batches at a point's resolution, the same way for every strategy.

The augmentation protocol belongs to the data config (``data.augment``):

- ``pad_crop`` (small images: CIFAR, shapes): the split is resized to the
  point's resolution, reflect-padded by 1/8 of the side, and each training
  image randomly cropped back to size and flipped; evaluation sees the whole
  resized image.
- ``random_resized_crop`` (ImageNet-like sets): each training image is a
  random crop of 8-100 % of its area and aspect 3/4-4/3, resized to the
  point's resolution, and flipped (timm's protocol); evaluation resizes to
  ``resolution / data.crop_pct`` and takes the centre crop.

In-memory splits (``ImageSet``) are held as one uint8 tensor on the training
device; a batch is a slice of a seeded permutation, augmented on the device.
Streamed splits apply the same protocol per sample in DataLoader workers
(:mod:`bench.data.stream`). Both normalise with the training split's own channel
statistics (:func:`channel_stats` of an evenly spaced subset of at most 512
training images). Either way an epoch's batches depend only on (seed,
epoch), so a resumed point continues mid-epoch with exactly the batches it
would have seen; under DDP every rank draws the same global batch and its
augmentation and keeps its own slice, so what a point sees does not depend
on the number of processes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from bench.cache import LRU
from bench.data.jpeg import RRC_RATIO, RRC_SCALE
from bench.data.splits import ImageSet
from bench.hardware.device import traits
from bench.hardware.distributed import Shard  # noqa: F401 - re-exported: its old place

_resized: LRU[torch.Tensor] = LRU(2)  # the split at a point's size, for the next point
RRC_LOG_RATIO = (math.log(RRC_RATIO[0]), math.log(RRC_RATIO[1]))


@dataclass(frozen=True)
class Preprocess:
    """How images reach the network, from the data config: the augmentation protocol
    (``data.augment``, ``data.crop_pct``) and the side the normalisation statistics are
    measured at (the baseline's ``data.resolution``, the same for every point)."""

    augment: str = "pad_crop"
    crop_pct: float = 0.875
    stats_size: int = 32

    @classmethod
    def of(cls, data: Any) -> Preprocess:
        """The preprocessing a validated data config asks for."""
        return cls(data.augment, data.crop_pct, data.resolution)


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
    if not traits(device).resize_on_device:
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


def _split_on_device(
    split: ImageSet, size: int, train: bool, preprocess: Preprocess, device: torch.device
) -> torch.Tensor:
    """The split as the protocol wants it on the device, kept for the next point at that size.

    pad_crop: resized to ``size``, training images reflect-padded by 1/8.
    random_resized_crop: training images as stored (crops are cut per batch);
    held-out images resized to ``size / crop_pct`` and centre-cropped.
    """
    pad = size // 8 if train and preprocess.augment == "pad_crop" else 0

    def make() -> torch.Tensor:
        if preprocess.augment == "random_resized_crop":
            if train:
                return split.images.to(device)
            larger = resize_uint8(split.images, round(size / preprocess.crop_pct), device)
            return centre_crop(larger, size)
        x = resize_uint8(split.images, size, device)
        if pad:  # in uint8 (CPU and CUDA kernels take it): far faster on CPU than through float
            x = F.pad(x, (pad,) * 4, mode="reflect")
        return x

    key = (id(split.images), split.images.data_ptr(), tuple(split.images.shape), size, train,
           preprocess, str(device))  # fmt: skip
    return _resized.get(key, make)


def centre_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    """The central ``size`` x ``size`` pixels of square images."""
    top = (images.shape[-1] - size) // 2
    return images[..., top : top + size, top : top + size].contiguous()


@dataclass(frozen=True)
class BatchSpec:
    """What a split's batches are, whatever the storage: the parameter object of
    :class:`DeviceBatches` and :class:`bench.data.stream.StreamBatches`."""

    resolution: int
    batch_size: int  # the global batch; under DDP each rank takes its ``shard``'s slice
    device: torch.device
    train: bool
    seed: int
    mean: tuple | None = None  # the training split's channel statistics, in [0, 1]; None:
    std: tuple | None = None  # bench.data.inputs fills them in (the one normalisation policy)
    preprocess: Preprocess = Preprocess()
    channels_last: bool = False
    shard: Shard = Shard()


class Batches:
    """What in-memory and streamed batches share: the batch, the seed, this rank's share,
    and the last step every batch takes on the device (normalise, memory format)."""

    def __init__(self, spec: BatchSpec) -> None:
        self.spec = spec
        self.resolution = int(spec.resolution)
        self.batch_size = int(spec.batch_size)
        self.device = spec.device
        self.train = spec.train
        self.seed = int(spec.seed)
        self.channels_last = spec.channels_last
        self.shard = spec.shard
        self.preprocess = spec.preprocess
        self.mean = torch.tensor(spec.mean, device=spec.device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(spec.std, device=spec.device).view(1, 3, 1, 1) * 255

    def __len__(self) -> int:
        """Batches per epoch (training drops the last partial batch)."""
        return self.n // self.batch_size if self.train else -(-self.n // self.batch_size)

    def finish(self, x: torch.Tensor) -> torch.Tensor:
        """uint8-valued pixels to the network's input: normalised, in the chosen memory format."""
        x = x.float().sub_(self.mean).div_(self.std)  # in place: one float copy
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def finish_hwc(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`finish` for a uint8 N x H x W x C batch: normalised along its contiguous last
        dimension, then viewed as NCHW, which is the channels-last layout (no copy)."""
        x = x.float().sub_(self.mean.view(3)).div_(self.std.view(3)).permute(0, 3, 1, 2)
        return x if self.channels_last else x.contiguous()


def pad_crop_flip(
    x: torch.Tensor, pad: int, seed: tuple, total: int, take: slice | torch.Tensor
) -> torch.Tensor:
    """Random crop back to size from images padded by ``pad``, and random horizontal flip.

    Draws are made for the global batch of ``total`` and ``take`` picks those of ``x`` (this
    rank's, the readable ones): they depend neither on the processes nor on the storage.
    """
    dev = x.device
    g = torch.Generator(device=dev).manual_seed(hash(seed) & 0x7FFF_FFFF)
    n, r = len(x), x.shape[-1] - 2 * pad
    span = 2 * pad + 1
    dy = torch.randint(0, span, (total,), device=dev, generator=g)[take]
    dx = torch.randint(0, span, (total,), device=dev, generator=g)[take]
    ar = torch.arange(r, device=dev)
    rows = (dy[:, None] + ar)[:, :, None]
    cols = (dx[:, None] + ar)[:, None, :]
    batch = torch.arange(n, device=dev)[:, None, None]
    x = x[batch, :, rows, cols].permute(0, 3, 1, 2)  # advanced indexing puts C last
    flip = torch.rand(total, device=dev, generator=g)[take] < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


class DeviceBatches(Batches):
    """An in-memory split as one device tensor; batches are slices, augmented on the device."""

    def __init__(self, split: ImageSet, spec: BatchSpec) -> None:
        super().__init__(spec)
        augment = self.preprocess.augment
        self.pad = self.resolution // 8 if self.train and augment == "pad_crop" else 0
        self.images = _split_on_device(split, self.resolution, self.train, self.preprocess,
                                       self.device)  # fmt: skip
        self.labels = split.labels.to(self.device)
        self.n = len(self.labels)

    def epoch(self, index: int, skip: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Batches of epoch ``index``, starting after ``skip`` batches."""
        if self.train:
            g = torch.Generator().manual_seed(self.seed * 100_003 + index)
            order = torch.randperm(self.n, generator=g).to(self.device)
        else:
            order = torch.arange(self.n, device=self.device)
        part = self.shard.take(self.batch_size)
        for b in range(skip, len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            if self.train:
                idx = idx[part]
            yield self._batch(idx, generator_seed=(self.seed, index, b), part=part)

    def _batch(
        self, idx: torch.Tensor, generator_seed: tuple, part: slice
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.images[idx]
        if self.train and self.preprocess.augment == "random_resized_crop":
            x = self._random_resized_crop(x, generator_seed, part)
        elif self.train:
            x = self._augment(x, generator_seed, part)
        return self.finish(x), self.labels[idx]

    def _augment(self, x: torch.Tensor, seed: tuple, part: slice) -> torch.Tensor:
        """Random crop back to size from the padded images, and random horizontal flip."""
        return pad_crop_flip(x, self.pad, seed, self.batch_size, part)

    def _random_resized_crop(self, x: torch.Tensor, seed: tuple, part: slice) -> torch.Tensor:
        """timm's random-resized crop and flip, for a whole batch at once on the device.

        Ten candidate boxes per image (area fraction and log-aspect uniform, as
        timm draws them); the first that fits is cut and resized by
        ``roi_align`` (bilinear, averaging over each output pixel's span);
        an image with none gets the whole image, as timm's fallback does.
        """
        from torchvision.ops import roi_align

        g = torch.Generator(device=self.device).manual_seed(hash(seed) & 0x7FFF_FFFF)
        total, side, dev = self.batch_size, x.shape[-1], self.device
        lo, hi = RRC_SCALE
        area = (torch.rand(total, 10, device=dev, generator=g) * (hi - lo) + lo) * side * side
        aspect = torch.exp(
            torch.rand(total, 10, device=dev, generator=g) * (RRC_LOG_RATIO[1] - RRC_LOG_RATIO[0])
            + RRC_LOG_RATIO[0]
        )
        w, h = (area * aspect).sqrt().round(), (area / aspect).sqrt().round()
        fits = (w <= side) & (h <= side)
        first = fits.float().argmax(dim=1)
        rows = torch.arange(total, device=dev)
        w = torch.where(fits.any(1), w[rows, first], side)
        h = torch.where(fits.any(1), h[rows, first], side)
        u, v = torch.rand(total, 2, device=dev, generator=g).unbind(1)
        x0, y0 = (u * (side - w + 1)).floor(), (v * (side - h + 1)).floor()
        flip = (torch.rand(total, device=dev, generator=g) < 0.5)[part]
        boxes = torch.stack([x0, y0, x0 + w, y0 + h], dim=1)[part]
        index = torch.arange(len(x), device=dev, dtype=boxes.dtype)[:, None]
        r = self.resolution
        out = roi_align(x.float(), torch.cat([index, boxes], 1), (r, r), 1.0, -1, aligned=True)
        return torch.where(flip[:, None, None, None], out.flip(3), out)
