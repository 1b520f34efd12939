"""How a dataset's images reach the network: normalisation, augmentation, storage, batches.

:func:`make_batches` is the one entry: it picks in-memory batches
(:mod:`bench.data.batches`) or streamed ones (:mod:`bench.data.stream`) by where the
data lives, with the data config's protocol (:class:`~bench.data.batches.Preprocess`)
and the one normalisation policy (:func:`normalisation`): every dataset is
normalised with its own training split's channel statistics.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch

from bench.cache import LRU
from bench.data.batches import BatchSpec, DeviceBatches, Preprocess, Shard, channel_stats
from bench.data.splits import Data, ImageSet
from bench.data.stream import StreamBatches, stream_stats

_stats: LRU[tuple[tuple, tuple]] = LRU(4)  # normalisation statistics, by data identity


def preprocessing(data: Data, preprocess: Preprocess) -> dict[str, Any]:
    """How a dataset's images reach the network: part of what a point learns from."""
    storage = "memory" if isinstance(data.train, ImageSet) else "stream"
    out = {"storage": storage, "normalize": "train-split channel statistics"}
    out["augment"] = preprocess.augment
    if preprocess.augment == "random_resized_crop":
        out["crop_pct"] = preprocess.crop_pct
    return out


def normalisation(data: Data, preprocess: Preprocess) -> tuple[tuple, tuple]:
    """The training split's channel mean and std (the one policy for every storage)."""

    def measure() -> tuple[tuple, tuple]:
        if isinstance(data.train, ImageSet):
            return channel_stats(data.train.images)
        return stream_stats(data.train, preprocess.stats_size)

    return _stats.get(repr(sorted(data.identity.items())), measure)


def make_batches(data: Data, spec: BatchSpec, eval_batch: int) -> tuple[Any, Any]:
    """Training batches as ``spec`` says and held-out ones of ``eval_batch`` images (whole,
    in order, on every rank): from memory, or streamed from disk."""
    spec = normalised(data, replace(spec, train=True))
    test = held_out_batches(data, replace(spec, batch_size=eval_batch))
    return _kind(data.train)(data.train, spec), test


def held_out_batches(data: Data, spec: BatchSpec, split: ImageSet | None = None) -> Any:
    """Held-out batches alone, as ``spec`` says: of the test split (also testing a trained
    point at another side), or of ``split`` (the validation split)."""
    split = data.test if split is None else split
    spec = normalised(data, replace(spec, train=False, seed=0, shard=Shard()))
    return _kind(split)(split, spec)


@dataclass(frozen=True)
class FirstImages:
    """The first ``limit`` images of held-out batches, in order (all of them when ``limit`` is
    None): what a learning curve evaluates each time, so that watching a point costs a fixed
    share of its training whatever the size of the test split (``eval.curve_images``)."""

    batches: Any
    limit: int | None

    @property
    def device(self) -> torch.device:
        return self.batches.device

    def epoch(self, index: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        seen = 0
        for x, y in self.batches.epoch(index):
            if self.limit is not None and seen >= self.limit:
                return
            take = len(y) if self.limit is None else min(len(y), self.limit - seen)
            seen += take
            yield x[:take], y[:take]


def normalised(data: Data, spec: BatchSpec) -> BatchSpec:
    """``spec`` with the training split's channel statistics where it has none."""
    if spec.mean is not None and spec.std is not None:
        return spec
    mean, std = normalisation(data, spec.preprocess)
    return replace(spec, mean=mean, std=std)


def _kind(split: ImageSet | Any) -> type:
    return DeviceBatches if isinstance(split, ImageSet) else StreamBatches
