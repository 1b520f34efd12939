"""VGG networks: stages of 3x3 conv + BN + ReLU, max-pool between stages.

Built from timm's ``ConvNormAct`` block. The head is global average pooling
and one linear layer (optionally a hidden layer of ``head_width``) instead of
VGG's 4096-wide classifier, so that MACs and parameters sit in the
convolutions being scaled, as in the VGG-11 -> 19 progression.

``residual: true`` adds each conv's input to its output wherever the shapes
agree (every conv of a stage but its first), with the conv's norm zeroed at
initialisation so that it starts as the identity: a plain stack stops
training well a little beyond VGG-19's depth, and depth scaling stacks many
more convs than that (``depth`` at phi 2 quadruples them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.models import Arch
from bench.schema import ModelConfig

if TYPE_CHECKING:
    from torch import nn


class VGGConfig(ModelConfig):
    """VGGs: whether the convs after a stage's first are residual."""

    residual: bool = False
    """Add each conv's input to its output where shapes agree (every conv of a stage but its
    first), the conv starting as the identity: deep stacks then train as ResNets do."""


def build(arch: Arch, model: VGGConfig, num_classes: int) -> nn.Module:
    """A VGG with ``arch.depths[i]`` convs of ``arch.widths[i]`` channels in stage ``i``."""
    from bench.models.vgg_network import VGG

    return VGG(arch, num_classes, drop_rate=model.drop_rate, residual=model.residual)
