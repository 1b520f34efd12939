"""ConvNeXt (Liu et al., 2022) from timm's own ``ConvNeXt`` class.

timm's ``ConvNeXt`` takes ``depths`` (blocks per stage) and ``dims`` (channels
per stage) directly, so depth and width scaling need no fork of it. Its stem
is a 4x4 stride-4 "patchify" conv straight to the first stage's channels, so
the stem has no width of its own; ``head_width`` is timm's optional MLP layer
in the head (``head_hidden_size``; none in ConvNeXt-T).

Each stage (``stages.{i}``) keeps its downsampling layer apart from its blocks
(``stages.{i}.blocks``), and every block in a stage is the same block, so
MACs can be counted on a two-block probe per stage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from bench.models import Arch
from bench.schema import ModelConfig

if TYPE_CHECKING:
    from torch import nn


class ConvNeXtConfig(ModelConfig):
    """ConvNeXt: the stage's depthwise kernel and layer-scale initialisation."""

    kernel_size: int = Field(ge=1)
    """Depthwise conv kernel of every block (7 in the paper)."""
    ls_init_value: float | None
    """Initial layer-scale gamma of every block; null: no layer scale."""

    @model_validator(mode="after")
    def _stem_is_first_stage(self) -> ConvNeXtConfig:
        if self.stem_width is not None:
            raise ValueError(
                "stem_width must be null: ConvNeXt's patchify stem outputs the first "
                f"stage's channels (widths[0]); got {self.stem_width}"
            )
        if len(self.depths) != 4:
            raise ValueError(f"ConvNeXt has 4 stages; got {len(self.depths)} depths")
        return self


def build(arch: Arch, model: ConvNeXtConfig, num_classes: int) -> nn.Module:
    """A ConvNeXt with ``arch``'s blocks and channels per stage (already rounded)."""
    from timm.models.convnext import ConvNeXt

    return ConvNeXt(
        num_classes=num_classes,
        depths=tuple(arch.depths),
        dims=tuple(arch.widths),
        kernel_sizes=model.kernel_size,
        ls_init_value=model.ls_init_value,
        head_hidden_size=arch.head_width,
        drop_rate=model.drop_rate,
        drop_path_rate=model.drop_path_rate,
    )
