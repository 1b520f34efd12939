"""Model families: a YAML file in ``conf/model/`` plus one ``build`` function each.

Every family describes its baseline the same way (:class:`bench.schema.ModelConfig`),
so rounding lives in one place (:func:`scale_arch`) and a builder only ever
sees concrete integers:

- ``depths``: blocks per stage, scaled by ``ceil(d * n)``
- ``widths``: channels per stage, scaled and rounded to a multiple of 8
- ``stem_width`` / ``head_width``: optional, scaled like ``widths``
- ``depth_mult`` / ``width_mult``: the baseline's own multipliers
  (``efficientnet_b0`` with 2.0 / 3.1 is B7)
- ``builder``: dotted path of ``build(arch, model, num_classes) -> nn.Module``

A family with keys of its own declares them in a subclass of ModelConfig and
gives its builder's ``model`` parameter that type: the annotation is the
family's schema (:func:`model_schema`), so a user's family is one YAML and
one function in their own package.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from torch import nn

from bench.config.checks import import_path
from bench.errors import UserError
from bench.models.rounding import Scale, linear_extra_blocks, round_depth, round_width
from bench.schema import ModelConfig

Builder = Callable[..., nn.Module]


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


def scale_arch(model: ModelConfig, scale: Scale) -> Arch:
    """Apply a point's multipliers on top of the baseline's and round (docs/design.md)."""
    d = model.depth_mult * scale.d
    w = model.width_mult * scale.w
    base_depths = [round_depth(n, d) for n in model.depths]
    if scale.extra:
        per_stage = scale.extra * sum(base_depths) / len(base_depths)
        extras = linear_extra_blocks(per_stage, len(base_depths))
        base_depths = [max(1, n + e) for n, e in zip(base_depths, extras, strict=True)]

    def width(c: int | None) -> int | None:
        return None if c is None else round_width(int(c), w)

    return Arch(
        depths=tuple(base_depths),
        widths=tuple(round_width(int(c), w) for c in model.widths),
        stem_width=width(model.stem_width),
        head_width=width(model.head_width),
    )


def builder_of(path: str) -> Builder:
    """The function a ``model.builder`` path names."""
    builder = import_path(path, "model.builder")
    if not callable(builder):
        raise UserError(f"model.builder={path!r} is not a function")
    return builder


def model_schema(node: Mapping[str, Any]) -> type[ModelConfig]:
    """The config class of the family a model node names: its builder's ``model`` type."""
    if not node.get("builder"):
        raise UserError("model.builder is not set; it names the family's build function")
    hints = typing.get_type_hints(builder_of(str(node["builder"])))
    schema = hints.get("model")
    if isinstance(schema, type) and issubclass(schema, ModelConfig):
        return schema
    return ModelConfig


def build_model(model: ModelConfig, arch: Arch, num_classes: int) -> nn.Module:
    """Build ``arch`` with the family's builder named in the model config."""
    network = builder_of(model.builder)(arch, model, num_classes)
    if model.zero_init_last:
        zero_init_last(network)
    return network


def zero_init_last(network: nn.Module) -> int:
    """Zero the last norm layer of every residual branch; the number of branches changed.

    Each block then starts as the identity, and a network twice as deep starts
    with the same signal scale as the baseline (Goyal et al. 2017). timm's
    ResNet blocks do this themselves (their ``zero_init_last``); its MBConv,
    fused-MBConv and depthwise-separable blocks have no such method, so their
    norm before the residual add (``bn3``, ``bn2``, ``bn2``) is zeroed here.
    """
    from bench.models.timm_private import (
        DepthwiseSeparableConv,
        EdgeResidual,
        InvertedResidual,
    )

    changed = 0
    for block in network.modules():
        if hasattr(block, "zero_init_last") and callable(block.zero_init_last):
            block.zero_init_last()
        elif isinstance(block, InvertedResidual) and block.has_skip:
            nn.init.zeros_(block.bn3.weight)
        elif isinstance(block, (DepthwiseSeparableConv, EdgeResidual)) and block.has_skip:
            nn.init.zeros_(block.bn2.weight)
        else:
            continue
        changed += 1
    return changed
