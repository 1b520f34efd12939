"""CIFAR-10 and CIFAR-100 from torchvision's on-disk format under ``data.root``.

``data.root`` holds ``cifar-10-batches-py/`` or ``cifar-100-python/``, the
folders torchvision's ``CIFAR10``/``CIFAR100`` read (and verify by md5).
``data.download=true`` lets torchvision fetch them where a network exists;
offline, a missing folder is a one-line :class:`UserError` that says where to
put it. Both splits are held in memory as uint8 NCHW tensors (180 MB for
CIFAR-10) and kept per process, so the jobs of a multirun read them once.
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

import torch
from torchvision.datasets import CIFAR10, CIFAR100

from bench.data.kinds import CIFAR, CifarConfig
from bench.data.splits import Data, ImageSet
from bench.errors import UserError

log = logging.getLogger(__name__)

DATASETS = {"cifar10": CIFAR10, "cifar100": CIFAR100}


def load(data: CifarConfig) -> Data:
    """CIFAR-10 or CIFAR-100, as ``data.kind`` says."""
    root = Path(data.root).expanduser().resolve()
    return _read(data.kind, str(root), data.download)


@functools.lru_cache(maxsize=2)
def _read(kind: str, root: str, download: bool) -> Data:
    (title, count), dataset_class = CIFAR[kind], DATASETS[kind]
    folder = Path(root) / dataset_class.base_folder
    if not download and not folder.is_dir():
        raise UserError(
            f"{title} not found: expected torchvision's folder {folder} (the extracted "
            f"{dataset_class.filename}); put it there, or set data.download=true to fetch it"
        )
    start = time.perf_counter()
    if download:
        _download(title, dataset_class, root)
    train, classes = _split(title, dataset_class, root, train=True)
    test, _ = _split(title, dataset_class, root, train=False)
    log.info("%s: read %s in %.1f s", title, folder, time.perf_counter() - start)
    return Data(
        train=train,
        test=test,
        num_classes=count,
        classes=classes,
        skipped=0,
        description=(
            f"{title} at {folder} ({len(train):,} train / {len(test):,} test, "
            f"{train.images.shape[-1]} px)"
        ),
        identity={"kind": kind, "root": root},
    )


def _download(title: str, dataset_class: type, root: str) -> None:
    """Fetch and extract the archive unless it is already there; any failure is a UserError."""
    try:
        dataset_class(root, train=True, download=True)
    except Exception as exc:  # network, disk and checksum failures all look different
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise UserError(
            f"could not download {title} from {dataset_class.url} into {root} ({reason}); "
            f"without a network, put {dataset_class.base_folder}/ under data.root by hand"
        ) from exc


def _split(title: str, dataset_class: type, root: str, train: bool) -> tuple[ImageSet, list[str]]:
    """One split as uint8 NCHW images and int64 labels, plus the class names."""
    try:
        ds = dataset_class(root, train=train, download=False)
    except RuntimeError as exc:  # torchvision's md5 check failed
        folder = Path(root) / dataset_class.base_folder
        raise UserError(
            f"{title} files in {folder} are incomplete or corrupted (torchvision's md5 check "
            f"failed); delete the folder and fetch it again with data.download=true"
        ) from exc
    images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
    labels = torch.as_tensor(ds.targets, dtype=torch.int64)
    return ImageSet(images, labels), list(ds.classes)
