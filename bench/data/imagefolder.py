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
:class:`SafeImageFolder` substitutes the next readable sample (with its own
label) and logs a counted warning. Layout problems (no path, no train/ or
val/, empty class folders, different classes in the two splits) are user
errors, since no amount of skipping fixes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from filelock import FileLock
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.datasets import ImageFolder
from torchvision.datasets.folder import IMG_EXTENSIONS

from bench.data import Data, ImageSet, StreamSet
from bench.errors import UserError

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = IMG_EXTENSIONS
TEST_SPLITS = ("val", "test")
CACHE_VERSION = 1  # bump when the decode changes, so old caches are not reused
SHOW = 5  # paths named in a warning
LAYOUT = "<path>/train/<class>/<image> and <path>/val/<class>/<image> (or test/)"
_MEMORY: OrderedDict[str, dict[str, Any]] = OrderedDict()  # cache key -> decoded tree
_MEMORY_KEEP = 2


@dataclass(frozen=True)
class Tree:
    """A scanned, checked class-folder tree: samples are (path, label) in a fixed order."""

    root: Path
    train_dir: Path
    test_dir: Path
    classes: list[str]
    train: list[tuple[str, int]]
    test: list[tuple[str, int]]


# -- layout ---------------------------------------------------------------------------------
def split_dirs(data: Mapping[str, Any]) -> tuple[Path, Path]:
    """The train and test folders of ``data.path``; a missing path or split is a UserError."""
    if not data.get("path"):
        raise UserError(
            f"data.path is not set; point it at a class-folder tree laid out as {LAYOUT}"
        )
    root = Path(str(data["path"])).expanduser().resolve()
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


def _samples(split_dir: Path, classes: list[str]) -> tuple[list[tuple[str, int]], list[str]]:
    """(path, label) pairs of a split, and the class folders that hold no image."""
    samples, empty = [], []
    for label, name in enumerate(classes):
        files = _images_under(split_dir / name)
        if not files:
            empty.append(str(split_dir / name))
        samples += [(f, label) for f in files]
    return samples, empty


def scan(data: Mapping[str, Any]) -> Tree:
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
    wanted = data.get("num_classes")
    if wanted is not None and int(wanted) != len(classes):
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


# -- options --------------------------------------------------------------------------------
def _in_memory_option(data: Mapping[str, Any]) -> str:
    value = data.get("in_memory", "auto")
    text = str(value).lower()
    if text not in ("auto", "true", "false"):
        raise UserError(f"data.in_memory={value!r} must be auto, true or false")
    return text


def _number(data: Mapping[str, Any], key: str, default: float, low: float) -> float:
    value = data.get(key, default)
    value = default if value is None else value
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not number >= low:
        raise UserError(f"data.{key}={value!r} must be a number >= {low:g}")
    return number


def decode_size(data: Mapping[str, Any], tree: Tree) -> int:
    """``data.decode_size``, or the shorter side of the first readable training image."""
    if data.get("decode_size") is not None:
        return int(_number(data, "decode_size", 0, 1))
    for path, _ in tree.train:
        try:
            with Image.open(path) as image:
                return min(image.size)
        except Exception:  # unreadable: the decode will skip it too
            continue
    raise UserError(
        f"no image under {tree.train_dir} can be read; set data.decode_size or fix the files"
    )


# -- loading --------------------------------------------------------------------------------
def load(data: Mapping[str, Any]) -> Data:
    """The tree at ``data.path``, in memory when it fits, else streamed."""
    tree = scan(data)
    mode = _in_memory_option(data)
    limit_gb = _number(data, "memory_limit_gb", 4, 0)
    workers = int(_number(data, "workers", 2, 0))
    if mode == "false":
        return _streamed(data, tree)
    size = decode_size(data, tree)
    n = len(tree.train) + len(tree.test)
    if mode == "auto" and n * 3 * size * size > limit_gb * 2**30:
        return _streamed(data, tree)
    return _in_memory(data, tree, size, workers)


def _description(data: Mapping[str, Any], tree: Tree, how: str) -> str:
    return (
        f"{data.get('name') or 'imagefolder'} tree at {tree.root} ({len(tree.train):,} train / "
        f"{len(tree.test):,} {tree.test_dir.name}, {len(tree.classes)} classes, {how})"
    )


def _streamed(data: Mapping[str, Any], tree: Tree) -> Data:
    train = SafeImageFolder(tree.train_dir, tree.classes, tree.train)
    test = SafeImageFolder(tree.test_dir, tree.classes, tree.test)
    description = _description(data, tree, "streamed from disk")
    log.info("%s", description)
    return Data(StreamSet(train), StreamSet(test), len(tree.classes), tree.classes, 0, description)


def _in_memory(data: Mapping[str, Any], tree: Tree, size: int, workers: int) -> Data:
    key = cache_key(tree, size)
    name = f"{_safe(tree.root.name)}-{size}px-{key[:16]}.pt"
    path = Path(str(data.get("cache_dir") or "~/.cache/scalebench/decoded")).expanduser() / name
    start = time.perf_counter()
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        payload, source = _MEMORY[key], "in-process cache"
    else:
        payload, source = _cached_or_decoded(tree, size, workers, path)
        _MEMORY[key] = payload
        while len(_MEMORY) > _MEMORY_KEEP:
            _MEMORY.popitem(last=False)
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
    )


def clear_memory_cache() -> None:
    """Forget the decoded trees this process holds (the disk cache stays)."""
    _MEMORY.clear()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "tree"


def cache_key(tree: Tree, size: int) -> str:
    """Hash of what the decoded tensors depend on: path, size, each file's name, size, mtime."""
    h = hashlib.sha256(f"v{CACHE_VERSION}\0{tree.root}\0{size}\0".encode())
    for split in (tree.train, tree.test):
        for path, label in split:
            st = os.stat(path)
            rel = os.path.relpath(path, tree.root)
            h.update(f"{rel}\0{label}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


# -- disk cache -----------------------------------------------------------------------------
def _cached_or_decoded(
    tree: Tree, size: int, workers: int, path: Path
) -> tuple[dict[str, Any], str]:
    """The decoded tree from the disk cache, or decoded now and written there."""
    with _lock(path):
        payload = _read_cache(path)
        if payload is not None:
            return payload, f"read from cache {path}"
        started = time.perf_counter()
        payload = _decode_tree(tree, size, workers)
        seconds = time.perf_counter() - started
        written = _write_cache(path, payload)
    where = f"cache written to {path}" if written else "not cached"
    return payload, f"decoded in {seconds:.1f} s with {workers} worker(s), {where}"


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Hold a lock beside ``path`` so parallel jobs decode once; go without if none can be made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path) + ".lock")
        lock.acquire()
    except OSError as exc:
        log.warning("cannot lock %s (%s); decoding without the disk cache's lock", path, exc)
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _read_cache(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        payload = torch.load(path, weights_only=True, mmap=True)
        if payload.get("version") == CACHE_VERSION:
            return payload
    except Exception as exc:  # a damaged or foreign file is decoded again, not fatal
        log.warning("ignoring unreadable decode cache %s (%s)", path, exc)
    return None


def _write_cache(path: Path, payload: dict[str, Any]) -> bool:
    """Write atomically (temporary file in the same folder, then rename); False if impossible."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a shared cache folder should not be
        os.replace(tmp, path)
        return True
    except OSError as exc:
        log.warning("could not write the decode cache %s (%s); decoding again next time", path, exc)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False


# -- decoding -------------------------------------------------------------------------------
def decode_image(path: str, size: int) -> torch.Tensor:
    """One image as uint8 [3, size, size]: RGB, shorter side resized to ``size``, centre crop."""
    with Image.open(path) as image:
        image.draft("RGB", (size, size))  # JPEG: let the decoder shrink by 2-8x first
        image = image.convert("RGB")
    w, h = image.size
    if min(w, h) != size:
        scale = size / min(w, h)
        new = (max(size, round(w * scale)), max(size, round(h * scale)))
        image = image.resize(new, Image.BILINEAR, reducing_gap=3.0)
        w, h = new
    top, left = int(round((h - size) / 2.0)), int(round((w - size) / 2.0))
    if (w, h) != (size, size):
        image = image.crop((left, top, left + size, top + size))
    return torch.from_numpy(np.array(image)).permute(2, 0, 1).contiguous()


class _Decoding(Dataset):
    """Decoded images of a sample list, with a flag instead of an error for unreadable files."""

    def __init__(self, paths: list[str], size: int) -> None:
        self.paths = paths
        self.size = size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, bool]:
        try:
            return decode_image(self.paths[index], self.size), True
        except Exception:  # PIL raises OSError, SyntaxError, ValueError... for broken files
            return torch.zeros((3, self.size, self.size), dtype=torch.uint8), False


def _decode_split(
    samples: list[tuple[str, int]], size: int, workers: int
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Decode a split in ``workers`` processes; returns images, labels and unreadable paths."""
    paths = [p for p, _ in samples]
    images = torch.empty((len(paths), 3, size, size), dtype=torch.uint8)
    ok = torch.empty(len(paths), dtype=torch.bool)
    batch = max(1, min(256, (8 << 20) // (3 * size * size)))
    loader = DataLoader(_Decoding(paths, size), batch_size=batch, num_workers=workers)
    start = 0
    for x, good in loader:
        images[start : start + len(x)] = x
        ok[start : start + len(x)] = good
        start += len(x)
    labels = torch.tensor([label for _, label in samples], dtype=torch.int64)
    bad = [paths[i] for i in (~ok).nonzero()[:, 0].tolist()]
    if bad:
        images, labels = images[ok].contiguous(), labels[ok]
    return images, labels, bad


def _decode_tree(tree: Tree, size: int, workers: int) -> dict[str, Any]:
    log.info(
        "decoding %s images under %s at %d px with %d worker(s)",
        f"{len(tree.train) + len(tree.test):,}",
        tree.root,
        size,
        workers,
    )
    train_x, train_y, bad_train = _decode_split(tree.train, size, workers)
    test_x, test_y, bad_test = _decode_split(tree.test, size, workers)
    bad = bad_train + bad_test
    for split, x in (("train", train_x), ("test", test_x)):
        if len(x) == 0:
            raise UserError(f"no image in the {split} split under {tree.root} can be read")
    return {
        "version": CACHE_VERSION,
        "classes": tree.classes,
        "train_images": train_x,
        "train_labels": train_y,
        "test_images": test_x,
        "test_labels": test_y,
        "skipped": len(bad),
        "skipped_paths": [os.path.relpath(p, tree.root) for p in bad[:SHOW]],
    }


# -- streaming ------------------------------------------------------------------------------
class SafeImageFolder(ImageFolder):
    """torchvision's ImageFolder over a scanned tree, which survives unreadable files.

    ``dataset[i]`` for an unreadable file logs a counted warning and returns
    the next readable sample (with that sample's label) instead of raising, so
    one bad file among a million does not stop a training run.
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

    def __getitem__(self, index: int) -> tuple[Any, int]:
        n = len(self.samples)
        for step in range(n):
            path, target = self.samples[(index + step) % n]
            try:
                sample = self.loader(path)
            except Exception:  # PIL raises OSError, SyntaxError, ValueError... for broken files
                self.skipped += 1
                if self.skipped <= SHOW or self.skipped % 1000 == 0:
                    log.warning(
                        "unreadable image %s replaced by the next one (%d skipped in this process)",
                        path,
                        self.skipped,
                    )
                continue
            if self.transform is not None:
                sample = self.transform(sample)
            if self.target_transform is not None:
                target = self.target_transform(target)
            return sample, target
        raise UserError(f"no image under {self.root} can be read")
