"""MACs through ptflops, checked against torch's FlopCounterMode, timm, and the paper."""

import pytest
import timm
import torch
from torch.utils.flop_counter import FlopCounterMode

from bench.models import build_model
from bench.scaling.complexity import Complexity, complexity, complexity_direct
from bench.scaling.rounding import scale_arch
from bench.scaling.strategies import Scale

# EfficientNet paper, Table 2: (multiply-adds in billions, parameters in millions)
PAPER = {
    "b0": (0.39, 5.3, 1.0, 1.0, 224),
    "b1": (0.70, 7.8, 1.0, 1.1, 240),
    "b2": (1.0, 9.2, 1.1, 1.2, 260),
    "b3": (1.8, 12, 1.2, 1.4, 300),
    "b4": (4.2, 19, 1.4, 1.8, 380),
    "b5": (9.9, 30, 1.6, 2.2, 456),
    "b6": (19, 43, 1.8, 2.6, 528),
    "b7": (37, 66, 2.0, 3.1, 600),
}


def _model(config, name, **mults):
    return config(f"model={name}", *[f"model.{k}={v}" for k, v in mults.items()]).model


@pytest.mark.parametrize("variant", list(PAPER))
def test_b_series_reproduces_table_2(config, variant):
    macs_b, params_m, w, d, res = PAPER[variant]
    cfg = _model(config, "efficientnet_b0", width_mult=w, depth_mult=d)
    c = complexity(cfg, scale_arch(cfg, Scale()), res, 1000)
    # timm's own models differ from the paper's table by up to 4% (B4: 4.39 B vs 4.2 B)
    assert c.macs / 1e9 == pytest.approx(macs_b, rel=0.06)
    assert c.params / 1e6 == pytest.approx(params_m, rel=0.05)
    with torch.device("meta"):
        ref = timm.create_model(f"efficientnet_{variant}")
    assert c.params == sum(p.numel() for p in ref.parameters())


@pytest.mark.parametrize(
    "model,scale,res",
    [
        ("efficientnet_b0", Scale(d=3.3, w=1.2), 200),
        ("resnet50", Scale(d=2.5), 160),
        ("resnet18", Scale(d=1.7, w=0.75), 96),
        ("vgg11", Scale(extra=1.5), 64),
        ("tiny", Scale(d=5.0, w=1.5), 48),
    ],
)
def test_probe_arithmetic_equals_counting_the_whole_network(config, model, scale, res):
    """Deep networks are counted from a two-blocks-per-stage probe; it must be exact."""
    cfg = _model(config, model)
    arch = scale_arch(cfg, scale)
    assert max(arch.depths) > 2
    assert complexity(cfg, arch, res, 100) == complexity_direct(cfg, arch, res, 100)


@pytest.mark.parametrize("model", ["tiny", "efficientnet_b0", "resnet18", "resnet50", "vgg11"])
def test_macs_agree_with_torch_flop_counter(config, model):
    cfg = _model(config, model)
    arch = scale_arch(cfg, Scale(d=1.5, w=1.25))
    res = 64
    c = complexity(cfg, arch, res, 10)
    with torch.device("meta"):
        net = build_model(cfg, arch, 10).eval()
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        net(torch.empty(1, 3, res, res, device="meta"))
    # FlopCounterMode counts 2 FLOPs per MAC and ignores biases, which ptflops adds
    biases = sum(m.out_features for m in net.modules() if isinstance(m, torch.nn.Linear))
    biases += 10 * 10  # generous bound for conv biases (SE layers) at this size
    assert fc.get_total_flops() / 2 == pytest.approx(c.macs, rel=2e-3, abs=biases)
    assert fc.get_total_flops() / 2 <= c.macs


def test_activations_are_conv_and_linear_outputs(config):
    cfg = _model(config, "vgg11")
    arch = scale_arch(cfg, Scale(w=0.25))
    res = 32
    c = complexity(cfg, arch, res, 10)
    # VGG-11 at 32 px, widths 16-32-64-128-128: conv outputs per stage, then the classifier
    w = arch.widths
    expected = w[0] * 32 * 32 + w[1] * 16 * 16 + 2 * w[2] * 8 * 8 + 2 * w[3] * 4 * 4
    expected += 2 * w[4] * 2 * 2 + 10
    assert c.activations == expected


def test_counts_are_real_forward_free_and_cached(config, monkeypatch):
    cfg = _model(config, "resnet18")
    arch = scale_arch(cfg, Scale(w=1.37))
    first = complexity(cfg, arch, 224, 1000)
    import bench.scaling.complexity as mod

    monkeypatch.setattr(mod, "_count", lambda *a, **k: pytest.fail("recounted a cached arch"))
    assert complexity(cfg, arch, 224, 1000) == first
    assert isinstance(first, Complexity)


def test_reference_complexities_from_design(config):
    cfg = _model(config, "resnet50")
    c = complexity(cfg, scale_arch(cfg, Scale()), 224, 1000)
    assert c.macs / 1e9 == pytest.approx(4.1, rel=0.01)
    assert c.params / 1e6 == pytest.approx(25.6, rel=0.01)


def test_counting_skips_initialisers_on_meta_tensors_only():
    from torch import nn

    from bench.scaling.complexity import _no_init_on_meta

    original = nn.init.normal_
    real = torch.zeros(64)
    with _no_init_on_meta():
        assert nn.init.normal_ is not original
        meta = torch.empty(4, device="meta")
        assert nn.init.normal_(meta) is meta
        nn.init.normal_(real)  # another thread's real network is still initialised
    assert real.abs().sum() > 0
    assert nn.init.normal_ is original
