"""ConvNeXt-T and MobileNetV3-Large: baselines equal timm's, scaled networks are what Arch says.

Baselines are compared with timm's own models, parameter by parameter and by
MACs counted the same way (ptflops' aten backend on the meta device), so a
wrong builder fails here. Every strategy's phi 1..3 is planned through the
same path as ``python -m bench.plan``.
"""

from __future__ import annotations

import pytest
import timm
import torch
from ptflops import get_model_complexity_info
from timm.models._efficientnet_builder import _scale_stage_depth
from torch import nn

from bench.config.compose import compose_config
from bench.config.validate import validate
from bench.errors import UserError
from bench.models import build_model
from bench.models.convnext import ConvNeXtConfig
from bench.models.mobilenetv3 import MobileNetV3Config, split_repeats
from bench.plan import plan_point
from bench.scaling.complexity import complexity, complexity_direct
from bench.scaling.rounding import scale_arch
from bench.scaling.strategies import Scale, round_width

# our preset -> (timm's reference, its config class, MACs and parameters at 224 px as published)
FAMILIES = {
    "convnext_tiny": ("convnext_tiny", ConvNeXtConfig, 4.47e9, 28.6e6),
    "mobilenetv3_large": ("mobilenetv3_large_100", MobileNetV3Config, 217e6, 5.48e6),
}
STRATEGIES = ["depth", "width", "resolution", "compound", "linear"]


def _config(family: str, *overrides: str):
    return validate(compose_config([f"model={family}", "data=imagenet", *overrides]))


def _meta(family: str, scale: Scale, num_classes: int = 1000, **mults: float):
    model = _config(family, *[f"model.{k}={v}" for k, v in mults.items()]).model
    arch = scale_arch(model, scale)
    with torch.device("meta"):
        return build_model(model, arch, num_classes), arch, model


def _timm_macs(net: nn.Module, resolution: int = 224) -> int:
    macs, _ = get_model_complexity_info(
        net,
        (3, resolution, resolution),
        as_strings=False,
        backend="aten",
        print_per_layer_stat=False,
        verbose=False,
        input_constructor=lambda shape: {"x": torch.empty(1, *shape, device="meta")},
    )
    return int(macs)


def _shapes(net: nn.Module) -> list[tuple[int, ...]]:
    return [tuple(p.shape) for p in net.parameters()]


@pytest.mark.parametrize("family", FAMILIES)
def test_config_validates_through_the_schema(family):
    cfg = _config(family)
    assert type(cfg.model) is FAMILIES[family][1]
    assert cfg.model.name == family
    assert cfg.data.resolution == 224


@pytest.mark.parametrize(
    ("family", "override", "message"),
    [
        ("convnext_tiny", "model.stem_width=64", "stem_width must be null"),
        ("convnext_tiny", "model.depths=[3,3,9]", "depths and widths"),
        ("mobilenetv3_large", "model.depths=[1,2,3,4,2,3,2]", "depths[6]=2"),
        ("mobilenetv3_large", "model.head_width=null", "head_width must be set"),
        ("mobilenetv3_large", "model.blocks.0=[ds_r1_k3_s1_e1_c16]", "must not set channels"),
    ],
)
def test_bad_family_keys_are_one_line_errors(family, override, message):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _config(family, override)


@pytest.mark.parametrize("family", FAMILIES)
def test_baseline_is_timms_network(family):
    reference, _, paper_macs, paper_params = FAMILIES[family]
    ours, arch, model = _meta(family, Scale())
    rates = {"drop_rate": model.drop_rate, "drop_path_rate": model.drop_path_rate}
    with torch.device("meta"):
        ref = timm.create_model(reference, pretrained=False, num_classes=1000, **rates).eval()
    assert _shapes(ours) == _shapes(ref)
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in ref.modules()]
    cost = complexity_direct(model, arch, 224, 1000)
    assert cost.params == sum(p.numel() for p in ref.parameters())
    assert cost.macs == _timm_macs(ref)
    assert complexity(model, arch, 224, 1000) == cost
    assert cost.macs == pytest.approx(paper_macs, rel=0.01)
    assert cost.params == pytest.approx(paper_params, rel=0.01)


def test_mobilenetv3_depth_and_width_give_timms_150d_blocks():
    """timm's depth_multiplier=1.2 channel_multiplier=1.5; only the head differs (documented)."""
    ours, arch, _ = _meta("mobilenetv3_large", Scale(), depth_mult=1.2, width_mult=1.5)
    with torch.device("meta"):
        ref = timm.create_model("mobilenetv3_large_150d")
    assert arch.depths == (2, 3, 4, 5, 3, 4, 2)
    assert _shapes(ours.blocks) == _shapes(ref.blocks)
    assert ours.conv_stem.weight.shape == ref.conv_stem.weight.shape
    assert ref.conv_head.out_channels == 1280  # timm never scales the head of MobileNetV3
    assert ours.conv_head.out_channels == round_width(1280, 1.5) == 1920


@pytest.mark.parametrize("repeats", [[1], [1, 1], [3], [1, 1, 2]])
def test_split_repeats_builds_every_total_and_is_timms_when_growing(repeats):
    base = sum(repeats)
    for total in range(1, 8 * base + 1):
        split = split_repeats(repeats, total)
        assert sum(split) == total
        assert split[0] >= 1  # the strided first block is never dropped
        if total >= base:
            timm_split = _scale_stage_depth(list(range(len(repeats))), repeats, total / base)
            assert split == [timm_split.count(k) for k in range(len(repeats))]


def test_split_repeats_below_the_number_of_block_types_keeps_the_first():
    assert split_repeats([1, 1, 2], 3) == [1, 1, 1]  # timm builds 4 here
    assert split_repeats([1, 1, 2], 2) == [1, 1, 0]
    assert split_repeats([1, 1, 2], 1) == [1, 0, 0]


def _stage_layout(family: str, net: nn.Module) -> tuple[list[int], list[int]]:
    """Blocks per stage and each stage's output channels, read off the built network."""
    stages = [s.blocks for s in net.stages] if family == "convnext_tiny" else list(net.blocks)
    last = [[m for m in s.modules() if isinstance(m, nn.Conv2d | nn.Linear)][-1] for s in stages]
    widths = [m.out_channels if isinstance(m, nn.Conv2d) else m.out_features for m in last]
    return [len(s) for s in stages], widths


SCALES = [Scale(d=0.34), Scale(d=2.3), Scale(w=0.6), Scale(w=2.1), Scale(d=1.4, w=1.3, extra=0.5)]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("scale", SCALES, ids=str)
def test_builder_builds_exactly_the_rounded_arch(family, scale):
    net, arch, _ = _meta(family, scale)
    depths, widths = _stage_layout(family, net)
    assert tuple(depths) == arch.depths
    assert tuple(widths) == arch.widths
    if family == "mobilenetv3_large":
        assert net.conv_stem.out_channels == arch.stem_width
        assert net.conv_head.out_channels == arch.head_width


@pytest.mark.parametrize("family", FAMILIES)
def test_counting_by_stage_probe_matches_counting_whole(family):
    """ConvNeXt is counted on a two-block probe, MobileNetV3 whole: both must be exact."""
    model = _config(family).model
    arch = scale_arch(model, Scale(d=2.3, w=1.2))
    assert complexity(model, arch, 160, 10) == complexity_direct(model, arch, 160, 10)


@pytest.mark.parametrize(
    ("family", "scale"),
    [
        ("convnext_tiny", Scale(w=2**0.5)),
        ("mobilenetv3_large", Scale(w=2**0.5)),
        ("mobilenetv3_large", Scale(d=5 / 3)),  # depths 2-4-5-7-4-5-2, as depth plans phi=1
    ],
    ids=["convnext-width", "mobilenetv3-width", "mobilenetv3-depth"],
)
def test_scaled_network_runs_forward_on_cpu(family, scale):
    """Real weights on CPU: the built network takes an image and gives num_classes logits."""
    model = _config(family).model
    torch.manual_seed(0)
    net = build_model(model, scale_arch(model, scale), 10).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("phi", [1, 2, 3])
def test_every_strategy_plans_on_budget(family, strategy, phi):
    """Every point lands within plan.tolerance (5%) of baseline MACs * 2**phi; none is off."""
    base = plan_point(_config(family, f"strategy={strategy}", "phi=0"))
    assert base.candidate.resolution == 224
    assert base.candidate.arch == scale_arch(_config(family).model, Scale())
    assert base.candidate.cost.macs == pytest.approx(FAMILIES[family][2], rel=0.01)
    point = plan_point(_config(family, f"strategy={strategy}", f"phi={phi}"), check=False)
    assert point.within_tolerance, point.note
    assert point.macs_ratio == pytest.approx(1.0, abs=0.05)
    assert point.target_macs == base.candidate.cost.macs * 2**phi
