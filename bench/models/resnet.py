"""Residual networks (ResNet-18, ResNet-50) from timm's own ``ResNet`` class.

timm's ``ResNet`` takes ``layers`` (blocks per stage), ``channels`` and
``stem_width`` directly, so depth and width scaling need no fork of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from bench.models import Arch
from bench.schema import ModelConfig

if TYPE_CHECKING:
    from torch import nn


class ResNetConfig(ModelConfig):
    """ResNets: the residual block type."""

    block: Literal["basic", "bottleneck"]
    """basic: two 3x3 convs (ResNet-18/34); bottleneck: 1x1-3x3-1x1, expansion 4 (ResNet-50)."""


def build(arch: Arch, model: ResNetConfig, num_classes: int) -> nn.Module:
    """A ResNet with ``arch``'s blocks per stage, stage channels and stem width."""
    from timm.models.resnet import BasicBlock, Bottleneck, ResNet

    return ResNet(
        block={"basic": BasicBlock, "bottleneck": Bottleneck}[model.block],
        layers=list(arch.depths),
        channels=tuple(arch.widths),
        stem_width=arch.stem_width or arch.widths[0],
        num_classes=num_classes,
        drop_rate=model.drop_rate,
        drop_path_rate=model.drop_path_rate,
        zero_init_last=model.zero_init_last,
    )
