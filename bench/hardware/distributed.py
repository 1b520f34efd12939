"""One point on several processes with torchrun (DDP): NCCL on GPUs, gloo on CPU.

``torchrun --nproc_per_node=N -m bench.run ...`` starts N copies of the job.
Every rank plans the same point and draws the same global batches; each
trains on its slice (see :mod:`bench.data.batches`), gradients are averaged, and
rank 0 alone claims the point, evaluates, checkpoints, logs and writes
results. The global batch and the learning rate are the config's, so the
budget and its accounting do not depend on N.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from bench.errors import UserError
from bench.hardware.device import traits


@dataclass(frozen=True)
class Shard:
    """This process's share of every global batch (rank r of world)."""

    rank: int = 0
    world: int = 1

    def take(self, global_batch: int) -> slice:
        """The slice of a global batch that belongs to this rank."""
        per = global_batch // self.world
        return slice(self.rank * per, (self.rank + 1) * per)


@dataclass(frozen=True)
class Dist:
    """This process's place in the job."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 does all writing."""
        return self.rank == 0

    @property
    def shard(self) -> Shard:
        """This rank's slice of each global batch."""
        return Shard(self.rank, self.world)


def setup(device: torch.device) -> Dist:
    """Join the torchrun process group if there is one (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        if traits(device).cuda:
            torch.cuda.set_device(local)
        dist.init_process_group(backend=traits(device).dist_backend)
    return Dist(rank=rank, world=world, local_rank=local)


def check_batch(batch_size: int, d: Dist) -> None:
    """The global batch must split evenly over the ranks."""
    if batch_size % d.world:
        raise UserError(
            f"train.batch_size={batch_size} does not split over {d.world} processes; "
            f"use a multiple of {d.world}"
        )


def broadcast(obj: Any, d: Dist) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if d.world == 1:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def average(t: torch.Tensor, d: Dist) -> torch.Tensor:
    """The mean of ``t`` over every rank (``t`` itself on one process)."""
    if d.world == 1:
        return t
    t = t.clone()
    dist.all_reduce(t)
    return t / d.world


def barrier(d: Dist) -> None:
    """Wait for every rank."""
    if d.world > 1:
        dist.barrier()


def wrap(model: nn.Module, d: Dist, device: torch.device) -> nn.Module:
    """DistributedDataParallel around ``model`` when there are several ranks."""
    if d.world == 1:
        return model
    ids = [device.index] if traits(device).cuda else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def teardown(d: Dist) -> None:
    """Leave the process group."""
    if d.world > 1 and dist.is_initialized():
        dist.destroy_process_group()
