"""MobileNetV3 (Howard et al., 2019) from timm's ``MobileNetV3`` class and block decoder.

The model config lists each stage as timm block strings with their repeats
but without channels (``ir_r1_k3_s2_e6``, ``ir_r2_k3_s1_e2.3``); the stage's
rounded width is appended as ``_c<c>``. Squeeze-excitation, stem, head and
activations are those of timm's ``mobilenetv3_large_100``, so the baseline
is that network.

Depth. A stage may mix block types (stage 3 of the large model is
``e6, e2.5, e2.3 x2``), while ``Arch`` gives one depth per stage: the total
number of blocks, ``ceil(d * n)`` of the stage's total, as timm's
``_scale_stage_depth`` computes it. :func:`split_repeats` spreads that total
over the block types as timm does (proportionally to their repeats, the last
type first, so the first, strided block is the last one to be repeated), and
every depth it is given is built exactly:

- at or above the baseline's depth this is timm's own allocation, so
  ``depth_mult=1.2 width_mult=1.5`` builds timm's ``mobilenetv3_large_150d``
  blocks (head aside, see below);
- below it, where timm's allocation overshoots (it gives every type at least
  one block), each type still keeps at least one block while the total
  allows; when the total is below the number of types, the first types are
  kept, one block each (the first carries the stage's stride and channels).

Every block after the first in a stage is therefore *not* the same block
(``e2.5`` then ``e2.3``), so the config sets ``stages: null`` and MACs are
counted on the whole network (fast: the network is small).

Width. ``widths`` include the final 1x1 ``cn`` stage (960), which timm scales
with its channel multiplier too; ``stem_width`` (16) and ``head_width``
(1280) are scaled and rounded like every width (multiple of 8, never more
than 10% below exact). timm keeps the head at 1280 at every multiplier and
fixes the stem at 16 below 0.75; this family scales both, as torchvision's
MobileNetV3 scales its last layer, so that width scaling widens every layer.
At width 1 both rules give the same network.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from pydantic import model_validator

from bench.models import Arch
from bench.schema import ModelConfig

if TYPE_CHECKING:
    from torch import nn

REPEATS = re.compile(r"r(\d+)")


def se_layer() -> Callable[..., nn.Module]:
    """MobileNetV3's squeeze-excitation: hard-sigmoid gate, ReLU inside, rounded reduction
    (timm's ``_gen_mobilenet_v3``)."""
    from torch import nn

    from bench.models.timm_private import SqueezeExcite, round_channels

    return partial(
        SqueezeExcite,
        gate_layer="hard_sigmoid",
        force_act_layer=nn.ReLU,
        rd_round_fn=round_channels,
    )


def _repeats(block: str) -> int:
    """The ``r<n>`` option of a timm block string."""
    found = [int(m.group(1)) for op in block.split("_")[1:] if (m := REPEATS.fullmatch(op))]
    if len(found) != 1:
        raise ValueError(f"block {block!r} must have one repeat option r<n>, e.g. ir_r2_k3_s1_e6")
    return found[0]


def _with(block: str, repeats: int, channels: int) -> str:
    """``block`` with its repeats replaced and the channels appended."""
    ops = [f"r{repeats}" if REPEATS.fullmatch(op) else op for op in block.split("_")]
    return "_".join([*ops, f"c{channels}"])


class MobileNetV3Config(ModelConfig):
    """MobileNetV3: timm block strings per stage (with repeats, without channels)."""

    blocks: list[list[str]]
    """Per stage, timm block strings with repeats and no channels: [ir_r1_k3_s2_e6, ...]."""
    act: str
    """Activation of blocks without their own (nre marks ReLU blocks), by timm name."""

    @model_validator(mode="after")
    def _blocks_match_depths(self) -> MobileNetV3Config:
        if self.stem_width is None or self.head_width is None:
            raise ValueError("stem_width and head_width must be set (16 and 1280 in the paper)")
        if len(self.blocks) != len(self.depths):
            raise ValueError(
                f"blocks must list one stage per depth; got {len(self.blocks)} stages for "
                f"{len(self.depths)} depths"
            )
        for i, (stage, depth) in enumerate(zip(self.blocks, self.depths, strict=True)):
            if not stage:
                raise ValueError(f"blocks[{i}] is empty; every stage needs a block")
            if any(re.fullmatch(r"c\d+", op) for b in stage for op in b.split("_")):
                raise ValueError(f"blocks[{i}] must not set channels (c<n>); widths does")
            total = sum(_repeats(b) for b in stage)
            if total != depth:
                raise ValueError(f"depths[{i}]={depth} but blocks[{i}] repeat {total} blocks")
        return self


def split_repeats(repeats: list[int], total: int) -> list[int]:
    """Blocks per block type for a stage of ``total`` blocks (0: the type is left out).

    timm's allocation (``_scale_stage_depth``): last type first, each gets its
    share of what is left, rounded, at least one. A type's share is capped so
    that the types before it keep one block each, which makes the sum exactly
    ``total``; the cap only binds below the baseline's depth, where timm's
    own allocation builds more blocks than asked.
    """
    types = len(repeats)
    if total < types:
        return [1 if k < total else 0 for k in range(types)]
    out = [0] * types
    left_repeats, left_total = sum(repeats), total
    for k in reversed(range(types)):
        share = max(1, round(repeats[k] / left_repeats * left_total))
        out[k] = min(share, left_total - k)
        left_repeats -= repeats[k]
        left_total -= out[k]
    return out


def arch_def(arch: Arch, model: MobileNetV3Config) -> list[list[str]]:
    """timm block strings with ``arch``'s blocks per stage and channels."""
    stages = []
    for stage, depth, width in zip(model.blocks, arch.depths, arch.widths, strict=True):
        counts = split_repeats([_repeats(b) for b in stage], depth)
        stages.append([_with(b, n, width) for b, n in zip(stage, counts, strict=True) if n])
    return stages


def build(arch: Arch, model: MobileNetV3Config, num_classes: int) -> nn.Module:
    """A MobileNetV3 with ``arch``'s blocks and channels per stage, stem and head."""
    from timm.layers import get_act_layer
    from timm.models.mobilenetv3 import MobileNetV3

    from bench.models.timm_private import decode_arch_def

    return MobileNetV3(
        block_args=decode_arch_def(arch_def(arch, model), depth_multiplier=1.0),
        num_classes=num_classes,
        stem_size=arch.stem_width,
        num_features=arch.head_width,
        round_chs_fn=int,  # channels arrive rounded; timm must not round them again
        act_layer=get_act_layer(model.act),
        se_layer=se_layer(),
        drop_rate=model.drop_rate,
        drop_path_rate=model.drop_path_rate,
    )
