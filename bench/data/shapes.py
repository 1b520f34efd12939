"""``shapes``: the embedded default task, generated in memory, deterministic, no files.

Why a generated task: a scaling comparison needs a dataset that anyone can
reproduce offline in seconds, and whose labels really depend on detail at
several spatial scales, so that a lower input resolution loses information
(resolution scaling can pay off) while clutter and nuisance variation are
meant to make depth and width pay off too.

How it is made. Every image is drawn at ``native_resolution`` (96 px) and
shows one object on a cluttered background. A class is a triple of factors at
three scales: the object's *shape* (coarse: disc, square, triangle, ring or
cross, about 40-60 px across), the orientation of *stripes* painted on it (mid:
horizontal or vertical, period 8-12 px) and the orientation of a *fine
grating* painted on it too (fine: horizontal or vertical, period 3.3-3.7 px).
The ten default classes pair each shape with two stripe/grating
combinations: for discs and triangles the pair differs in its stripes, for
squares, rings and crosses only in its fine grating (``CLASSES`` lists them;
larger ``num_classes``, up to 20, add the other combinations). An
antialiased downsample to 32 px keeps the shape and the stripes but removes
the fine grating (its period falls to 1.1-1.2 px, where the filter passes at
most 5 % of it), so at 32 px six of the ten classes collapse into three
pairs and no model can beat 70 % top-1; at 44 px about a fifth of the
grating's contrast survives and from 64 px (period 2.3 px) about half.
Both orientation factors are horizontal or vertical, so horizontal flips,
the trainer's augmentation, keep every label. Nuisances, drawn per image:
the object's position (centre in the middle 30 % of each axis), size
(radius 19-29 px) and rotation (+-20 degrees; stripes and grating stay
axis-aligned); two random tint colours between which background, object
and distractors take their shades (the object stands 0.3-1 of the way from
the background's shade, lighter or darker); the stripes' period, phase and
contrast (0.06-0.11); the grating's period, phase and contrast
(log-uniform 0.025-0.12, from faint to obvious); a smooth low-frequency
illumination field; five distractor discs (radius 3-8 px) of random shade
that carry a decoy fine grating of random orientation, so that the grating
must be read on the object rather than pooled over the image; and uniform
pixel noise (standard deviation 0.035). The grating is added to the image,
not multiplied with other patterns, and only about 4 pixels in 100,000 clip
at 0 or 255, so it leaks into no coarser frequency that survives at 32 px.

Determinism: labels come from one seeded ``torch.Generator`` and each chunk
of ``CHUNK`` images from its own, seeded from (``seed``, split, chunk), so
the same config gives bit-identical tensors in any process; the train and
test splits use different seeds. The per-pixel work is exactly rounded
float32 arithmetic (no transcendental functions, no reductions, no
resampling), which does not depend on the thread count or the CPU's vector
width; cosines and exponentials run in float64 on small per-row or per-image
tensors and are then rounded to float32, so libm differences between CPUs
would almost never reach a pixel. Generating 12,000 images at 96 px takes a
few seconds and is cached per process.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
from pathlib import Path
from typing import Literal

import torch
from pydantic import Field

from bench.data import Data, ImageSet
from bench.schema import DataConfig
from bench.store import atomic_torch_save

log = logging.getLogger(__name__)

SHAPES = ("disc", "square", "triangle", "ring", "cross")
ORIENTATIONS = ("h", "v")

# (shape, stripes, fine grating). The first ten are the default classes: discs and
# triangles differ in their stripes, squares, rings and crosses only in their grating.
# The rest complete all 20 combinations for larger ``num_classes``.
CLASSES: tuple[tuple[str, str, str], ...] = (
    ("disc", "h", "h"),
    ("disc", "v", "h"),
    ("square", "h", "h"),
    ("square", "h", "v"),
    ("triangle", "v", "v"),
    ("triangle", "h", "v"),
    ("ring", "v", "h"),
    ("ring", "v", "v"),
    ("cross", "h", "v"),
    ("cross", "h", "h"),
    ("disc", "h", "v"),
    ("disc", "v", "v"),
    ("square", "v", "h"),
    ("square", "v", "v"),
    ("triangle", "h", "h"),
    ("triangle", "v", "h"),
    ("ring", "h", "h"),
    ("ring", "h", "v"),
    ("cross", "v", "h"),
    ("cross", "v", "v"),
)

CHUNK = 100  # images per generator; part of the definition, changing it changes the data
MIN_NATIVE = 32
STRIPE_PERIOD = (8.0, 12.0)  # native px
FINE_PERIOD = (3.3, 3.7)  # native px: a 3x antialiased downsample passes at most 5 %
STRIPE_AMPLITUDE = (0.06, 0.11)
FINE_AMPLITUDE = (0.025, 0.12)  # log-uniform: from barely detectable to obvious
DISTRACTORS = 5
DISTRACTOR_RADIUS = (3.0, 8.0)
NOISE = 0.06  # half-width of the uniform pixel noise
ILLUMINATION = 0.02  # amplitude of each of the three low-frequency lighting terms
COLOUR = (0.22, 0.78)  # range of each channel of an image's two tint colours
COLOUR_STEP = (0.2, 0.4)  # grey step between them, so that shapes have contrast


def class_names(num_classes: int) -> list[str]:
    """Readable names such as ``disc-hstripes-vfine``."""
    return [f"{s}-{m}stripes-{f}fine" for s, m, f in CLASSES[:num_classes]]


class ShapesConfig(DataConfig):
    """``data=shapes``: the generated task's size and seed."""

    kind: Literal["shapes"]
    num_classes: int = Field(ge=2, le=len(CLASSES))
    """Classes: the first num_classes (shape, stripes, grating) triples; at most 20."""
    native_resolution: int = Field(ge=MIN_NATIVE)
    """Side the images are generated at, then resized per point."""
    train_size: int = Field(ge=1)
    """Training images."""
    test_size: int = Field(ge=1)
    """Held-out images."""
    seed: int = Field(ge=0)
    """The dataset's own seed, fixed across training seeds."""
    cache_dir: str | None
    """Generated splits are kept here (null: regenerate in every process)."""


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
    """This generator's source: editing it changes the images, so it names them too."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


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
        images[start:stop] = _render(labels[start:stop], native, chunk_gen)
    return images, labels


def _uniform(g: torch.Generator, shape: tuple[int, ...], low: float, high: float) -> torch.Tensor:
    return torch.rand(shape, generator=g, dtype=torch.float64) * (high - low) + low


def _log_uniform(
    g: torch.Generator, shape: tuple[int, ...], low: float, high: float
) -> torch.Tensor:
    return torch.exp(_uniform(g, shape, math.log(low), math.log(high)))


def _render(labels: torch.Tensor, s: int, g: torch.Generator) -> torch.Tensor:
    """One chunk of images for ``labels``; every random draw comes from ``g``, in a fixed order.

    Layers are composited on one "shade" plane ``t`` in [0, 1] (background,
    distractors, object) and an achromatic plane (illumination, stripes, grating,
    noise); only the final tint to RGB touches three channels, which keeps it fast.
    """
    n = len(labels)
    table = torch.tensor(
        [[SHAPES.index(a), ORIENTATIONS.index(b), ORIENTATIONS.index(c)] for a, b, c in CLASSES]
    )[labels]
    shape, stripes_v, fine_v = table[:, 0], table[:, 1].bool(), table[:, 2].bool()
    coords = torch.arange(s, dtype=torch.float32) + 0.5

    lighter = _uniform(g, (n,), 0.0, 1.0) < 0.5  # object lighter or darker than background
    t_bg = torch.where(lighter, _uniform(g, (n,), 0.0, 0.35), _uniform(g, (n,), 0.65, 1.0))
    t_obj = torch.where(lighter, _uniform(g, (n,), 0.65, 1.0), _uniform(g, (n,), 0.0, 0.35))
    t = t_bg.float()[:, None, None].expand(n, s, s).clone()
    cover = torch.zeros((n, s, s))
    for _ in range(DISTRACTORS):
        blob = _disc_mask(n, s, coords, g, radius=DISTRACTOR_RADIUS, centre=(0.05, 0.95))
        t += blob * (_uniform(g, (n, 1, 1), 0.0, 1.0).float() - t)
        cover += blob * (1.0 - cover)
    mask = _object_mask(shape, s, coords, g)
    t += mask * (t_obj.float()[:, None, None] - t)

    stripes = _grating(n, s, STRIPE_PERIOD, stripes_v, g)
    stripes = stripes * _uniform(g, (n, 1, 1), *STRIPE_AMPLITUDE).float()
    fine = _grating(n, s, FINE_PERIOD, fine_v, g)
    fine = fine * _log_uniform(g, (n, 1, 1), *FINE_AMPLITUDE).float()
    decoy_v = torch.rand(n, generator=g) < 0.5  # distractors carry a fine grating too
    decoy = _grating(n, s, FINE_PERIOD, decoy_v, g)
    decoy = decoy * _log_uniform(g, (n, 1, 1), *FINE_AMPLITUDE).float()
    achromatic = _illumination(n, s, g)
    achromatic += mask * (stripes + fine)
    achromatic += (cover - cover * mask) * decoy
    achromatic += (torch.rand((n, s, s), generator=g) - 0.5) * (2 * NOISE)

    dark = _uniform(g, (n, 3), *COLOUR)
    shift = torch.where(_uniform(g, (n, 1), 0, 1) < 0.5, 1.0, -1.0).double()
    light_rgb = dark + shift * _uniform(g, (n, 1), *COLOUR_STEP) + _uniform(g, (n, 3), -0.1, 0.1)
    light_rgb = light_rgb.clamp(*COLOUR)
    dark, span = dark.float() * 255, (light_rgb - dark).float() * 255
    img = span[:, :, None, None] * t[:, None]
    img += dark[:, :, None, None]
    img += (achromatic * 255)[:, None]
    return img.clamp_(0.0, 255.0).round_().to(torch.uint8)


def _grating(
    n: int, s: int, period: tuple[float, float], vertical: torch.Tensor, g: torch.Generator
) -> torch.Tensor:
    """Unit-amplitude cosine gratings [n, s, s]: horizontal lines, or vertical where asked."""
    p = _uniform(g, (n, 1), *period)
    phase = _uniform(g, (n, 1), 0.0, 2 * math.pi)
    pos = torch.arange(s, dtype=torch.float64) + 0.5
    profile = torch.cos(2 * math.pi * pos / p + phase).float()  # [n, s], float64 trig
    rows = profile[:, :, None].expand(n, s, s)  # varies down the image: horizontal lines
    cols = profile[:, None, :].expand(n, s, s)
    return torch.where(vertical[:, None, None], cols, rows)


def _illumination(n: int, s: int, g: torch.Generator) -> torch.Tensor:
    """Smooth lighting: a sum of three separable low-frequency products, [n, s, s]."""
    pos = torch.arange(s, dtype=torch.float64) + 0.5
    field = torch.zeros((n, s, s))
    for _ in range(3):
        fx, fy = _uniform(g, (n, 1), 0.3, 1.5), _uniform(g, (n, 1), 0.3, 1.5)
        px, py = _uniform(g, (n, 1), 0, 2 * math.pi), _uniform(g, (n, 1), 0, 2 * math.pi)
        amp = _uniform(g, (n, 1, 1), -ILLUMINATION, ILLUMINATION).float()
        ux = torch.cos(2 * math.pi * fx * pos / s + px).float()
        uy = torch.cos(2 * math.pi * fy * pos / s + py).float()
        field = field + amp * (uy[:, :, None] * ux[:, None, :])
    return field


def _soft(distance: torch.Tensor) -> torch.Tensor:
    """Coverage from a signed distance in px (negative inside): a one-pixel antialiased edge."""
    return (0.5 - distance).clamp_(0.0, 1.0)


def _disc_mask(
    n: int,
    s: int,
    coords: torch.Tensor,
    g: torch.Generator,
    radius: tuple[float, float],
    centre: tuple[float, float],
) -> torch.Tensor:
    cx = (_uniform(g, (n, 1, 1), *centre) * s).float()
    cy = (_uniform(g, (n, 1, 1), *centre) * s).float()
    r = _uniform(g, (n, 1, 1), *radius).float()
    dx, dy = coords[None, None, :] - cx, coords[None, :, None] - cy
    return _soft(torch.sqrt(dx * dx + dy * dy) - r)


def _object_mask(
    shape: torch.Tensor, s: int, coords: torch.Tensor, g: torch.Generator
) -> torch.Tensor:
    """Coverage [n, s, s] of each image's object: its shape, placed, sized and rotated."""
    n = len(shape)
    cx = (_uniform(g, (n, 1, 1), 0.35, 0.65) * s).float()
    cy = (_uniform(g, (n, 1, 1), 0.35, 0.65) * s).float()
    r = (_uniform(g, (n, 1, 1), 0.2, 0.3) * s).float()
    angle = _uniform(g, (n, 1, 1), -math.radians(20), math.radians(20))
    cos, sin = torch.cos(angle).float(), torch.sin(angle).float()
    out = torch.empty((n, s, s))
    for i, name in enumerate(SHAPES):
        pick = (shape == i).nonzero()[:, 0]
        dx, dy = coords[None, None, :] - cx[pick], coords[None, :, None] - cy[pick]
        u = cos[pick] * dx + sin[pick] * dy  # object frame; v points down the image
        v = cos[pick] * dy - sin[pick] * dx
        out[pick] = _soft(_distance(name, u, v, r[pick]))
    return out


def _distance(name: str, u: torch.Tensor, v: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Signed distance (px, negative inside, exact enough near edges) from a shape of size r."""
    if name == "disc":
        return torch.sqrt(u * u + v * v) - r
    if name == "ring":
        return (torch.sqrt(u * u + v * v) - 0.75 * r).abs() - 0.3 * r
    au, av = u.abs(), v.abs()
    if name == "square":
        return torch.maximum(au, av) - 0.85 * r
    if name == "triangle":  # equilateral, apex up, inradius 0.6 r
        return torch.maximum(v, 0.8660254 * au - 0.5 * v) - 0.6 * r
    if name == "cross":  # arms 0.6 r wide, 2 r long
        arm = 0.3 * r
        return torch.minimum(torch.maximum(au - arm, av - r), torch.maximum(au - r, av - arm))
    raise ValueError(name)
