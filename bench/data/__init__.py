"""Datasets: the embedded ``shapes`` task, CIFAR-10/100 and any class-folder tree.

Every loader turns a ``data`` config into one :class:`Data`: splits held in
memory as one uint8 tensor (:class:`ImageSet`, what the trainer slices into
batches on the device) or, when a split is too big for memory, streamed from
disk (:class:`StreamSet`). Loaders return images at their stored size; the
trainer resizes and augments them for each point's resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.config.checks import import_path
from bench.data.kinds import KINDS, ImageFolderConfig
from bench.data.splits import Data, ImageSet, StreamSet
from bench.errors import UserError
from bench.schema import DataConfig

__all__ = [
    "KINDS",
    "Data",
    "ImageSet",
    "StreamSet",
    "check_data",
    "data_schema",
    "load_data",
    "num_classes",
]


def data_schema(node: Mapping[str, Any]) -> type[DataConfig]:
    """The config class of the dataset kind a data node names (``data.kind``)."""
    kind = node.get("kind")
    if kind not in KINDS:
        raise UserError(f"data.kind={kind!r} must be one of {', '.join(KINDS)}")
    return KINDS[kind][0]


def check_data(data: DataConfig) -> None:
    """Cheap checks that a data set's files are there (a sweep makes them before any job):
    a class-folder tree must exist and hold images; other kinds are checked when loaded."""
    if isinstance(data, ImageFolderConfig):
        from bench.data import imagefolder

        imagefolder.check(data)


def load_data(data: DataConfig) -> Data:
    """Load the dataset a validated ``data`` config describes, ``data.val_fraction`` of its
    training split held out for validation."""
    from bench.data.validation import split_validation

    load = import_path(KINDS[data.kind][1], f"data.kind={data.kind}: its loader")
    return split_validation(load(data), data.val_fraction)


def num_classes(data: DataConfig) -> int:
    """Number of classes a data config describes, counting class folders when not given."""
    if data.num_classes:
        return data.num_classes
    if isinstance(data, ImageFolderConfig):
        from bench.data import imagefolder

        train, _ = imagefolder.split_dirs(data)
        return len(imagefolder.class_folders(train))
    raise UserError(f"data.num_classes is not set for data={data.name!r}")
