"""Train one point for its budget, evaluate it, and survive being killed.

:func:`fit` is the loop, as short functions over one explicit :class:`State`.
It never waits on the device except every ``train.loss_check_every`` steps,
when it reads the running loss (to detect divergence and report progress).
A checkpoint (:mod:`bench.train.checkpoint`) is written atomically at the
end of every ``train.checkpoint_every`` epochs, between steps once
``train.checkpoint_seconds`` passed since the last one, and between steps
when a stop is requested (:mod:`bench.train.stop`), after which the loop
raises :class:`~bench.train.stop.Stopped`. Batches depend only on (seed,
epoch, position), so a resumed point continues mid-epoch with exactly the
batches it would have seen.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from bench.hardware.device import synchronize
from bench.scaling.budget import Budget
from bench.schema import Train
from bench.train import stop
from bench.train.checkpoint import load_checkpoint, save_checkpoint
from bench.train.outcome import Outcome
from bench.train.progress import Progress
from bench.train.state import State

log = logging.getLogger("bench.run")


@dataclass
class Setup:
    """How to run the loop: the recipe, the device and what to report to."""

    recipe: Train
    device: torch.device
    amp: bool = False
    checkpoint: Path | None = None
    progress: Progress = field(default_factory=lambda: Progress("", enabled=False))
    on_log: Callable[[dict[str, Any], int], None] = lambda data, step: None
    is_main: bool = True
    average: Callable[[torch.Tensor], torch.Tensor] = lambda t: t  # over DDP ranks
    before_write: Callable[[], None] = lambda: None  # raises if this worker lost its claim


def make_optimizer(model: nn.Module, recipe: Train) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum; no weight decay on biases and normalisation parameters."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": recipe.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.SGD(groups, lr=recipe.lr, momentum=recipe.momentum, nesterov=recipe.nesterov)


def lr_factor(step: int, budget: Budget) -> float:
    """Linear warmup to the peak, then cosine decay to zero over the remaining steps."""
    if step < budget.warmup_steps:
        return (step + 1) / budget.warmup_steps
    rest = max(1, budget.steps - budget.warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * (step - budget.warmup_steps) / rest))


def autocast_for(device: torch.device, amp: bool) -> Callable[[], AbstractContextManager]:
    """A context factory: bf16 autocast on ``device`` when ``amp``, else nothing."""
    if not amp:
        return nullcontext
    return lambda: torch.autocast(device.type, dtype=torch.bfloat16)


@torch.no_grad()
def evaluate(
    model: nn.Module, batches: Any, autocast: Callable, flip: bool = False
) -> tuple[float, float]:
    """Top-1 and top-5 accuracy (fractions) over every held-out batch; with ``flip``, of the
    mean of each image's and its mirror image's softmax (``eval.flip``)."""
    model.eval()
    correct1 = torch.zeros((), dtype=torch.long, device=batches.device)
    correct5 = torch.zeros((), dtype=torch.long, device=batches.device)
    seen = 0
    for x, y in batches.epoch(0):
        with autocast():
            scores = model(x)
            if flip:
                scores = scores.float().softmax(dim=1) + model(x.flip(-1)).float().softmax(dim=1)
        top = scores.topk(min(5, scores.shape[1]), dim=1).indices
        hits = top == y[:, None]
        correct1 += hits[:, 0].sum()
        correct5 += hits.any(dim=1).sum()
        seen += len(y)
    model.train()
    return correct1.item() / seen, correct5.item() / seen


def new_state(
    model: nn.Module, recipe: Train, budget: Budget, eval_model: nn.Module | None = None
) -> State:
    """A fresh state: the optimiser and the warmup + cosine schedule for ``budget``."""
    optimizer = make_optimizer(model, recipe)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, budget))
    return State(model, eval_model or model, optimizer, scheduler)


def fit(
    state: State, train_batches: Any, test_batches: Any, budget: Budget, setup: Setup
) -> Outcome:
    """Train to the end of the budget (or divergence), evaluating every ``eval_every`` epochs."""
    resumed = load_checkpoint(state, setup.checkpoint, setup.device)
    carried = state.train_seconds  # trained before a resume, in an earlier process
    per_epoch = budget.steps_per_epoch
    eval_every = setup.recipe.eval_every * per_epoch
    ckpt_every = setup.recipe.checkpoint_every * per_epoch
    autocast = autocast_for(setup.device, setup.amp)
    state.last_checkpoint = time.monotonic()
    state.model.train()
    setup.progress.start(budget, state.step)
    status, reason = "ok", None
    while state.step < budget.steps:
        epoch, offset = divmod(state.step, per_epoch)
        batches = train_batches.epoch(epoch, skip=offset)
        status, reason = train_epoch(state, batches, budget, setup, autocast, epoch)
        if status != "ok":
            break
        done = state.step == budget.steps
        if state.step % eval_every == 0 or done:
            evaluate_into_history(state, test_batches, budget, setup, autocast)
        if state.step % ckpt_every == 0 or done:
            checkpoint(state, setup)
    setup.progress.finish()
    return outcome_of(state, status, reason, budget, resumed, carried)


def checkpoint(state: State, setup: Setup) -> None:
    """Write a checkpoint (the main process does) and restart the clock."""
    if setup.is_main:
        setup.before_write()
        save_checkpoint(state, setup.checkpoint)
    state.last_checkpoint = time.monotonic()


def between_steps(state: State, setup: Setup) -> None:
    """Checkpoint when ``checkpoint_seconds`` passed; on a stop request, checkpoint and stop.

    Two reads of memory and the clock per step: nothing measurable next to a step.
    """
    if stop.requested.is_set():
        checkpoint(state, setup)
        log.warning("checkpoint at step %d on request; stopping", state.step)
        raise stop.Stopped(state.step)
    if time.monotonic() - state.last_checkpoint >= setup.recipe.checkpoint_seconds:
        checkpoint(state, setup)


def train_epoch(
    state: State, batches: Any, budget: Budget, setup: Setup, autocast: Callable, epoch: int
) -> tuple[str, str | None]:
    """Steps to the end of the epoch (or of the budget); ("diverged", why) on a non-finite loss."""
    device, check_every = setup.device, setup.recipe.loss_check_every
    smoothing, clip = setup.recipe.label_smoothing, setup.recipe.grad_clip
    loss_sum, count = torch.zeros((), device=device), 0
    window_start, window_images = time.perf_counter(), 0
    tic = time.perf_counter()
    try:
        for x, y in batches:
            with autocast():
                loss = F.cross_entropy(state.model(x), y, label_smoothing=smoothing)
            state.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(state.model.parameters(), clip)
            state.optimizer.step()
            state.scheduler.step()
            state.step += 1
            if "first_step" not in state.timings:  # it carries torch.compile's compilation
                synchronize(device)
                state.timings["first_step"] = time.perf_counter() - tic
            loss_sum += loss.detach().float()
            count += 1
            window_images += budget.batch_size
            if state.step % check_every == 0 or state.step == budget.steps:
                mean = setup.average(loss_sum / count).item()  # the one host sync
                if not math.isfinite(mean):
                    return "diverged", f"training loss became {mean} by step {state.step}"
                rate = window_images / max(time.perf_counter() - window_start, 1e-9)
                report(state, setup, epoch, mean, rate)
                loss_sum.zero_()
                count, window_start, window_images = 0, time.perf_counter(), 0
            if state.step % budget.steps_per_epoch == 0 or state.step == budget.steps:
                break
            between_steps(state, setup)
    finally:
        state.train_seconds += time.perf_counter() - tic
    return "ok", None


def report(state: State, setup: Setup, epoch: int, loss: float, rate: float) -> None:
    """A progress line and the W&B step metrics (counted as logging time)."""
    start = time.perf_counter()
    state.last_loss = loss
    lr = state.optimizer.param_groups[0]["lr"]
    setup.progress.update(state.step, epoch, loss, rate)
    setup.on_log({"train/loss": loss, "train/lr": lr, "train/images_per_sec": rate}, state.step)
    state.timings["log"] += time.perf_counter() - start


def evaluate_into_history(
    state: State, test_batches: Any, budget: Budget, setup: Setup, autocast: Callable
) -> None:
    """Evaluate (main process only) and append an entry to the history."""
    start = time.perf_counter()
    top1, top5 = None, None
    if setup.is_main:
        top1, top5 = evaluate(state.eval_model, test_batches, autocast)
    seconds = time.perf_counter() - start
    state.timings["eval"] += seconds
    entry = {
        "epoch": round(budget.epochs_at(state.step), 4),
        "step": state.step,
        "train_loss": state.last_loss,
        "top1": top1,
        "top5": top5,
        "lr": state.optimizer.param_groups[0]["lr"],
        "train_seconds": state.train_seconds,
        "eval_seconds": seconds,
    }
    state.history.append(entry)
    if setup.is_main:
        setup.progress.evaluated(entry["epoch"], top1, top5)
        setup.on_log({"eval/top1": top1, "eval/top5": top5, "epoch": entry["epoch"]}, state.step)


def outcome_of(
    state: State, status: str, reason: str | None, budget: Budget, resumed: int, carried: float
) -> Outcome:
    """The loop's result: the last evaluation, throughput, and where the time went."""
    last = state.history[-1] if state.history else {}
    seconds = state.train_seconds
    return Outcome(
        status=status,
        reason=reason,
        top1=last.get("top1") if status == "ok" else None,
        top5=last.get("top5") if status == "ok" else None,
        history=state.history,
        steps=state.step,
        images_per_sec=state.step * budget.batch_size / seconds if seconds else None,
        timings={"train": seconds, "train_this_process": seconds - carried, **state.timings},
        resumed_from_step=resumed,
        resumed_versions=state.resumed_versions,
    )
