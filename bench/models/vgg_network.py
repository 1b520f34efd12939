"""The VGG network itself: stages of timm's ``ConvNormAct``, optionally residual.

Apart from :mod:`bench.models.vgg` (the family's config and builder), which
imports it only to build, so that checking a config loads no torch.
"""

from __future__ import annotations

import torch
from timm.layers import ConvNormAct
from torch import nn

from bench.models import Arch


class Residual(nn.Module):
    """``x + conv(x)``: one conv made residual, its norm zeroed by :meth:`zero_init_last`."""

    def __init__(self, conv: ConvNormAct) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x)

    def zero_init_last(self) -> None:
        nn.init.zeros_(self.conv.bn.weight)


class VGG(nn.Module):
    """``stages[i]`` holds only the convs of stage ``i``; pooling sits between stages."""

    def __init__(
        self, arch: Arch, num_classes: int, drop_rate: float = 0.0, residual: bool = False
    ) -> None:
        super().__init__()
        stages, in_ch = [], 3
        for n, width in zip(arch.depths, arch.widths, strict=True):
            convs: list[nn.Module] = []
            for _ in range(n):
                conv = ConvNormAct(in_ch, width, kernel_size=3, act_layer=nn.ReLU)
                convs.append(Residual(conv) if residual and in_ch == width else conv)
                in_ch = width
            stages.append(nn.Sequential(*convs))
        self.stages = nn.ModuleList(stages)
        self.pool = nn.MaxPool2d(2)
        head: list[nn.Module] = [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        if arch.head_width:
            head += [nn.Linear(in_ch, arch.head_width), nn.ReLU(inplace=True)]
            in_ch = arch.head_width
        head += [nn.Dropout(drop_rate), nn.Linear(in_ch, num_classes)]
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, stage in enumerate(self.stages):
            x = stage(self.pool(x) if i else x)
        return self.head(x)
