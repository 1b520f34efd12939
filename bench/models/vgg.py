"""Plain VGG networks: stages of 3x3 conv + BN + ReLU, max-pool between stages.

Built from timm's ``ConvNormAct`` block. The head is global average pooling
and one linear layer (optionally a hidden layer of ``head_width``) instead of
VGG's 4096-wide classifier, so that MACs and parameters sit in the
convolutions being scaled, as in the VGG-11 -> 19 progression.
"""

from __future__ import annotations

import torch
from timm.layers import ConvNormAct
from torch import nn

from bench.models import Arch
from bench.schema import ModelConfig


class VGG(nn.Module):
    """``stages[i]`` holds only the convs of stage ``i``; pooling sits between stages."""

    def __init__(self, arch: Arch, num_classes: int, drop_rate: float = 0.0) -> None:
        super().__init__()
        stages, in_ch = [], 3
        for n, width in zip(arch.depths, arch.widths, strict=True):
            convs = []
            for _ in range(n):
                convs.append(ConvNormAct(in_ch, width, kernel_size=3, act_layer=nn.ReLU))
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


def build(arch: Arch, model: ModelConfig, num_classes: int) -> nn.Module:
    """A VGG with ``arch.depths[i]`` convs of ``arch.widths[i]`` channels in stage ``i``."""
    return VGG(arch, num_classes, drop_rate=model.drop_rate)
