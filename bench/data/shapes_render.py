"""How a ``shapes`` image is drawn: one object with stripes and a fine grating on clutter.

Kept apart from :mod:`bench.data.shapes` (the dataset: config, splits, cache)
because it is the definition of the images: both modules' source names the
generated data (the dataset identity hashes both), so editing either
never serves stale images.
"""

from __future__ import annotations

import math

import torch

from bench.data.shapes_classes import CLASSES, ORIENTATIONS, SHAPES

# Periods and contrasts are log-uniform (the stripes' contrast uniform) over wide ranges, so
# that how much of each factor survives a downsample grows smoothly with the side: at 40 px the
# coarsest gratings (period over 4.8 native px, two 40-px pixels) are intact, finer ones are
# attenuated and aliased, and below 2.4 px they vanish; 80 px keeps every one.
STRIPE_PERIOD = (9.0, 20.0)  # native px: legible at every side from 32 px up
FINE_PERIOD = (2.2, 8.0)  # native px
STRIPE_AMPLITUDE = (0.10, 0.25)
FINE_AMPLITUDE = (0.10, 0.30)
DISTRACTORS = 5
DISTRACTOR_RADIUS = (3.0, 8.0)
NOISE = 0.06  # half-width of the uniform pixel noise
ILLUMINATION = 0.02  # amplitude of each of the three low-frequency lighting terms
COLOUR = (0.22, 0.78)  # range of each channel of an image's two tint colours
COLOUR_STEP = (0.2, 0.4)  # grey step between them, so that shapes have contrast


def _uniform(g: torch.Generator, shape: tuple[int, ...], low: float, high: float) -> torch.Tensor:
    return torch.rand(shape, generator=g, dtype=torch.float64) * (high - low) + low


def _log_uniform(
    g: torch.Generator, shape: tuple[int, ...], low: float, high: float
) -> torch.Tensor:
    return torch.exp(_uniform(g, shape, math.log(low), math.log(high)))


def render(labels: torch.Tensor, s: int, g: torch.Generator) -> torch.Tensor:
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
    for _ in range(DISTRACTORS):
        blob = _disc_mask(n, s, coords, g, radius=DISTRACTOR_RADIUS, centre=(0.05, 0.95))
        t += blob * (_uniform(g, (n, 1, 1), 0.0, 1.0).float() - t)
    mask = _object_mask(shape, s, coords, g)
    t += mask * (t_obj.float()[:, None, None] - t)

    stripes = _grating(n, s, STRIPE_PERIOD, stripes_v, g)
    stripes = stripes * _uniform(g, (n, 1, 1), *STRIPE_AMPLITUDE).float()
    fine = _grating(n, s, FINE_PERIOD, fine_v, g)
    fine = fine * _log_uniform(g, (n, 1, 1), *FINE_AMPLITUDE).float()
    achromatic = _illumination(n, s, g)
    achromatic += mask * (stripes + fine)
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
    p = _log_uniform(g, (n, 1), *period)
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
