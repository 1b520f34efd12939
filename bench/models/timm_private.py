"""Every use of timm's private modules, in one place: its EfficientNet builder and blocks.

scalebench's MBConv families (:mod:`bench.models.efficientnet`,
:mod:`bench.models.mobilenetv3`) hand timm's own ``EfficientNet`` and
``MobileNetV3`` classes block arguments decoded from timm's block strings,
so that a scaled network is exactly the one timm would build. timm offers
no public door to that decoder, to its channel rounding, or to the
squeeze-excitation block MobileNetV3 uses, or to the block classes whose
last norm :func:`bench.models.zero_init_last` zeroes: they live in
``timm.models._efficientnet_builder`` and ``_efficientnet_blocks``, which
timm may change in any release. pyproject.toml pins the timm range these
were checked with, and ``tests/models/test_timm_private.py`` exercises each
name as the families call it, so an upgrade that changes one fails there
with the installed version named.
"""

from __future__ import annotations

from importlib import metadata

BUILDER = "timm.models._efficientnet_builder"
BLOCKS = "timm.models._efficientnet_blocks"

try:
    from timm.models._efficientnet_blocks import (
        DepthwiseSeparableConv,
        EdgeResidual,
        InvertedResidual,
        SqueezeExcite,
    )
    from timm.models._efficientnet_builder import decode_arch_def, round_channels
except ImportError as exc:  # pragma: no cover - only with a timm that moved them
    raise ImportError(
        f"scalebench builds its MBConv networks with {BUILDER}.decode_arch_def and "
        f"round_channels and {BLOCKS}'s blocks, which the installed timm "
        f"{metadata.version('timm')} no longer provides ({exc}); install the timm range "
        "pinned in pyproject.toml"
    ) from exc

__all__ = [
    "DepthwiseSeparableConv",
    "EdgeResidual",
    "InvertedResidual",
    "SqueezeExcite",
    "decode_arch_def",
    "round_channels",
]
