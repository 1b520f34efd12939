"""Model families: a YAML file in ``conf/model/`` plus one ``build`` function each.

Every family describes its baseline the same way, so rounding lives in one
place (:func:`scale_arch`) and a builder only ever sees concrete integers:

- ``depths``: blocks per stage, scaled by ``ceil(d * n)``
- ``widths``: channels per stage, scaled and rounded to a multiple of 8
- ``stem_width`` / ``head_width``: optional, scaled like ``widths``
- ``depth_mult`` / ``width_mult``: the baseline's own multipliers
  (``efficientnet_b0`` with 2.0 / 3.1 is B7)
- ``builder``: dotted path of ``build(arch, cfg, num_classes) -> nn.Module``
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import hydra.utils
from torch import nn

from bench.errors import UserError
from bench.scaling import Scale, linear_extra_blocks, round_depth, round_width


@dataclass(frozen=True)
class Arch:
    """A concrete, rounded network: what a builder builds and what MACs are counted on."""

    depths: tuple[int, ...]
    widths: tuple[int, ...]
    stem_width: int | None = None
    head_width: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain lists and ints, for JSON and CSV."""
        out = asdict(self)
        out["depths"] = list(self.depths)
        out["widths"] = list(self.widths)
        return out


def scale_arch(model: Mapping[str, Any], scale: Scale) -> Arch:
    """Apply a point's multipliers on top of the baseline's and round, as DESIGN.md says."""
    if len(model["depths"]) != len(model["widths"]):
        raise UserError(
            f"model {model.get('name')!r}: depths and widths must list one entry per stage; "
            f"got {len(model['depths'])} depths and {len(model['widths'])} widths"
        )
    d = float(model.get("depth_mult", 1.0)) * scale.d
    w = float(model.get("width_mult", 1.0)) * scale.w
    base_depths = [round_depth(n, d) for n in model["depths"]]
    if scale.extra:
        per_stage = scale.extra * sum(base_depths) / len(base_depths)
        extras = linear_extra_blocks(per_stage, len(base_depths))
        base_depths = [max(1, n + e) for n, e in zip(base_depths, extras, strict=True)]

    def width(c: int | None) -> int | None:
        return None if c is None else round_width(int(c), w)

    return Arch(
        depths=tuple(base_depths),
        widths=tuple(round_width(int(c), w) for c in model["widths"]),
        stem_width=width(model.get("stem_width")),
        head_width=width(model.get("head_width")),
    )


def build_model(model: Mapping[str, Any], arch: Arch, num_classes: int) -> nn.Module:
    """Build ``arch`` with the family's builder named in the model config."""
    try:
        builder = hydra.utils.get_method(model["builder"])
    except Exception as exc:  # Hydra wraps import errors in its own types
        raise UserError(
            f"model.builder={model.get('builder')!r} cannot be imported: {exc}"
        ) from exc
    return builder(arch, model, num_classes)
