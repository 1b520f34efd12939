"""Residual networks (ResNet-18, ResNet-50) from timm's own ``ResNet`` class.

timm's ``ResNet`` takes ``layers`` (blocks per stage), ``channels`` and
``stem_width`` directly, so depth and width scaling need no fork of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from timm.models.resnet import BasicBlock, Bottleneck, ResNet
from torch import nn

from bench.errors import UserError
from bench.models import Arch

BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


def build(arch: Arch, cfg: Mapping[str, Any], num_classes: int) -> nn.Module:
    """A ResNet with ``arch``'s blocks per stage, stage channels and stem width."""
    block = cfg.get("block", "basic")
    if block not in BLOCKS:
        raise UserError(f"model.block={block!r} is not a ResNet block; use one of {list(BLOCKS)}")
    return ResNet(
        block=BLOCKS[block],
        layers=list(arch.depths),
        channels=tuple(arch.widths),
        stem_width=arch.stem_width or arch.widths[0],
        num_classes=num_classes,
        drop_rate=float(cfg.get("drop_rate", 0.0)),
        drop_path_rate=float(cfg.get("drop_path_rate", 0.0)),
    )
