"""Train one point for its budget, evaluate it, and survive being killed.

The loop never waits on the device except every ``train.loss_check_every``
steps, when it reads the running loss (to detect divergence and report
progress). A checkpoint is written atomically at the end of every
``train.checkpoint_every`` epochs and at least every ten minutes; since batch
order depends only on (seed, epoch), a resumed point continues from its last
checkpoint with exactly the batches it would have seen.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from bench.budget import Budget
from bench.progress import Progress
from bench.results import atomic_torch_save

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 600.0


@dataclass
class Outcome:
    """What training a point produced."""

    status: str  # ok | diverged
    reason: str | None
    top1: float | None
    top5: float | None
    history: list[dict[str, Any]]
    steps_done: int
    images_per_sec: float | None
    timings: dict[str, float] = field(default_factory=dict)
    resumed_from_step: int = 0


def make_optimizer(model: nn.Module, train: Mapping[str, Any]) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum; no weight decay on biases and normalisation parameters."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": float(train["weight_decay"])},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.SGD(
        groups,
        lr=float(train["lr"]),
        momentum=float(train["momentum"]),
        nesterov=bool(train["nesterov"]),
    )


def lr_factor(step: int, budget: Budget) -> float:
    """Linear warmup to the peak, then cosine decay to zero over the remaining steps."""
    if step < budget.warmup_steps:
        return (step + 1) / budget.warmup_steps
    rest = max(1, budget.steps - budget.warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * (step - budget.warmup_steps) / rest))


@torch.no_grad()
def evaluate(model: nn.Module, batches: Any, autocast: Any) -> tuple[float, float]:
    """Top-1 and top-5 accuracy (fractions) over every held-out batch."""
    model.eval()
    correct1 = torch.zeros((), dtype=torch.long, device=batches.device)
    correct5 = torch.zeros((), dtype=torch.long, device=batches.device)
    seen = 0
    for x, y in batches.epoch(0):
        with autocast():
            logits = model(x)
        k = min(5, logits.shape[1])
        top = logits.topk(k, dim=1).indices
        hits = top == y[:, None]
        correct1 += hits[:, 0].sum()
        correct5 += hits.any(dim=1).sum()
        seen += len(y)
    model.train()
    return correct1.item() / seen, correct5.item() / seen


class Trainer:
    """Runs the optimisation loop of one point; the caller owns planning and recording."""

    def __init__(
        self,
        model: nn.Module,
        train_batches: Any,
        test_batches: Any,
        budget: Budget,
        train: Mapping[str, Any],
        device: torch.device,
        checkpoint: Path | None,
        progress: Progress,
        on_log: Callable[[dict[str, Any], int], None] = lambda data, step: None,
        is_main: bool = True,
        eval_model: nn.Module | None = None,
    ) -> None:
        self.model = model
        self.eval_model = eval_model or model
        self.train_batches = train_batches
        self.test_batches = test_batches
        self.budget = budget
        self.cfg = train
        self.device = device
        self.checkpoint = checkpoint
        self.progress = progress
        self.on_log = on_log
        self.is_main = is_main
        self.optimizer = make_optimizer(model, train)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: lr_factor(step, budget)
        )
        use_amp = _auto(train.get("amp", "auto"), device.type == "cuda")
        dtype = torch.bfloat16
        self.autocast = (
            (lambda: torch.autocast(device.type, dtype=dtype)) if use_amp else nullcontext
        )
        self.label_smoothing = float(train.get("label_smoothing", 0.0))
        self.history: list[dict[str, Any]] = []
        self.step = 0
        self.train_seconds = 0.0
        self.timings: dict[str, float] = {"eval": 0.0, "checkpoint": 0.0, "log": 0.0}

    # -- checkpoints ------------------------------------------------------------------
    def resume(self) -> int:
        """Load the last checkpoint if there is one; returns the step it resumes from."""
        if not self.checkpoint or not self.checkpoint.exists():
            return 0
        state = torch.load(self.checkpoint, map_location=self.device, weights_only=False)
        _unwrap(self.model).load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = int(state["step"])
        self.history = list(state["history"])
        self.train_seconds = float(state["train_seconds"])
        log.info("resumed from %s at step %d/%d", self.checkpoint, self.step, self.budget.steps)
        return self.step

    def save(self) -> None:
        """Write the checkpoint atomically (main process only)."""
        if not self.checkpoint or not self.is_main:
            return
        start = time.perf_counter()
        state = {
            "model": _unwrap(self.model).state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            "history": self.history,
            "train_seconds": self.train_seconds,
        }
        atomic_torch_save(state, self.checkpoint)
        self.timings["checkpoint"] += time.perf_counter() - start

    # -- the loop ---------------------------------------------------------------------
    def fit(self) -> Outcome:
        """Train to the end of the budget (or divergence); evaluate every ``eval_every`` epochs."""
        resumed = self.resume()
        carried_seconds = self.train_seconds  # trained before a resume, in an earlier process
        budget = self.budget
        per_epoch = budget.steps_per_epoch
        check_every = max(1, int(self.cfg.get("loss_check_every", 25)))
        eval_every = max(1, int(self.cfg.get("eval_every", 1))) * per_epoch
        ckpt_every = max(1, int(self.cfg.get("checkpoint_every", 1))) * per_epoch
        last_ckpt = time.monotonic()
        loss_sum = torch.zeros((), device=self.device)
        loss_count = 0
        window_start, window_images = time.perf_counter(), 0
        self.model.train()
        self.progress.start(budget, self.step)
        status, reason = "ok", None
        first_step = True  # timed on its own: it carries torch.compile's compilation
        while self.step < budget.steps and status == "ok":
            epoch, offset = divmod(self.step, per_epoch)
            tic = time.perf_counter()
            for x, y in self.train_batches.epoch(epoch, skip=offset):
                with self.autocast():
                    loss = F.cross_entropy(self.model(x), y, label_smoothing=self.label_smoothing)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                self.scheduler.step()
                self.step += 1
                if first_step:
                    if self.device.type == "cuda":
                        torch.cuda.synchronize(self.device)
                    self.timings["first_step"] = time.perf_counter() - tic
                    first_step = False
                loss_sum += loss.detach().float()
                loss_count += 1
                window_images += budget.batch_size
                if self.step % check_every == 0 or self.step == budget.steps:
                    mean_loss = (loss_sum / loss_count).item()  # the one host sync
                    now = time.perf_counter()
                    rate = window_images / max(now - window_start, 1e-9)
                    if not math.isfinite(mean_loss):
                        status = "diverged"
                        reason = f"training loss became {mean_loss} by step {self.step}"
                        break
                    self._report(epoch, mean_loss, rate)
                    loss_sum.zero_()
                    loss_count = 0
                    window_start, window_images = time.perf_counter(), 0
                if self.step % per_epoch == 0 or self.step == budget.steps:
                    break
            self.train_seconds += time.perf_counter() - tic
            if status != "ok":
                break
            if self.step % eval_every == 0 or self.step == budget.steps:
                self._evaluate(epoch)
            periodic = time.monotonic() - last_ckpt > CHECKPOINT_SECONDS
            if self.step % ckpt_every == 0 or periodic or self.step == budget.steps:
                self.save()
                last_ckpt = time.monotonic()
        self.progress.finish()
        last = self.history[-1] if self.history else {}
        rate = (self.step * budget.batch_size / self.train_seconds) if self.train_seconds else None
        return Outcome(
            status=status,
            reason=reason,
            top1=last.get("top1"),
            top5=last.get("top5"),
            history=self.history,
            steps_done=self.step,
            images_per_sec=rate,
            timings={
                "train": self.train_seconds,
                "train_this_process": self.train_seconds - carried_seconds,
                **self.timings,
            },
            resumed_from_step=resumed,
        )

    def _report(self, epoch: int, loss: float, rate: float) -> None:
        start = time.perf_counter()
        lr = self.optimizer.param_groups[0]["lr"]
        self.last_loss = loss
        self.progress.update(self.step, epoch, loss, rate)
        self.on_log({"train/loss": loss, "train/lr": lr, "train/images_per_sec": rate}, self.step)
        self.timings["log"] += time.perf_counter() - start

    def _evaluate(self, epoch: int) -> None:
        start = time.perf_counter()
        top1, top5 = (None, None)
        if self.is_main:
            top1, top5 = evaluate(self.eval_model, self.test_batches, self.autocast)
        seconds = time.perf_counter() - start
        self.timings["eval"] += seconds
        entry = {
            "epoch": round(self.budget.epochs_at(self.step), 4),
            "step": self.step,
            "train_loss": getattr(self, "last_loss", None),
            "top1": top1,
            "top5": top5,
            "lr": self.optimizer.param_groups[0]["lr"],
            "train_seconds": self.train_seconds,
            "eval_seconds": seconds,
        }
        self.history.append(entry)
        if self.is_main:
            self.progress.evaluated(entry["epoch"], top1, top5)
            self.on_log({"eval/top1": top1, "eval/top5": top5, "epoch": entry["epoch"]}, self.step)


def _auto(value: Any, default: bool) -> bool:
    if value == "auto" or value is None:
        return default
    return bool(value)


def _unwrap(model: nn.Module) -> nn.Module:
    """The plain module under DDP and torch.compile wrappers."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)
