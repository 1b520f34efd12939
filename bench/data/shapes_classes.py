"""The ``shapes`` task's classes: which (shape, stripes, grating) triple each label draws.

Pure data, kept apart from the drawing (:mod:`bench.data.shapes_render`, which
needs torch) so that a ``data`` config is checked without loading torch; it is
part of the images' definition, so the dataset identity hashes it too.
"""

from __future__ import annotations

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


def class_names(num_classes: int) -> list[str]:
    """Readable names such as ``disc-hstripes-vfine``."""
    return [f"{s}-{m}stripes-{f}fine" for s, m, f in CLASSES[:num_classes]]
