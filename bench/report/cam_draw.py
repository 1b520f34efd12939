"""Drawing the class-activation-map grid: a column per network, a row per held-out image."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from bench.analysis.text import format_count
from bench.report.cam_maps import Column, Maps
from bench.report.style import INK, PALETTE, RC

_RIGHT, _WRONG = PALETTE[2], PALETTE[3]
CELL = 1.1  # inches per image


def title(column: Column) -> str:
    """Strategy and phi (and the seed when not 0), input side and MACs, top-1."""
    result = column.result
    if result is None:
        return f"{column.label} · phi={column.phi:g}"
    seed = f" · seed {result['seed']}" if result["seed"] else ""
    top1 = "—" if result.get("top1") is None else f"{100 * result['top1']:.1f}%"
    return (
        f"{column.label} · phi={result['phi']:g}{seed}\n"
        f"{result['resolution']} px · {format_count(result.get('macs'))} MACs\ntop-1 {top1}"
    )


def render(
    columns: list[Column],
    maps: list[Maps | str],
    classes: list[str],
    rows: dict[int, int],
    sweep: str,
) -> Figure:
    """Networks in columns, images in rows (``rows``: test index -> true class, shown on the
    left); an empty column says why in its first cell."""
    layers = ", ".join(sorted({m.layer for m in maps if isinstance(m, Maps)}))
    with plt.rc_context(RC):
        size = (CELL * len(columns) + 0.45, CELL * len(rows) + 0.8)
        fig, axes = plt.subplots(
            len(rows), len(columns), figsize=size, squeeze=False, layout="constrained"
        )
        text = f"{sweep} · Grad-CAM of the predicted class at {layers} (last stage)"
        fig.suptitle(text, fontsize=6.5, color=INK)
        for c, (column, cells) in enumerate(zip(columns, maps, strict=True)):
            axes[0, c].set_title(title(column), fontsize=6, linespacing=1.3)
            for r, truth in enumerate(rows.values()):
                _cell(axes[r, c], cells, r, truth, classes)
        for r, (i, truth) in enumerate(rows.items()):
            axes[r, 0].set_ylabel(f"{classes[truth]}\ntest #{i}", fontsize=5.5, color=INK)
    return fig


def _cell(ax: plt.Axes, cells: Maps | str, row: int, truth: int, classes: list[str]) -> None:
    """One image under its heat map, the predicted class below it in green ✓ or red ✗."""
    from pytorch_grad_cam.utils.image import show_cam_on_image

    ax.set(xticks=[], yticks=[])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if isinstance(cells, str):
        if row == 0:
            why = textwrap.fill(cells, 18)
            ax.text(0.5, 0.5, why, ha="center", va="center", color=INK, fontsize=6)
        return
    ax.imshow(show_cam_on_image(cells.images[row], cells.cams[row], use_rgb=True))
    predicted = cells.predicted[row]
    right = predicted == truth
    label = f"{'✓' if right else '✗'} {classes[predicted]}"
    ax.set_xlabel(label, fontsize=5.5, color=_RIGHT if right else _WRONG, labelpad=1.5)
