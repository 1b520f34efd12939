"""A class-folder tree decoded once into uint8 tensors, cached on disk and in the process.

Each image is decoded to RGB, its shorter side resized to S with antialiased
bilinear resampling and centre-cropped to S x S, in ``workers`` DataLoader
processes. The result is written to the cache folder under a name hashed
from the tree's absolute path, S and every file's relative path, size and
modification time, so a changed tree is decoded again and an unchanged one
is read back (memory-mapped) in about a second. A file lock makes parallel
jobs decode a tree once; within one process the tensors are kept too, so the
jobs of a multirun read them once. Unreadable files are dropped and counted.
A streamed tree, never decoded whole, is identified by :func:`fingerprint`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from filelock import FileLock
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from bench.cache import LRU
from bench.errors import UserError
from bench.store import atomic_torch_save

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when the decode changes, so old caches are not reused
SHOW = 5  # unreadable paths kept for the warning
FINGERPRINT_FILES = 256  # files whose size and mtime make a streamed tree's fingerprint
_memory: LRU[dict[str, Any]] = LRU(2)  # cache key -> decoded tree


@dataclass(frozen=True)
class Tree:
    """A scanned, checked class-folder tree: samples are (path, label) in a fixed order."""

    root: Path
    train_dir: Path
    test_dir: Path
    classes: list[str]
    train: list[tuple[str, int]]
    test: list[tuple[str, int]]


def load(tree: Tree, size: int, workers: int, cache_dir: Path) -> tuple[dict[str, Any], str]:
    """The decoded tree and where it came from (this process, the disk cache, or a decode)."""
    key = cache_key(tree, size)
    path = cache_dir / f"{_safe(tree.root.name)}-{size}px-{key[:16]}.pt"
    source = ["in-process cache"]

    def read_or_decode() -> dict[str, Any]:
        payload, source[0] = _cached_or_decoded(tree, size, workers, path)
        return {**payload, "key": key}

    return _memory.get(key, read_or_decode), source[0]


def clear_memory_cache() -> None:
    """Forget the decoded trees this process holds (the disk cache stays)."""
    _memory.clear()


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
    """Write atomically; False (and a warning) when the disk will not take it."""
    try:
        atomic_torch_save(payload, path)
        return True
    except OSError as exc:
        log.warning("could not write the decode cache %s (%s); decoding again next time", path, exc)
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


def fingerprint(paths: list[str], sample: int = FINGERPRINT_FILES) -> str:
    """A cheap content fingerprint of a streamed tree: the name, size and mtime of a fixed,
    evenly spaced sample of its files (a changed or replaced file there changes the key;
    the in-memory path hashes every file's)."""
    step = max(1, len(paths) // sample)
    digest = hashlib.sha256()
    for path in paths[::step][:sample]:
        try:
            st = os.stat(path)
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{path}\0missing\n".encode())
    return digest.hexdigest()[:16]
