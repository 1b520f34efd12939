"""``shapes``: the embedded default task, generated in memory, deterministic, no files.

Why a generated task: a scaling comparison needs a dataset that anyone can
reproduce offline in seconds, and whose labels really depend on detail at
several spatial scales, so that a lower input resolution loses information
(resolution scaling can pay off) while clutter and nuisance variation make
depth and width pay off too, and whose seed-to-seed spread is small enough
for the differences between strategies to be told apart.

How it is made. Every image is drawn at ``native_resolution`` (96 px) and
shows one object on a cluttered background. A class is a triple of factors at
three scales: the object's *shape* (coarse: disc, square, triangle, ring or
cross, about 40-60 px across), the orientation of *stripes* painted on it (mid:
horizontal or vertical) and the orientation of a *fine grating* painted on it
too (horizontal or vertical). The ten default classes pair each shape with two
stripe/grating combinations: for discs and triangles the pair differs in its
stripes, for squares, rings and crosses only in its fine grating (``CLASSES``
lists them; larger ``num_classes``, up to 20, add the other combinations).

What makes it a scaling task: every factor is easy to find on some images
and harder on others, by degrees, so that a point's top-1 varies smoothly
with its resolution and capacity instead of hinging on whether one training
run happens to discover one faint feature. The stripes' period is
log-uniform over 9-20 native px (legible at every side from 32 px) and their
contrast 0.10-0.25; the grating's period is log-uniform over 2.2-8 native px
and its contrast 0.10-0.30 (log-uniform). An antialiased downsample to
``side`` px keeps a grating intact while its period stays above two pixels
there (above ``2 * 96 / side`` native px: 4.8 at 40 px, 3.4 at 56, 2.4 at
80), attenuates and aliases it (orientation kept) up to one pixel, and
removes it below: at the default baseline's 40 px about 40 % of the gratings
are intact and 7 % gone, at 80 px 93 % are intact and the rest barely
aliased. Both
orientation factors are horizontal or vertical, so horizontal flips, the
trainer's augmentation, keep every label.

Nuisances, drawn per image: the object's position (centre in the middle 30 %
of each axis), size (radius 19-29 px) and rotation (+-20 degrees; stripes and
grating stay axis-aligned); two random tint colours between which
background, object and distractors take their shades (the object stands
0.3-1 of the way from the background's shade, lighter or darker); the
gratings' phases; a smooth low-frequency illumination field; five
distractor discs (radius 3-8 px) of random shade; and uniform pixel noise
(standard deviation 0.035). The gratings are added to the image, not
multiplied with other patterns.

Determinism: labels come from one seeded ``torch.Generator`` and each chunk
of ``CHUNK`` images from its own, seeded from (``seed``, split, chunk), so
the same config gives bit-identical tensors in any process; the train and
test splits use different seeds. The per-pixel work is exactly rounded
float32 arithmetic (no transcendental functions, no reductions, no
resampling), which does not depend on the thread count or the CPU's vector
width; cosines and exponentials run in float64 on small per-row or per-image
tensors and are then rounded to float32, so libm differences between CPUs
would almost never reach a pixel. Generating the default 20,000 images at 96 px
takes seconds (BENCHMARKS.md) and is cached on disk and per process.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from pathlib import Path

import torch

from bench.data import shapes_classes, shapes_render
from bench.data.kinds import ShapesConfig
from bench.data.shapes_classes import class_names
from bench.data.shapes_render import render
from bench.data.splits import Data, ImageSet
from bench.store import atomic_torch_save

log = logging.getLogger(__name__)

CHUNK = 100  # images per generator; part of the definition, changing it changes the data


def load(data: ShapesConfig) -> Data:
    """The ``shapes`` splits for a data config (generated once per process)."""
    n_classes, native, n_train, n_test = (
        data.num_classes,
        data.native_resolution,
        data.train_size,
        data.test_size,
    )
    cache_dir = str(Path(data.cache_dir).expanduser()) if data.cache_dir else None
    train_x, train_y, test_x, test_y = _cached(
        n_classes, native, n_train, n_test, data.seed, cache_dir
    )
    return Data(
        train=ImageSet(train_x, train_y),
        test=ImageSet(test_x, test_y),
        num_classes=n_classes,
        classes=class_names(n_classes),
        skipped=0,
        description=(
            f"shapes: generated {n_classes}-class task ({n_train:,} train / {n_test:,} test, "
            f"{native} px native, seed {data.seed})"
        ),
        identity={
            "kind": "shapes",
            "generator": _source_hash(),
            "num_classes": n_classes,
            "native_resolution": native,
            "train_size": n_train,
            "test_size": n_test,
            "seed": data.seed,
        },  # fmt: skip
    )


@functools.cache
def _source_hash() -> str:
    """The generator's source (this module, the classes and the drawing): editing it changes
    the images, so it names them too."""
    files = (__file__, shapes_classes.__file__, shapes_render.__file__)
    source = b"".join(Path(f).read_bytes() for f in files)
    return hashlib.sha256(source).hexdigest()[:12]


@functools.lru_cache(maxsize=4)
def _cached(
    num_classes: int, native: int, n_train: int, n_test: int, seed: int, cache_dir: str | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Generated splits, read back from ``cache_dir`` when this exact generator made them before.

    The file name carries a hash of this module's source, so editing the
    generator never serves stale images; reading (memory-mapped) takes a
    fraction of a second.
    """
    if cache_dir is None:
        return _generate(num_classes, native, n_train, n_test, seed)
    name = f"shapes-{_source_hash()}-c{num_classes}-r{native}-n{n_train}-{n_test}-s{seed}.pt"
    path = Path(cache_dir) / name
    try:
        # mmap: pages are read as the resize touches them (BENCHMARKS.md)
        return tuple(torch.load(path, weights_only=True, mmap=True))  # type: ignore[return-value]
    except (FileNotFoundError, RuntimeError, EOFError, ValueError):
        pass
    tensors = _generate(num_classes, native, n_train, n_test, seed)
    try:
        atomic_torch_save(list(tensors), path)
    except OSError as exc:  # a read-only or full disk only costs the next run a regeneration
        log.warning("could not cache shapes in %s: %s", cache_dir, exc)
    return tensors


def _generate(
    num_classes: int, native: int, n_train: int, n_test: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    train = generate_split(num_classes, native, n_train, seed, split=0)
    test = generate_split(num_classes, native, n_test, seed, split=1)
    return (*train, *test)


def generate_split(
    num_classes: int, native: int, n: int, seed: int, split: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images (uint8 [n, 3, native, native]) and balanced labels of one split."""
    base = (seed * 1_000_003 + split * 7919 + 1) * 104_729 % 2**62
    g = torch.Generator().manual_seed(base)
    labels = torch.arange(n, dtype=torch.int64) % num_classes
    labels = labels[torch.randperm(n, generator=g)]
    images = torch.empty((n, 3, native, native), dtype=torch.uint8)
    for c, start in enumerate(range(0, n, CHUNK)):
        stop = min(start + CHUNK, n)
        chunk_gen = torch.Generator().manual_seed(base + 1 + c)
        images[start:stop] = render(labels[start:stop], native, chunk_gen)
    return images, labels
