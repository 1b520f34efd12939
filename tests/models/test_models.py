"""The families build what timm (and torchvision) build, at any multiplier."""

import pytest
import timm
import torch
import torchvision

from bench.models import build_model
from bench.scaling.rounding import scale_arch
from bench.scaling.strategies import Scale

# (width_mult, depth_mult) of timm's efficientnet_b1 ... b7, as in the paper
B_SERIES = {
    "b1": (1.0, 1.1),
    "b2": (1.1, 1.2),
    "b3": (1.2, 1.4),
    "b4": (1.4, 1.8),
    "b5": (1.6, 2.2),
    "b6": (1.8, 2.6),
    "b7": (2.0, 3.1),
}


def _shapes(net):
    return [tuple(p.shape) for p in net.parameters()]


def _build(config, model, scale=None, num_classes=1000, **mults):
    cfg = config(f"model={model}", *[f"model.{k}={v}" for k, v in mults.items()]).model
    arch = scale_arch(cfg, scale or Scale())
    with torch.device("meta"):
        return build_model(cfg, arch, num_classes), arch


@pytest.mark.parametrize("variant", ["b0", *B_SERIES])
def test_efficientnet_b_series_matches_timm(config, variant):
    w, d = B_SERIES.get(variant, (1.0, 1.0))
    net, _ = _build(config, "efficientnet_b0", width_mult=w, depth_mult=d)
    with torch.device("meta"):
        ref = timm.create_model(f"efficientnet_{variant}")
    assert _shapes(net) == _shapes(ref)
    assert [type(m).__name__ for m in net.modules()] == [type(m).__name__ for m in ref.modules()]


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_resnets_match_timm(config, name):
    net, _ = _build(config, name)
    with torch.device("meta"):
        ref = timm.create_model(name)
    assert _shapes(net) == _shapes(ref)


def test_vgg11_convs_match_torchvision_vgg11_bn(config):
    net, arch = _build(config, "vgg11")
    ref = torchvision.models.vgg11_bn(weights=None).features
    # torchvision's convs carry a bias before batch norm; ours (timm's ConvNormAct) do not
    kernels = [s for s in _shapes(net.stages) if len(s) == 4]
    assert kernels == [s for s in _shapes(ref) if len(s) == 4]
    assert len(kernels) == 8
    assert arch.depths == (1, 1, 2, 2, 2)


def test_tiny_runs_forward_on_cpu(config):
    cfg = config("model=tiny").model
    net = build_model(cfg, scale_arch(cfg, Scale()), 10)
    out = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10)


@pytest.mark.parametrize("model", ["tiny", "efficientnet_b0", "resnet18", "resnet50", "vgg11"])
def test_depth_and_width_scaling_change_the_network(config, model):
    _, base = _build(config, model)
    _, deep = _build(config, model, Scale(d=2.0))
    _, wide = _build(config, model, Scale(w=2.0))
    assert deep.depths == tuple(2 * n for n in base.depths)
    assert deep.widths == base.widths
    assert wide.widths == tuple(2 * c for c in base.widths)
    assert wide.depths == base.depths


def test_linear_scaling_adds_same_blocks_per_stage(config):
    _, base = _build(config, "vgg11")
    _, plus_one = _build(config, "vgg11", Scale(extra=5 / 8))  # 5 extra blocks over 8
    assert [b - a for a, b in zip(base.depths, plus_one.depths, strict=True)] == [1, 1, 1, 1, 1]
    assert plus_one.widths == base.widths


def test_bad_builder_is_a_user_error(config):
    from bench.errors import UserError

    with pytest.raises(
        UserError, match="model.builder='bench.models.nope.build' cannot be imported"
    ):
        config("model=tiny", "model.builder=bench.models.nope.build")


def test_family_keys_are_checked_by_the_builders_config(config):
    from bench.errors import UserError
    from bench.models import model_schema
    from bench.models.efficientnet import EfficientNetConfig
    from bench.models.vgg import VGGConfig

    assert model_schema({"builder": "bench.models.efficientnet.build"}) is EfficientNetConfig
    assert model_schema({"builder": "bench.models.vgg.build"}) is VGGConfig
    with pytest.raises(UserError, match="model.block='wide' must be 'basic' or 'bottleneck'"):
        config("model=resnet18", "model.block=wide")
    with pytest.raises(UserError, match="blocks must list one template per stage"):
        config("model=tiny", "model.blocks=[ds_k3_s1_e1]")
    with pytest.raises(UserError, match="model.act is not a key of model"):
        config("model=vgg11", "+model.act=relu")


def _real_with(config, model, zero_init_last, keys=()):
    cfg = config(f"model={model}", f"model.zero_init_last={zero_init_last}", *keys).model
    torch.manual_seed(0)
    return build_model(cfg, scale_arch(cfg, Scale()), 10).eval()


def _in_channels(block):
    return next(m for m in block.modules() if isinstance(m, torch.nn.Conv2d)).in_channels


def _residual_blocks(net):
    from timm.models._efficientnet_blocks import (
        DepthwiseSeparableConv,
        EdgeResidual,
        InvertedResidual,
    )
    from timm.models.resnet import BasicBlock

    from bench.models.vgg_network import Residual

    mbconvs = InvertedResidual | DepthwiseSeparableConv | EdgeResidual
    for m in net.modules():
        mbconv = isinstance(m, mbconvs) and m.has_skip
        if mbconv or isinstance(m, Residual) or (isinstance(m, BasicBlock) and not m.downsample):
            yield m


FUSED = ("model.blocks=[er_k3_s1_e1,er_k3_s2_e2,er_k3_s2_e2,er_k3_s1_e2]", "model.act=relu")


@pytest.mark.parametrize(
    "model", ["tiny", "mobilenetv3_large", "resnet18", "vgg_tiny", ("tiny", *FUSED)]
)
def test_zero_init_last_starts_every_residual_block_as_the_identity(config, model):
    model, *keys = (model,) if isinstance(model, str) else model
    net = _real_with(config, model, True, keys)
    blocks = list(_residual_blocks(net))
    assert blocks
    for block in blocks:
        x = torch.randn(2, _in_channels(block), 8, 8)
        if type(block).__name__ == "BasicBlock":
            x = x.relu()  # its input is a ReLU's output; its own last act is a ReLU
        assert torch.allclose(block(x), x, atol=1e-6)
    plain = _real_with(config, model, False, keys)
    block = next(iter(_residual_blocks(plain)))
    x = torch.randn(2, _in_channels(block), 8, 8).relu()
    assert not torch.allclose(block(x), x, atol=1e-3)


def test_a_plain_vgg_has_no_residual_convs_and_the_residual_one_skips_all_but_the_first(config):
    from bench.models.vgg_network import Residual

    plain = _real_with(config, "vgg11", True)
    assert not any(isinstance(m, Residual) for m in plain.modules())
    net = _real_with(config, "vgg_tiny", True)
    assert [len(stage) for stage in net.stages] == [1, 2, 2, 3]  # 0.45 x (2, 3, 4, 5), ceil
    for stage in net.stages:
        assert not isinstance(stage[0], Residual)  # it changes the channels
        assert all(isinstance(conv, Residual) for conv in stage[1:])
