"""How every figure looks and is written: rc params, palette, markers, sizes, the one saver.

Every figure of scalebench (the report's, the class activation maps, the
coefficient search's grid) is drawn under :data:`RC` and written by
:func:`save_figure`, so fonts, sizes and files agree. A strategy keeps one
colour and one marker in every figure (:func:`strategy_colors`), from
seaborn's colour-blind palette, and markers differ too, so curves survive
greyscale print. Sizes are a two-column paper's: one column (3.4 in) or two
(7.0 in), ``plot.width``.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bench.analysis.levels import STRATEGY_ORDER, strategy_order  # noqa: E402
from bench.store import atomic_write_bytes, atomic_write_text  # noqa: E402

# PDF font subsetting logs every table it prunes at INFO, which Hydra jobs show
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

WIDTHS = {"single": 3.4, "double": 7.0}  # inches: one or both columns of a two-column paper
HEIGHT = 2.6  # inches: a single-panel figure
PANELS_PER_ROW = {"single": 2, "double": 3}
FIGSIZE = (WIDTHS["single"], HEIGHT)
DPI = 200
FORMATS = ("png", "pdf", "svg")
Y_LABEL = "Top-1 accuracy (%)"
INK = "0.25"  # the one ink: captions, legend keys, flag overlays, rings; dark grey, not black
CAPTION_PT = 6.5

# Palette slots: the known strategies keep theirs whatever else is present; others take the rest.
PALETTE = sns.color_palette("colorblind", 10)
_KNOWN_SLOTS = {s: i for i, s in enumerate(STRATEGY_ORDER)}
_OTHER_SLOTS = (9, 7, 8)  # light blue, grey, yellow: after the seven distinct ones
MARKERS = ("o", "s", "^", "D", "v", "P", "*", "h", "<", ">", "p")
LINESTYLES = ("-", "--", ":", "-.")

RC = {
    **sns.axes_style("ticks"),
    "font.size": 7,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.titlesize": 7,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.color": "0.9",
    "pdf.fonttype": 42,  # TrueType: editable text, accepted by publishers
    "svg.fonttype": "none",  # text stays text: small, fast, editable
    "svg.hashsalt": "scalebench",  # identical inputs give identical SVGs
}


def figure_size(width: str = "single", rows: int = 1) -> tuple[float, float]:
    """(width, height) in inches: ``plot.width``'s column width, :data:`HEIGHT` per panel row
    (a little less for each further row: captions and legends are shared)."""
    return WIDTHS[width], HEIGHT + 1.6 * (rows - 1)


def _slots(strategies: Iterable[str]) -> dict[str, int]:
    """Known strategies keep their place in STRATEGY_ORDER; others follow in sorted order."""
    ordered = strategy_order(strategies)
    others = {
        s: len(_KNOWN_SLOTS) + i for i, s in enumerate(o for o in ordered if o not in _KNOWN_SLOTS)
    }
    return {s: _KNOWN_SLOTS[s] if s in _KNOWN_SLOTS else others[s] for s in ordered}


def strategy_colors(strategies: Iterable[str]) -> dict[str, tuple[float, float, float]]:
    """Colour per strategy: fixed for the known ones, then sorted others; same in every figure."""
    extra = len(_KNOWN_SLOTS)
    return {
        s: PALETTE[slot if slot < extra else _OTHER_SLOTS[(slot - extra) % len(_OTHER_SLOTS)]]
        for s, slot in _slots(strategies).items()
    }


def strategy_markers(strategies: Iterable[str]) -> dict[str, str]:
    """Marker per strategy (so curves survive greyscale print), assigned like the colours."""
    return {s: MARKERS[slot % len(MARKERS)] for s, slot in _slots(strategies).items()}


def linestyle(index: int) -> str:
    """The line style of the ``index``-th sweep of a combined figure."""
    return LINESTYLES[index % len(LINESTYLES)]


def new_figure(
    caption: str, show_caption: bool = True, width: str = "single", panels: int = 1, **kw: object
) -> tuple[Figure, list[Axes]]:
    """A figure of ``panels`` axes (call under :data:`RC`): side by side, up to
    :data:`PANELS_PER_ROW` a row, then further rows; the caption on top when
    ``show_caption`` (it is written beside the files in any case, :func:`save_figure`)."""
    cols = min(panels, PANELS_PER_ROW[width])
    rows = -(-panels // cols)
    size = figure_size(width, rows)
    fig, grid = plt.subplots(rows, cols, figsize=size, layout="constrained", squeeze=False, **kw)
    axes = list(grid.flat)
    for extra in axes[panels:]:
        extra.set_visible(False)
    if show_caption and caption:
        text = wrap_caption(caption, size[0])
        fig.suptitle(text, fontsize=CAPTION_PT, color=INK, linespacing=1.3)
    return fig, axes[:panels]


def wrap_caption(caption: str, inches: float) -> str:
    """The caption broken between its " · " parts so that no line runs wider than the
    figure (an estimate at :data:`CAPTION_PT`); a part longer than a line stays whole."""
    chars = int((inches - 0.1) / (0.5 * CAPTION_PT / 72))
    lines = []
    for line in caption.split("\n"):
        current = ""
        for part in line.split(" · "):
            joined = f"{current} · {part}" if current else part
            if current and len(joined) > chars:
                lines.append(current)
                joined = part
            current = joined
        lines.append(current)
    return "\n".join(lines)


def legend_columns(labels: Sequence[str], width: float) -> int:
    """The most columns (up to 4) whose estimated width fits ``width`` inches: long names (a
    searched ``compound_tiny_shapes``) get fewer columns instead of a clipped legend."""
    char, entry = 0.58 * 7 / 72, 0.32  # inches: a character at 7 pt; handle and spacing
    for ncols in range(min(4, len(labels)), 1, -1):
        columns = np.array_split(np.array([len(label) for label in labels]), ncols)  # as Legend
        if sum(entry + char * col.max() for col in columns) <= width:
            return ncols
    return 1


def save_figure(
    fig: Figure,
    out_dir: Path,
    name: str,
    formats: Sequence[str] = FORMATS,
    caption: str | None = None,
) -> list[Path]:
    """Write ``name.<format>`` for each of ``formats`` atomically, and ``caption`` as
    ``name.txt`` (journals want captions outside the image); returns every path written.

    The layout is settled first and then frozen (the layout engine removed),
    so all formats show the same layout; PNGs are :data:`DPI` dpi; PDF and SVG
    carry no creation date, so the same results give byte-identical files.
    """
    out_dir = Path(out_dir)
    paths = []
    with plt.rc_context(RC):
        for _ in range(2):  # constrained layout settles in two passes
            fig.draw_without_rendering()
        fig.set_layout_engine("none")
        for fmt in formats:
            buffer = io.BytesIO()
            metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt)
            fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
            paths.append(out_dir / f"{name}.{fmt}")
            atomic_write_bytes(paths[-1], buffer.getvalue())
    if caption is not None:
        paths.append(out_dir / f"{name}.txt")
        atomic_write_text(paths[-1], caption.strip() + "\n")
    return paths


def save_and_close(
    fig: Figure, out_dir: Path, name: str, formats: Sequence[str], caption: str | None
) -> list[Path]:
    """:func:`save_figure`, then close the figure even when writing failed."""
    try:
        return save_figure(fig, out_dir, name, formats, caption)
    finally:
        plt.close(fig)
