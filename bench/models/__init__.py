"""Model families: a YAML file in ``conf/model/`` plus one ``build`` function each.

Every family describes its baseline the same way (:class:`bench.schema.ModelConfig`),
so rounding lives in one place (:func:`bench.scaling.rounding.scale_arch`) and a
builder only ever sees concrete integers (:class:`Arch`):

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

import inspect
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from bench.config.checks import import_path
from bench.errors import UserError
from bench.schema import ModelConfig

if TYPE_CHECKING:
    from torch import nn

Builder = Callable[..., "nn.Module"]


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
    schema = _model_hint(builder_of(str(node["builder"])), str(node["builder"]))
    if isinstance(schema, type) and issubclass(schema, ModelConfig):
        return schema
    return ModelConfig


def _model_hint(builder: Builder, path: str) -> Any:
    """The type the builder's ``model`` parameter declares, evaluating that hint alone: a
    family whose module imports torch and timm only inside ``build`` is then checked
    without loading them (its return hint, ``nn.Module``, is never evaluated)."""
    parameter = inspect.signature(builder).parameters.get("model")
    hint = parameter.annotation if parameter is not None else None
    if not isinstance(hint, str):
        return hint
    try:
        return eval(hint, getattr(builder, "__globals__", {}))  # noqa: S307 - the user's module
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        message = f"model.builder={path!r}: its model hint {hint!r} is unknown ({reason})"
        raise UserError(message) from None


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
    from torch import nn

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
