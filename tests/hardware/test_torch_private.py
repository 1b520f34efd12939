"""torch's private batch-norm base (bench.hardware.torch_private), as the CPU synchronisation of
batch norm uses it: every batch norm is found by it and keeps the state the swapped forward reads,
and that forward on one process is torch's own. A torch release that changes either fails here."""

from __future__ import annotations

import copy

import pytest
import torch
from timm.layers import BatchNormAct2d
from torch import nn

from bench.hardware import syncbn
from bench.hardware.syncbn import CrossProcessNorm, synchronise_batch_norm
from bench.hardware.torch_private import STATE, is_batch_norm

KINDS = [nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, BatchNormAct2d]


@pytest.mark.parametrize("kind", KINDS, ids=[k.__name__ for k in KINDS])
def test_every_batch_norm_is_found_and_keeps_the_state_the_swapped_forward_reads(kind):
    module = kind(4)
    assert is_batch_norm(module)
    assert [name for name in STATE if not hasattr(module, name)] == []


@pytest.mark.parametrize("other", [nn.LayerNorm(4), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4)])
def test_other_norms_are_not_batch_norms(other):
    assert not is_batch_norm(other)


@pytest.mark.parametrize("momentum", [0.1, None], ids=["momentum", "cumulative"])
@pytest.mark.parametrize("kind", [nn.BatchNorm2d, BatchNormAct2d], ids=lambda k: k.__name__)
def test_the_swapped_forward_on_one_process_is_torchs_own(monkeypatch, kind, momentum):
    """Summing over one process is the identity: output, gradients and running statistics must be
    those of torch's own batch norm, which reads and updates the same state."""
    monkeypatch.setattr(syncbn.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(syncbn.dist, "get_world_size", lambda: 2)  # take the cross-process path
    reduced: list[torch.Tensor] = []
    monkeypatch.setattr(syncbn.dist, "all_reduce", reduced.append)  # one process's sums
    torch.manual_seed(0)
    plain = kind(3, momentum=momentum)
    nn.init.normal_(plain.weight)
    nn.init.normal_(plain.bias)
    swapped = synchronise_batch_norm(nn.Sequential(copy.deepcopy(plain)), cuda=False)[0]
    assert isinstance(swapped, CrossProcessNorm) and isinstance(swapped, kind)
    for _ in range(2):  # a second step: num_batches_tracked and the cumulative average
        x = torch.randn(8, 3, 5, 5)
        mine, other = x.clone().requires_grad_(), x.clone().requires_grad_()
        ours, theirs = swapped(mine), plain(other)
        torch.testing.assert_close(ours, theirs)
        ours.square().sum().backward()
        theirs.square().sum().backward()
        torch.testing.assert_close(mine.grad, other.grad)
    assert len(reduced) == 4  # each step's statistics forward and their gradient backward
    torch.testing.assert_close(swapped.weight.grad, plain.weight.grad)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        torch.testing.assert_close(getattr(swapped, name), getattr(plain, name))
    assert swapped.state_dict().keys() == plain.state_dict().keys()  # checkpoints unchanged
