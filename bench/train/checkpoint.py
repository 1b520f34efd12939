"""Checkpoints that are only data, written on time and on request, and set aside when bad.

A checkpoint is a dict of state dicts, ints, floats, strings and lists, so it
loads with ``torch.load(weights_only=True)``: a checkpoint copied from
someone else's runs folder can carry tensors, never code. One that cannot be
read (truncated by a crash, planted, from an incompatible version or network)
is renamed ``checkpoint.pt.corrupt-<time>`` with one warning line, and the
point trains from scratch rather than failing on every rerun.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from bench.provenance import versions
from bench.store import atomic_torch_save, set_aside

if TYPE_CHECKING:
    from bench.train.state import State

log = logging.getLogger("bench.run")
KEYS = ("model", "optimizer", "scheduler", "step", "history", "train_seconds")


def save_checkpoint(state: State, path: Path | None) -> None:
    """Write the state to ``path`` atomically (timed as ``checkpoint``)."""
    if path is None:
        return
    start = time.perf_counter()
    saved = {
        "model": unwrap(state.model).state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "scheduler": state.scheduler.state_dict(),
        "step": state.step,
        "history": state.history,
        "train_seconds": state.train_seconds,
        "versions": versions(),  # what wrote it (plain strings)
    }
    atomic_torch_save(saved, path)
    state.timings["checkpoint"] += time.perf_counter() - start


def load_checkpoint(state: State, path: Path | None, device: torch.device) -> int:
    """Continue from ``path`` when it holds a usable checkpoint: the step it resumes from.

    Nothing is loaded into ``state`` until the whole file was read and found
    to fit the model and optimiser, so a bad file leaves the fresh state as it was.
    """
    if path is None or not path.exists():
        return 0
    try:
        saved = torch.load(path, map_location=device, weights_only=True)
        problem = mismatch(saved, state)
    except Exception as exc:  # unpickling refused, truncated zip, bad header, ...
        problem = f"it cannot be read ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
    if problem:
        aside = set_aside(path)
        log.warning("checkpoint %s moved aside to %s: %s; training from scratch", path, aside.name,
                    problem)  # fmt: skip
        return 0
    unwrap(state.model).load_state_dict(saved["model"])
    state.optimizer.load_state_dict(saved["optimizer"])
    state.scheduler.load_state_dict(saved["scheduler"])
    state.step = int(saved["step"])
    state.history = list(saved["history"])
    state.train_seconds = float(saved["train_seconds"])
    state.resumed_versions = dict(saved.get("versions") or {})
    return state.step


def mismatch(saved: Any, state: State) -> str | None:
    """Why ``saved`` cannot continue ``state`` (None when it can)."""
    if not isinstance(saved, dict) or any(k not in saved for k in KEYS):
        return "it is not a scalebench checkpoint (keys missing)"
    own = unwrap(state.model).state_dict()
    theirs = saved["model"]
    if set(own) != set(theirs) or any(own[k].shape != theirs[k].shape for k in own):
        return "it belongs to another network (parameter names or shapes differ)"
    groups = saved["optimizer"].get("param_groups", [])
    if [len(g["params"]) for g in groups] != [
        len(g["params"]) for g in state.optimizer.param_groups
    ]:
        return "its optimiser state belongs to another network"
    return None


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module under DDP and torch.compile wrappers."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)
