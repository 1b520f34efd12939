"""Batch norm across processes: under DDP, every process normalises with the global batch.

Without it a point trained on N processes normalises each slice of the
global batch with that slice's statistics: a different experiment from one
process, though the budget says it is the same. On CUDA this is timm's
``convert_sync_batchnorm`` (torch's SyncBatchNorm, which knows timm's
``BatchNormAct2d``). torch's SyncBatchNorm runs on CUDA only, so on CPU
(gloo) each batch-norm module is given :class:`CrossProcessNorm`'s forward:
the per-channel sums, sums of squares and counts are summed over processes
(:class:`SumOverProcesses`, whose backward sums the gradients the same way),
which is the same math as SyncBatchNorm's. Module classes are swapped in place, so parameter
names, buffers and checkpoints stay those of the plain network. Which modules are batch norms is
torch's private base class, reached through :mod:`bench.hardware.torch_private`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from bench.hardware.torch_private import is_batch_norm


class SumOverProcesses(torch.autograd.Function):
    """All-reduce (sum) in the forward pass, and of the gradient in the backward pass."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        out = x.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        out = grad.clone()
        dist.all_reduce(out)
        return out


class CrossProcessNorm:
    """A mixin for batch-norm classes: training statistics summed over every process."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise with the global batch's statistics while training under DDP."""
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)  # type: ignore[misc]
        dims = [d for d in range(x.dim()) if d != 1]
        count = torch.full((1,), x.numel() / x.shape[1], dtype=x.dtype, device=x.device)
        local = torch.cat([x.sum(dims), (x * x).sum(dims), count])
        total = SumOverProcesses.apply(local)
        c = x.shape[1]
        n = total[-1]
        mean = total[:c] / n
        var = (total[c : 2 * c] / n - mean * mean).clamp_min(0)
        self._update_running(mean.detach(), var.detach() * n / (n - 1).clamp_min(1))
        shape = [1, c] + [1] * (x.dim() - 2)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        for tail in ("drop", "act"):  # timm's BatchNormAct2d: dropout, then its activation
            if hasattr(self, tail):
                y = getattr(self, tail)(y)
        return y

    @torch.no_grad()
    def _update_running(self, mean: torch.Tensor, unbiased_var: torch.Tensor) -> None:
        if not self.track_running_stats:
            return
        self.num_batches_tracked += 1
        momentum = (
            self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
        )
        self.running_mean.lerp_(mean, momentum)
        self.running_var.lerp_(unbiased_var, momentum)


def synchronise_batch_norm(model: nn.Module, cuda: bool) -> nn.Module:
    """``model`` with every batch norm synchronised across the process group."""
    if cuda:
        from timm.layers import convert_sync_batchnorm

        return convert_sync_batchnorm(model)
    for module in model.modules():
        if is_batch_norm(module):
            base = type(module)
            if not issubclass(base, CrossProcessNorm):
                module.__class__ = type(
                    f"CrossProcess{base.__name__}", (CrossProcessNorm, base), {}
                )
    return model
