"""The data kinds: each one's config class (what a ``data`` node may say) and its loader.

Importable without torch: a sweep checks every job's ``data`` node, and a bad
value gets its one-line answer, before anything loads torch or torchvision.
Each loader is named by its dotted path and imported only to load.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from bench.data.shapes_classes import CLASSES
from bench.schema import AutoBool, DataConfig

SHAPES_MIN_NATIVE = 32
CIFAR = {"cifar10": ("CIFAR-10", 10), "cifar100": ("CIFAR-100", 100)}  # title, classes


class ShapesConfig(DataConfig):
    """``data=shapes``: the generated task's size and seed."""

    kind: Literal["shapes"]
    num_classes: int = Field(ge=2, le=len(CLASSES))
    """Classes: the first num_classes (shape, stripes, grating) triples; at most 20."""
    native_resolution: int = Field(ge=SHAPES_MIN_NATIVE)
    """Side the images are generated at, then resized per point."""
    train_size: int = Field(ge=1)
    """Training images."""
    test_size: int = Field(ge=1)
    """Held-out images."""
    seed: int = Field(ge=0)
    """The dataset's own seed, fixed across training seeds."""
    cache_dir: str | None
    """Generated splits are kept here (null: regenerate in every process)."""


class CifarConfig(DataConfig):
    """``data=cifar10`` / ``data=cifar100``: torchvision's on-disk format under a root."""

    kind: Literal["cifar10", "cifar100"]
    root: str
    """Folder holding cifar-10-batches-py/ or cifar-100-python/."""
    download: bool
    """Let torchvision fetch the archive where a network exists."""

    @model_validator(mode="after")
    def _class_count(self) -> CifarConfig:
        title, count = CIFAR[self.kind]
        if self.num_classes is not None and self.num_classes != count:
            raise ValueError(f"num_classes={self.num_classes} but {title} has {count} classes")
        return self


class ImageFolderConfig(DataConfig):
    """``data=imagefolder``: any class-folder tree, decoded into memory or streamed."""

    kind: Literal["imagefolder"]
    path: str | None
    """The tree: path/train/<class>/* and path/val/<class>/* (or test/); required to load."""
    decode_size: int | None = Field(ge=1)
    """Side images are decoded to (shorter side, then centre crop); null: the first image's."""
    in_memory: AutoBool
    """auto: decode once and hold as one tensor when it fits in memory_limit_gb."""
    memory_limit_gb: float = Field(ge=0)
    """Largest decoded size held in memory under in_memory=auto (0 streams always)."""
    workers: int = Field(ge=0)
    """DataLoader workers when streaming, and for the one-time decode."""
    cache_dir: str
    """Decoded trees are cached here, keyed by every file's name, size and mtime."""


# kind -> (config class, loader's dotted path: ``load(config) -> Data``)
KINDS: dict[str, tuple[type[DataConfig], str]] = {
    "shapes": (ShapesConfig, "bench.data.shapes.load"),
    "cifar10": (CifarConfig, "bench.data.cifar.load"),
    "cifar100": (CifarConfig, "bench.data.cifar.load"),
    "imagefolder": (ImageFolderConfig, "bench.data.imagefolder.load"),
}
