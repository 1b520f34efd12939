"""MBConv networks (EfficientNet-B0 and the CPU-cheap ``tiny``) from timm's EfficientNet builder.

The model config lists one block template per stage in timm's string notation
without repeats and channels (``ir_k5_s2_e6_se0.25``); the rounded ``depths``
and ``widths`` are appended as ``_r<n>_c<c>``, so timm decodes exactly the
network its own ``efficientnet_b<k>`` would build at the same multipliers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import model_validator

from bench.models import Arch
from bench.schema import ModelConfig

if TYPE_CHECKING:
    from torch import nn


class EfficientNetConfig(ModelConfig):
    """MBConv families: one timm block template per stage and the activation."""

    blocks: list[str]
    """One timm block string per stage, without repeats and channels: ir_k5_s2_e6_se0.25."""
    act: str
    """Activation, by timm name (swish, relu, hard_swish)."""

    @model_validator(mode="after")
    def _one_block_per_stage(self) -> EfficientNetConfig:
        if len(self.blocks) != len(self.depths):
            raise ValueError(
                f"blocks must list one template per stage; got {len(self.blocks)} for "
                f"{len(self.depths)} stages"
            )
        return self


def build(arch: Arch, model: EfficientNetConfig, num_classes: int) -> nn.Module:
    """An EfficientNet with ``arch``'s already-rounded depths and channels."""
    from timm.layers import get_act_layer
    from timm.models.efficientnet import EfficientNet

    from bench.models.timm_private import decode_arch_def

    arch_def = [
        [f"{block}_r{n}_c{c}"]
        for block, n, c in zip(model.blocks, arch.depths, arch.widths, strict=True)
    ]
    return EfficientNet(
        block_args=decode_arch_def(arch_def, depth_multiplier=1.0),
        num_classes=num_classes,
        num_features=arch.head_width,
        stem_size=arch.stem_width,
        round_chs_fn=int,  # channels arrive rounded; timm must not round them again
        act_layer=get_act_layer(model.act),
        drop_rate=model.drop_rate,
        drop_path_rate=model.drop_path_rate,
    )
