"""Any class-folder tree: ``data.path/train/<class>/*`` and ``data.path/val/<class>/*`` (or test/).

ImageNet, Imagenette or the CIFAR-10 JPEG tree all have this layout. Class
folders are the non-hidden subfolders of ``train/``, sorted by name (their
index is the label, as in torchvision's ``ImageFolder``); images are the files
below them, at any depth, whose extension is one of ``EXTENSIONS``. ``val/``
is used when present, else ``test/``.

In memory when it fits. With ``data.in_memory=auto`` a tree whose decoded
size (images x 3 x S x S bytes) fits in ``data.memory_limit_gb`` is decoded
once: each image to RGB, its shorter side resized to S (``data.decode_size``;
null means the first training image's shorter side) with antialiased
bilinear resampling, centre-cropped to S x S. Decoding runs in
``data.workers`` DataLoader processes, and the result is written to
``data.cache_dir`` under a name hashed from the tree's absolute path, S and
every file's relative path, size and modification time, so a changed tree is
decoded again and an unchanged one is read back in about a second. The write
is atomic (a temporary file renamed into place) and a file lock makes
parallel jobs decode a tree once. Within one process the tensors are also
kept in memory, so the jobs of a multirun read them once.

Streamed otherwise (``in_memory=false``, or auto and too big): each split is
a :class:`SafeImageFolder`; the trainer sets its transform and reads it
through DataLoader workers.

Unreadable files are skipped, not fatal. A corrupt, truncated or non-image
file among a million (ImageNet has a few) should cost one sample, not a
training run: the in-memory decode drops it, counts it in ``Data.skipped``
and logs one warning with the count and the first few paths;
:class:`SafeImageFolder` gives None for it, the streamed batches leave it out
and count it (``skipped`` in a point's ``data_info``; ``test_images`` counts
only the readable held-out images). Layout problems (no path, no train/ or
val/, empty class folders, different classes in the two splits) are user
errors, since no amount of skipping fixes them.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from PIL import Image
from torchvision.datasets import ImageFolder
from torchvision.datasets.folder import IMG_EXTENSIONS

from bench.data import decoded
from bench.data.decoded import Tree
from bench.data.kinds import ImageFolderConfig
from bench.data.splits import Data, ImageSet, StreamSet
from bench.errors import UserError

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = IMG_EXTENSIONS
TEST_SPLITS = ("val", "test")
SHOW = 5  # paths named in a warning
LAYOUT = "<path>/train/<class>/<image> and <path>/val/<class>/<image> (or test/)"


# -- layout ---------------------------------------------------------------------------------
def split_dirs(data: ImageFolderConfig) -> tuple[Path, Path]:
    """The train and test folders of ``data.path``; a missing path or split is a UserError."""
    if not data.path:
        raise UserError(
            f"data.path is not set; point it at a class-folder tree laid out as {LAYOUT}"
        )
    root = Path(data.path).expanduser().resolve()
    if not root.is_dir():
        raise UserError(f"data.path={root} is not a folder; expected a tree laid out as {LAYOUT}")
    train = root / "train"
    tests = [root / name for name in TEST_SPLITS if (root / name).is_dir()]
    if not train.is_dir() or not tests:
        missing = "train/" if not train.is_dir() else "val/ or test/"
        raise UserError(f"data.path={root} has no {missing} folder; expected {LAYOUT}")
    return train, tests[0]


def class_folders(split_dir: Path) -> list[str]:
    """Names of the class folders of one split: its non-hidden subfolders, sorted."""
    return sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_under(folder: Path) -> list[str]:
    """Image files below ``folder`` at any depth, in a fixed order."""
    found = []
    for parent, dirs, files in os.walk(folder, followlinks=True):
        dirs.sort()
        found += [os.path.join(parent, f) for f in sorted(files) if f.lower().endswith(EXTENSIONS)]
    return found


def check(data: ImageFolderConfig) -> None:
    """The tree exists, has both splits and at least one image in each: a cheap look (it stops
    at the first image) that a sweep makes once before any job; :func:`scan` checks the rest."""
    for split in split_dirs(data):
        if not class_folders(split):
            raise UserError(f"{split} has no class folders; expected {LAYOUT}")
        if not _any_image(split):
            raise UserError(f"{split} holds no image; allowed extensions: {' '.join(EXTENSIONS)}")


def _any_image(folder: Path) -> bool:
    for _, _, files in os.walk(folder, followlinks=True):
        if any(f.lower().endswith(EXTENSIONS) for f in files):
            return True
    return False


def _samples(split_dir: Path, classes: list[str]) -> tuple[list[tuple[str, int]], list[str]]:
    """(path, label) pairs of a split, and the class folders that hold no image."""
    samples, empty = [], []
    for label, name in enumerate(classes):
        files = _images_under(split_dir / name)
        if not files:
            empty.append(str(split_dir / name))
        samples += [(f, label) for f in files]
    return samples, empty


def scan(data: ImageFolderConfig) -> Tree:
    """Find and check the tree's classes and images; layout problems are UserErrors."""
    train_dir, test_dir = split_dirs(data)
    classes = class_folders(train_dir)
    if not classes:
        raise UserError(f"{train_dir} has no class folders; expected {LAYOUT}")
    test_classes = class_folders(test_dir)
    if test_classes != classes:
        only_train = sorted(set(classes) - set(test_classes))[:SHOW]
        only_test = sorted(set(test_classes) - set(classes))[:SHOW]
        raise UserError(
            f"{train_dir} and {test_dir} must hold the same class folders; "
            f"only in train/: {only_train or 'none'}, "
            f"only in {test_dir.name}/: {only_test or 'none'}"
        )
    wanted = data.num_classes
    if wanted is not None and wanted != len(classes):
        raise UserError(
            f"data.num_classes={wanted} but {train_dir} has {len(classes)} class folders; "
            f"set data.num_classes=null to use the folders"
        )
    train, empty = _samples(train_dir, classes)
    test, empty_test = _samples(test_dir, classes)
    if empty or empty_test:
        names = empty + empty_test
        raise UserError(
            f"{len(names)} class folder(s) hold no image: {', '.join(names[:SHOW])}"
            f"{' ...' if len(names) > SHOW else ''}; allowed extensions: {' '.join(EXTENSIONS)}"
        )
    return Tree(train_dir.parent, train_dir, test_dir, classes, train, test)


# -- loading --------------------------------------------------------------------------------
def decode_size(data: ImageFolderConfig, tree: Tree) -> int:
    """``data.decode_size``, or the shorter side of the first readable training image."""
    if data.decode_size is not None:
        return data.decode_size
    for path, _ in tree.train:
        try:
            with Image.open(path) as image:
                return min(image.size)
        except Exception:  # unreadable: the decode will skip it too
            continue
    raise UserError(
        f"no image under {tree.train_dir} can be read; set data.decode_size or fix the files"
    )


def load(data: ImageFolderConfig) -> Data:
    """The tree at ``data.path``, in memory when it fits, else streamed."""
    tree = scan(data)
    if data.in_memory is False:
        return _streamed(data, tree)
    size = decode_size(data, tree)
    n = len(tree.train) + len(tree.test)
    if data.in_memory == "auto" and n * 3 * size * size > data.memory_limit_gb * 2**30:
        return _streamed(data, tree)
    return _in_memory(data, tree, size)


def _description(data: ImageFolderConfig, tree: Tree, how: str) -> str:
    return (
        f"{data.name} tree at {tree.root} ({len(tree.train):,} train / "
        f"{len(tree.test):,} {tree.test_dir.name}, {len(tree.classes)} classes, {how})"
    )


def _streamed(data: ImageFolderConfig, tree: Tree) -> Data:
    train = SafeImageFolder(tree.train_dir, tree.classes, tree.train)
    test = SafeImageFolder(tree.test_dir, tree.classes, tree.test)
    description = _description(data, tree, "streamed from disk")
    log.info("%s", description)
    identity = {"kind": "imagefolder", "tree": str(tree.root), "storage": "stream",
                "files": [len(tree.train), len(tree.test)],
                "sample": decoded.fingerprint([p for p, _ in tree.train + tree.test])}  # fmt: skip
    return Data(
        train=StreamSet(train, data.workers),
        test=StreamSet(test, data.workers),
        num_classes=len(tree.classes),
        classes=tree.classes,
        skipped=0,
        description=description,
        identity=identity,
    )


def _in_memory(data: ImageFolderConfig, tree: Tree, size: int) -> Data:
    start = time.perf_counter()
    payload, source = decoded.load(tree, size, data.workers, Path(data.cache_dir).expanduser())
    if payload["skipped"]:
        log.warning(
            "skipped %d unreadable image file(s) under %s, e.g. %s",
            payload["skipped"],
            tree.root,
            ", ".join(payload["skipped_paths"]),
        )
    description = _description(data, tree, f"{size} px, cached decode")
    log.info("%s: %s in %.1f s", description, source, time.perf_counter() - start)
    return Data(
        train=ImageSet(payload["train_images"], payload["train_labels"]),
        test=ImageSet(payload["test_images"], payload["test_labels"]),
        num_classes=len(tree.classes),
        classes=list(payload["classes"]),
        skipped=int(payload["skipped"]),
        description=description,
        identity={
            "kind": "imagefolder",
            "tree": str(tree.root),
            "storage": "memory",
            "decode": payload["key"],
        },  # fmt: skip
    )


# -- streaming ------------------------------------------------------------------------------
class SafeImageFolder(ImageFolder):
    """torchvision's ImageFolder over a scanned tree, which survives unreadable files.

    The image is opened lazily (PIL reads the header) and handed to the
    transform undecoded, so a transform can decode only what it needs
    (:mod:`bench.data.jpeg`). ``dataset[i]`` for an unreadable file logs a
    counted warning and is None: the batch leaves it out
    (:func:`bench.data.stream.collate`), so one bad file among a million
    costs one sample, as in the in-memory decode, and is never replaced.
    """

    def __init__(
        self, root: Path | str, classes: list[str], samples: list[tuple[str, int]], **kwargs: Any
    ) -> None:
        self._given = (list(classes), list(samples))  # read by the overrides below
        super().__init__(str(root), **kwargs)
        del self._given
        self.skipped = 0  # in this process: DataLoader workers count their own

    def find_classes(self, directory: str) -> tuple[list[str], dict[str, int]]:
        classes = self._given[0]
        return classes, {name: i for i, name in enumerate(classes)}

    def make_dataset(self, directory: str, *args: Any, **kwargs: Any) -> list[tuple[str, int]]:
        return self._given[1]

    def __getitem__(self, index: int) -> tuple[Any, int] | None:
        path, target = self.samples[index]
        try:
            with Image.open(path) as image:
                sample = self.transform(image) if self.transform else image.convert("RGB")
        except Exception:  # PIL raises OSError, SyntaxError, ValueError... for broken files
            self.skipped += 1
            if self.skipped <= SHOW or self.skipped % 1000 == 0:
                log.warning("unreadable image %s skipped (%d in this process)", path, self.skipped)
            return None
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target
