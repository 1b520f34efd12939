"""timm's private EfficientNet builder and blocks, exercised exactly as scalebench calls them
(bench.models.timm_private): a timm release that moves or changes one fails here, naming it."""

from __future__ import annotations

import pytest
import torch
from timm.models.efficientnet import EfficientNet
from torch import nn

from bench.models import timm_private
from bench.models.mobilenetv3 import se_layer
from bench.models.timm_private import (
    DepthwiseSeparableConv,
    EdgeResidual,
    InvertedResidual,
    SqueezeExcite,
    decode_arch_def,
    round_channels,
)

STAGES = [["ds_r1_k3_s1_c16"], ["ir_r2_k5_s2_e6_se0.25_c24"], ["er_r1_k3_s1_e4_c24"]]


def test_block_strings_with_repeats_and_channels_decode_to_one_block_each():
    decoded = decode_arch_def(STAGES, depth_multiplier=1.0)
    got = [[(b["block_type"], b["out_chs"], b["stride"]) for b in stage] for stage in decoded]
    assert got == [[("ds", 16, 1)], [("ir", 24, 2), ("ir", 24, 2)], [("er", 24, 1)]]
    (ir, _) = decoded[1]
    assert (ir["exp_ratio"], ir["dw_kernel_size"], ir["se_ratio"]) == (6.0, 5, 0.25)


def test_channels_round_to_a_multiple_of_8_never_more_than_10_percent_down():
    assert [round_channels(c) for c in (16, 17.6, 20, 100)] == [16, 16, 24, 104]


def test_mobilenetv3s_squeeze_excitation_is_relu_inside_a_hard_sigmoid_gate():
    se = se_layer()(72, rd_ratio=0.25, act_layer=nn.Hardswish)  # the block's own act is overridden
    assert isinstance(se, SqueezeExcite) and se.conv_reduce.out_channels == 24  # 18 rounded
    x = torch.randn(2, 72, 4, 4)
    squeezed = se.conv_expand(torch.relu(se.conv_reduce(x.mean((2, 3), keepdim=True))))
    torch.testing.assert_close(se(x), x * nn.functional.hardsigmoid(squeezed))


def test_the_blocks_whose_last_norm_is_zeroed_say_whether_they_skip_and_hold_that_norm():
    network = EfficientNet(decode_arch_def(STAGES), num_classes=3, stem_size=16, round_chs_fn=int)
    kinds = (DepthwiseSeparableConv, InvertedResidual, EdgeResidual)
    blocks = [(type(m).__name__, m.has_skip) for m in network.modules() if isinstance(m, kinds)]
    assert blocks == [("DepthwiseSeparableConv", True), ("InvertedResidual", False),
                      ("InvertedResidual", True), ("EdgeResidual", True)]  # fmt: skip
    last_norms = {InvertedResidual: "bn3", DepthwiseSeparableConv: "bn2", EdgeResidual: "bn2"}
    for module in network.modules():
        if isinstance(module, kinds):
            assert isinstance(getattr(module, last_norms[type(module)]), nn.BatchNorm2d)


def test_a_timm_without_them_is_reported_naming_its_version(monkeypatch):
    import importlib
    import sys

    monkeypatch.setitem(sys.modules, timm_private.BUILDER, None)  # as if timm moved it
    monkeypatch.delitem(sys.modules, timm_private.__name__)
    with pytest.raises(ImportError, match=r"installed timm \d.*pinned in pyproject.toml"):
        importlib.import_module(timm_private.__name__)
