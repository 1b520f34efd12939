"""The keys every model family and every data kind share: the bases their own configs extend.

A family's builder declares its own keys on a subclass of :class:`ModelConfig`
(the type of its ``model`` parameter), a data kind's loader on a subclass of
:class:`DataConfig`; :mod:`bench.schema` re-exports both, where users'
families name them (``bench.schema.ModelConfig``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from bench.schema_types import Fraction, Section


class ModelConfig(Section):
    """``model.*`` keys every family has; a family's builder declares its own on top.

    A builder is ``build(arch, model: <its config class>, num_classes)``; the
    type of its ``model`` parameter, a subclass of this one, is its schema.
    """

    name: str
    """The family preset's name (folder and W&B tag)."""
    builder: str
    """Dotted path of the family's `build(arch, model, num_classes)`."""
    stages: str | None = None
    """Module of stage i, e.g. "blocks.{i}" ({n} is i + 1); its children are the blocks.
    Counting then builds at most two blocks per stage; null counts the whole network."""
    depth_mult: float = Field(1.0, gt=0)
    """The baseline's own depth multiplier (efficientnet_b0 with 3.1 is B7's depth)."""
    width_mult: float = Field(1.0, gt=0)
    """The baseline's own width multiplier."""
    depths: list[Annotated[int, Field(ge=1)]]
    """Blocks per stage, scaled as ceil(d * n)."""
    widths: list[Annotated[int, Field(ge=1)]]
    """Channels per stage, scaled and rounded to a multiple of 8."""
    stem_width: int | None = Field(None, ge=1)
    """Stem channels (scaled like widths); null: the family's own rule."""
    head_width: int | None = Field(None, ge=1)
    """Channels of the layer before the classifier; null: none or the family's own."""
    drop_rate: Fraction = 0.0
    """Dropout before the classifier."""
    drop_path_rate: Fraction = 0.0
    """Stochastic depth: drop rate of the last block (linear in block index)."""
    zero_init_last: bool = True
    """Zero the last norm layer of every residual branch, so each block starts as the
    identity; without it the deep points of a sweep can fail to train (docs/design.md)."""
    min_resolution: int = Field(8, ge=1)
    """Smallest input side the network takes (its total stride)."""

    @model_validator(mode="after")
    def _one_entry_per_stage(self) -> ModelConfig:
        if len(self.depths) != len(self.widths):
            raise ValueError(
                f"depths and widths must list one entry per stage; got {len(self.depths)} "
                f"depths and {len(self.widths)} widths"
            )
        return self


class DataConfig(Section):
    """``data.*`` keys every dataset kind has; each kind's loader declares its own."""

    name: str
    """The dataset preset's name (folder and W&B tag)."""
    kind: str
    """Which loader reads it: shapes, cifar10, cifar100, imagefolder."""
    num_classes: int | None = Field(None, ge=2)
    """Number of classes; null: the loader's count (class folders for imagefolder)."""
    resolution: int = Field(ge=8)
    """The baseline's input side in pixels."""
    augment: Literal["pad_crop", "random_resized_crop"] = "pad_crop"
    """pad_crop (small images: reflect-pad 1/8, random crop, flip; evaluation sees the whole
    image) or random_resized_crop (ImageNet's: a random 8-100 % crop, resized, and flip;
    evaluation resizes to resolution / crop_pct and takes the centre crop)."""
    crop_pct: float = Field(0.875, gt=0, le=1)
    """random_resized_crop's evaluation crop: the centre crop_pct of the resized image."""
    val_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """Part of the training split held out for validation (never trained on), the same images
    for every point and seed; each point then records val_top1. 0: no validation split."""
