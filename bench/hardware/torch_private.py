"""torch's private batch-norm base class, which synchronising batch norm on CPU relies on.

:mod:`bench.hardware.syncbn` gives every batch-norm module of a network the
cross-process forward by swapping its class for one that also derives from
``CrossProcessNorm``. What counts as a batch norm is torch's
``torch.nn.modules.batchnorm._BatchNorm``: the base of ``BatchNorm1d/2d/3d``,
their lazy forms, ``SyncBatchNorm`` and timm's ``BatchNormAct2d``, which torch
exports no public name for. The swapped forward reads the state that base
keeps (:data:`STATE`) and updates its running statistics as its own forward
does. ``tests/hardware/test_torch_private.py`` checks both against the
installed torch, so a release that changes them fails there.
"""

from __future__ import annotations

from torch import nn

MODULE = "torch.nn.modules.batchnorm"

try:
    from torch.nn.modules.batchnorm import _BatchNorm as BatchNormBase
except ImportError as exc:  # pragma: no cover - only with a torch that moved it
    import torch

    raise ImportError(
        f"scalebench synchronises batch norm through {MODULE}._BatchNorm, which the installed "
        f"torch {torch.__version__} no longer provides ({exc}); install the torch range pinned "
        "in pyproject.toml"
    ) from exc

# what CrossProcessNorm's forward reads and updates, as torch's batch norms keep it
STATE = ("training", "eps", "affine", "weight", "bias", "momentum", "track_running_stats",
         "num_batches_tracked", "running_mean", "running_var")  # fmt: skip


def is_batch_norm(module: nn.Module) -> bool:
    """Whether ``module`` is one of torch's batch norms (or a subclass, such as timm's)."""
    return isinstance(module, BatchNormBase)
