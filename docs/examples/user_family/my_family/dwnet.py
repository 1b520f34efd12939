"""DWNet: MobileNet-v1-style stages of depthwise-separable convolutions, built from timm blocks.

A model family for scalebench is this: a config class for the keys the
family adds (if any), and one ``build(arch, model, num_classes)`` that builds
exactly the rounded depths and widths in ``arch``. Depth, width, resolution,
compound and linear scaling then work on it unchanged.

torch and timm are imported inside ``build``, as scalebench's own families do:
checking a config imports this module for its config class, and a typo in a key
is then answered in about a second instead of after torch loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.models import Arch
from bench.schema import ModelConfig

if TYPE_CHECKING:
    from torch import nn


class DWNetConfig(ModelConfig):
    """DWNet's own key: the depthwise kernel size."""

    kernel_size: int
    """Side of every depthwise kernel (3 or 5)."""


def build(arch: Arch, model: DWNetConfig, num_classes: int) -> nn.Module:
    """A stem, then stage i: ``arch.depths[i]`` separable blocks of ``arch.widths[i]`` channels,
    the first of each stage after the first with stride 2; pooling and a linear classifier."""
    from timm.layers import ConvNormAct, SelectAdaptivePool2d
    from timm.models._efficientnet_blocks import DepthwiseSeparableConv
    from torch import nn

    stem = arch.stem_width or arch.widths[0]
    layers: list[nn.Module] = [ConvNormAct(3, stem, 3, stride=2)]
    stages, channels = [], stem
    for i, (depth, width) in enumerate(zip(arch.depths, arch.widths, strict=True)):
        blocks = []
        for j in range(depth):
            stride = 2 if i > 0 and j == 0 else 1
            blocks.append(DepthwiseSeparableConv(channels, width, model.kernel_size, stride))
            channels = width
        stages.append(nn.Sequential(*blocks))
    net = nn.Sequential(
        *layers,
        nn.Sequential(*stages),
        SelectAdaptivePool2d(pool_type="avg", flatten=True),
        nn.Dropout(model.drop_rate),
        nn.Linear(channels, num_classes),
    )
    return net
