"""The data_224 group: our streamed path against timm's loader on an ImageNet-like JPEG tree.

Both read the same tree with 2 workers in batches of 64 and deliver
normalised float batches on the device: ours through
:class:`bench.data.stream.StreamBatches` (``random_resized_crop`` at 224 and
flip for training; resize by ``crop_pct`` and centre crop for evaluation),
timm's through ``create_loader`` (its ``create_transform`` with the same
crop, flip and interpolation, no colour jitter, its prefetcher normalising).
The tree (JPEGs of ImageNet's typical sizes, around 500 x 375) is generated
once into the cache folder. Each loader is timed over the same batches after
a warm-up batch, alternately, and the best of the rounds is kept: on a shared
machine the slowest rounds measure the neighbours.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import log
from PIL import Image

SIZES = ((500, 375), (375, 500), (500, 333), (500, 400), (400, 300), (500, 500))
CLASSES = 10
SIDE, BATCH, WORKERS, CROP_PCT = 224, 64, 2, 0.875
SETTINGS = {  # images per split, timed batches, rounds
    "smoke": {"images": 48, "batches": 1, "rounds": 1, "batch": 16},
    "quick": {"images": 1000, "batches": 10, "rounds": 2, "batch": BATCH},
    "full": {"images": 1000, "batches": 14, "rounds": 3, "batch": BATCH},
}


def imagenet_like(cache: Path, images: int) -> Path:
    """A class-folder tree of ``images`` JPEGs per split (smooth noise, quality 90), made once."""
    root = cache / f"imagenet_like-{images}"
    if (root / "done").exists():
        return root
    log(f"writing an ImageNet-like tree of 2 x {images} JPEGs to {root}")
    tmp = root.with_name(root.name + f".tmp{os.getpid()}")
    g = np.random.default_rng(0)
    for split in ("train", "val"):
        for i in range(images):
            w, h = SIZES[i % len(SIZES)]
            coarse = g.integers(0, 256, (h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
            image = Image.fromarray(coarse).resize((w, h), Image.Resampling.BICUBIC)
            fine = g.integers(-12, 13, (h, w, 3))
            pixels = np.clip(np.asarray(image, dtype=np.int16) + fine, 0, 255).astype(np.uint8)
            folder = tmp / split / f"c{i % CLASSES:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(folder / f"{i:05d}.JPEG", quality=90)
    (tmp / "done").write_text("")
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    return root


def rate(batches: Any, count: int) -> float:
    """Images/s over ``count`` batches after one warm-up batch (a float batch is finished)."""
    it = iter(batches)
    next(it)
    start, seen = time.perf_counter(), 0
    for _ in range(count):
        x, _ = next(it)
        seen += len(x)
    return seen / (time.perf_counter() - start)


def ours(tree: Path, train: bool, batch: int) -> tuple[Any, Any]:
    """(iterable of batches, the loader to close) of bench's streamed path."""
    from bench.data import StreamSet
    from bench.data.batches import BatchSpec, Preprocess
    from bench.data.imagefolder import SafeImageFolder, _images_under, class_folders
    from bench.data.stream import StreamBatches

    split = tree / ("train" if train else "val")
    classes = class_folders(split)
    samples = [(f, i) for i, c in enumerate(classes) for f in _images_under(split / c)]
    dataset = SafeImageFolder(split, classes, samples)
    spec = BatchSpec(SIDE, batch, torch.device("cpu"), train, 0, (0.485, 0.456, 0.406),
                     (0.229, 0.224, 0.225), Preprocess("random_resized_crop", CROP_PCT, SIDE),
                     channels_last=True)  # fmt: skip
    batches = StreamBatches(StreamSet(dataset, WORKERS), spec)
    return batches.epoch(0), batches.loader


def timms(tree: Path, train: bool, batch: int) -> tuple[Any, Any]:
    """(iterable of batches, the loader) of timm's create_loader with the same protocol."""
    from timm.data import ImageDataset, create_loader

    dataset = ImageDataset(str(tree / ("train" if train else "val")))
    loader = create_loader(
        dataset, input_size=(3, SIDE, SIDE), batch_size=batch, is_training=train,
        use_prefetcher=True, color_jitter=0.0, hflip=0.5, interpolation="bilinear",
        crop_pct=CROP_PCT, num_workers=WORKERS, device=torch.device("cpu"),
        persistent_workers=False,
    )  # fmt: skip
    return loader, loader


def compare(tree: Path, train: bool, s: dict[str, Any]) -> tuple[float, float]:
    """Best images/s of (ours, timm's) over alternating rounds."""
    best = {"ours": 0.0, "timm": 0.0}
    for _ in range(s["rounds"]):
        for name, make in (("ours", ours), ("timm", timms)):
            batches, loader = make(tree, train, s["batch"])
            best[name] = max(best[name], rate(batches, s["batches"]))
            del batches, loader  # its workers end
    return best["ours"], best["timm"]


def data_224(mode: str, cache: Path, out: dict[str, Any]) -> None:
    """stream_images_per_sec_224, timm_loader_images_per_sec_224, stream_vs_timm; and eval."""
    s = SETTINGS[mode]
    torch.set_num_threads(1)  # the workers decode; the main process only normalises
    tree = imagenet_like(cache, s["images"])
    train, timm_train = compare(tree, True, s)
    test, timm_test = compare(tree, False, s)
    out.update({
        "stream_images_per_sec_224": train, "timm_loader_images_per_sec_224": timm_train,
        "stream_vs_timm": train / timm_train,
        "stream_eval_images_per_sec_224": test, "timm_eval_images_per_sec_224": timm_test,
        "stream_vs_timm_eval": test / timm_test,
    })  # fmt: skip
    log(f"data_224: training {train:.0f} img/s against timm's {timm_train:.0f} "
        f"({train / timm_train:.2f}x); evaluation {test:.0f} against {timm_test:.0f} "
        f"({test / timm_test:.2f}x)")  # fmt: skip
