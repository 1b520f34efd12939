"""How a dataset's images reach the network: normalisation, augmentation, storage, batches.

:func:`make_batches` is the one entry: it picks in-memory batches
(:mod:`bench.data.batches`) or streamed ones (:mod:`bench.data.stream`) by where the
data lives, with the data config's protocol (:class:`~bench.data.batches.Preprocess`)
and the one normalisation policy (:func:`normalisation`): every dataset is
normalised with its own training split's channel statistics.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from bench.cache import LRU
from bench.data import Data, ImageSet
from bench.data.batches import BatchSpec, DeviceBatches, Preprocess, Shard, channel_stats
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


def make_batches(
    data: Data,
    resolution: int,
    batch_sizes: tuple[int, int],
    device: torch.device,
    seed: int,
    shard: Shard,
    channels_last: bool,
    preprocess: Preprocess = Preprocess(),
) -> tuple[Any, Any]:
    """Training and held-out batches at ``resolution``: from memory, or streamed from disk."""
    batch, eval_batch = batch_sizes
    mean, std = normalisation(data, preprocess)
    spec = BatchSpec(resolution, batch, device, True, seed, mean, std, preprocess,
                     channels_last, shard)  # fmt: skip
    kind = DeviceBatches if isinstance(data.train, ImageSet) else StreamBatches
    train = kind(data.train, spec)
    test = kind(data.test, replace(spec, batch_size=eval_batch, train=False, shard=Shard()))
    return train, test


def held_out_batches(
    data: Data,
    resolution: int,
    eval_batch: int,
    device: torch.device,
    channels_last: bool,
    preprocess: Preprocess = Preprocess(),
    split: ImageSet | None = None,
) -> Any:
    """Held-out batches alone at ``resolution``: of the test split (testing a trained point at
    another side), or of ``split`` (the validation split)."""
    mean, std = normalisation(data, preprocess)
    split = data.test if split is None else split
    kind = DeviceBatches if isinstance(split, ImageSet) else StreamBatches
    spec = BatchSpec(resolution, eval_batch, device, False, 0, mean, std, preprocess, channels_last)
    return kind(split, spec)
