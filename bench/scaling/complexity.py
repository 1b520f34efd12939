"""Model complexity: MACs (ptflops), parameters and activations, counted without real compute.

Models are built on the ``meta`` device, so a count costs one shape-only
forward pass and no memory. Counts are cached by the rounded architecture and input size: the
solver's candidates repeat, because the rounded architecture space is discrete.

MACs use ptflops' ``aten`` backend, passed explicitly. It intercepts
convolution, linear and matmul at the ATen level, so subclasses such as
timm's ``Conv2dSame`` and ``BatchNormAct2d`` are counted like their parents,
and it counts what the papers count (B0 = 0.39 G). The ``pytorch`` backend
also charges normalisation, activations and pooling, but only for exact
module types it knows, which makes totals depend on how a family spells its
layers. Activations follow pycls: output elements of every conv and linear.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from ptflops import get_model_complexity_info
from ptflops.aten_engine import FlopCounterMode as AtenCounter
from torch import nn

from bench.cache import LRU
from bench.models import Arch, build_model
from bench.schema import ModelConfig

PTFLOPS_BACKEND = "aten"


@dataclass(frozen=True)
class Complexity:
    """Cost of one forward pass on one image."""

    macs: int
    params: int
    activations: int


def _family_key(model: ModelConfig) -> str:
    """What, besides the arch, decides the network: the model config minus its multipliers."""
    return model.model_copy(update={"depth_mult": 1.0, "width_mult": 1.0}).model_dump_json()


_models = LRU(8)  # meta networks, by (family, arch, classes)
_probes = LRU(4096)  # counts of probe networks, by (family, probe arch, resolution, classes)


def _meta_model(family: str, model: ModelConfig, arch: Arch, num_classes: int) -> nn.Module:
    def make() -> nn.Module:
        with torch.device("meta"), _no_init_on_meta():
            return build_model(model, arch, num_classes).eval()

    return _models.get((family, arch, num_classes), make)


@contextmanager
def _no_init_on_meta() -> Iterator[None]:
    """Skip ``torch.nn.init`` on meta tensors while building a network to count.

    A meta tensor has no values to initialise, but each initialiser still
    runs its Python decomposition through the meta device mode: most of the
    time it takes to build a timm EfficientNet on meta. Real tensors, built
    by any other thread meanwhile, are initialised as usual.
    """
    originals = {n: getattr(nn.init, n) for n in nn.init.__all__ if n.endswith("_")}

    def skipping(original: Any) -> Any:
        def init(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            return tensor if tensor.is_meta else original(tensor, *args, **kwargs)

        return init

    for n, original in originals.items():
        setattr(nn.init, n, skipping(original))
    try:
        yield
    finally:
        for n, original in originals.items():
            setattr(nn.init, n, original)


@contextmanager
def activation_counter(net: nn.Module) -> Iterator[list[int]]:
    """Count output elements of every conv and linear layer (pycls's activations).

    Yields a one-element list holding the running total for the first image
    of each batch passed through ``net`` while the context is open.
    """
    total = [0]

    def hook(_mod: nn.Module, _inp: Any, out: torch.Tensor) -> None:
        total[0] += out[0].numel()

    handles = [
        m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)
    ]
    try:
        yield total
    finally:
        for h in handles:
            h.remove()


@contextmanager
def _shape_only_batch_norm() -> Iterator[None]:
    """Skip batch norm on meta tensors while counting.

    Batch norm neither changes shapes nor counts as MACs, but its meta kernel
    is a slow Python decomposition: about 60% of a meta forward pass.
    """
    original = F.batch_norm

    def batch_norm(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return x if x.is_meta else original(x, *args, **kwargs)

    F.batch_norm = batch_norm
    try:
        yield
    finally:
        F.batch_norm = original


def _count(
    net: nn.Module, resolution: int, parts: Mapping[str, nn.Module]
) -> dict[str, Complexity]:
    """Count ``net`` and, separately, each module in ``parts`` in one meta forward pass.

    MACs come from ptflops' aten engine (the counter behind its
    ``backend="aten"``), whose per-module bookkeeping attributes them to the
    labelled parts; activations are attributed the same way.
    """
    counter = AtenCounter(output_params={"print_params": {}, "serialize_params": {}})
    acts: dict[str, int] = dict.fromkeys(["Global", *parts], 0)

    def act_hook(_mod: nn.Module, _inp: Any, out: torch.Tensor) -> None:
        for label in counter.parents:
            acts[label] += out[0].numel()

    handles = [
        m.register_forward_hook(act_hook)
        for m in net.modules()
        if isinstance(m, nn.Conv2d | nn.Linear)
    ]
    for label, mod in parts.items():
        handles.append(mod.register_forward_pre_hook(counter.enter_module(label)))
        handles.append(mod.register_forward_hook(counter.exit_module(label)))
    try:
        with _shape_only_batch_norm(), torch.no_grad(), counter:
            net(torch.empty(1, 3, resolution, resolution, device="meta"))
    finally:
        for h in handles:
            h.remove()
    out = {"Global": Complexity(counter.complexity, _params(net), acts["Global"])}
    for label, mod in parts.items():
        out[label] = Complexity(sum(counter.flop_counts[label].values()), _params(mod), acts[label])
    return out


def _params(mod: nn.Module) -> int:
    return sum(p.numel() for p in mod.parameters())


def complexity_direct(
    model: ModelConfig, arch: Arch, resolution: int, num_classes: int
) -> Complexity:
    """Count the whole network through ptflops' public API (``backend="aten"``).

    The reference that :func:`complexity` is tested against; slower for deep nets.
    """
    net = _meta_model(_family_key(model), model, arch, num_classes)
    with _shape_only_batch_norm(), activation_counter(net) as acts:
        macs, params = get_model_complexity_info(
            net,
            (3, resolution, resolution),
            as_strings=False,
            backend=PTFLOPS_BACKEND,
            print_per_layer_stat=False,
            verbose=False,
            input_constructor=lambda shape: {"x": torch.empty(1, *shape, device="meta")},
        )
    if macs is None:  # ptflops returns (None, None) instead of raising
        raise RuntimeError(f"ptflops could not count {arch} at {resolution} px")
    return Complexity(macs=int(macs), params=int(params), activations=int(acts[0]))


def complexity(model: ModelConfig, arch: Arch, resolution: int, num_classes: int) -> Complexity:
    """MACs, parameters and activations of ``arch`` at ``resolution`` px (cached).

    Deep networks are not built whole. Every block after the first in a stage
    is the same block (true of every family here; ``model.stages`` names the
    stage modules), so cost is affine in the blocks per stage: a *probe* with
    at most two blocks per stage is counted once, with the second block of
    each stage counted separately, and any depth follows by arithmetic. A
    model config without ``stages`` is always counted whole.
    """
    family = _family_key(model)
    stages = model.stages
    probe = arch
    if stages:
        probe = Arch(
            tuple(min(n, 2) for n in arch.depths), arch.widths, arch.stem_width, arch.head_width
        )

    def count_probe() -> dict[str, Complexity]:
        net = _meta_model(family, model, probe, num_classes)
        parts = {}
        if stages:
            for i, n in enumerate(probe.depths):
                if n == 2:  # the second block of stage i stands for every later one
                    parts[str(i)] = net.get_submodule(stages.format(i=i, n=i + 1))[1]
        return _count(net, int(resolution), parts)

    counts = _probes.get((family, probe, int(resolution), int(num_classes)), count_probe)
    total = counts["Global"]
    macs, params, acts = total.macs, total.params, total.activations
    for i, n in enumerate(arch.depths):
        if n > probe.depths[i]:
            block = counts[str(i)]
            more = n - probe.depths[i]
            macs += more * block.macs
            params += more * block.params
            acts += more * block.activations
    return Complexity(macs=int(macs), params=int(params), activations=int(acts))
