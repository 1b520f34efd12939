"""Equal training budgets: how many steps a point trains for.

``train.budget=epochs`` gives every point ``train.epochs`` passes over the
training set, as the EfficientNet paper does. ``train.budget=flops`` gives
every point of a sweep the training FLOPs the baseline spends in
``train.epochs``: 6 x forward MACs x samples (a multiply-add is 2 FLOPs and
the backward pass costs about twice the forward), so a model with twice the
MACs sees half the samples. ``train.batch_size`` is the global batch: the
same under DDP, so budgets do not depend on the number of processes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bench.errors import UserError
from bench.schema import Train

FLOPS_PER_MAC_TRAINING = 6  # 2 FLOPs per MAC, forward + backward (about 2x forward)


@dataclass(frozen=True)
class Budget:
    """What one point trains: whole steps of a fixed global batch."""

    mode: str
    steps: int
    batch_size: int
    steps_per_epoch: int
    samples: int
    epochs: float
    train_flops: float
    warmup_steps: int

    def epochs_at(self, step: int) -> float:
        """Epochs done after ``step`` steps: samples seen over the training set, as result.json."""
        return self.epochs * step / self.steps

    def as_dict(self) -> dict[str, Any]:
        """For result.json."""
        return asdict(self)


def training_flops(macs: float, samples: float) -> float:
    """Training FLOPs of ``samples`` images through a network of ``macs`` forward MACs."""
    return FLOPS_PER_MAC_TRAINING * float(macs) * float(samples)


def plan_budget(train: Train, n_train: int, macs: int, base_macs: int) -> Budget:
    """Steps, samples and FLOPs for one point under ``train.budget``.

    Raises a UserError when the budget does not buy a single step, or when
    the batch is larger than the training set.
    """
    mode, batch, epochs = train.budget, train.batch_size, train.epochs
    if batch > n_train:
        raise UserError(
            f"train.batch_size={batch} is larger than the {n_train} training images; "
            f"use train.batch_size<={n_train}"
        )
    steps_per_epoch = n_train // batch
    base_steps = round(epochs * n_train / batch)
    if mode == "epochs":
        steps = base_steps
    else:
        base_flops = training_flops(base_macs, base_steps * batch)
        steps = round(base_flops / training_flops(macs, batch))
    if steps < 1:
        cost = macs / base_macs if mode == "flops" else 1.0  # this point's MACs per baseline MAC
        needed = 0.5 * batch / n_train * cost
        raise UserError(
            f"the budget is too small for one step: train.epochs={epochs:g} of "
            f"{n_train} images at train.batch_size={batch} under train.budget={mode} gives "
            f"0 steps for this point; use train.epochs>={needed:.3g}"
        )
    samples = steps * batch
    warmup = int(round(train.warmup_epochs * steps_per_epoch))
    return Budget(
        mode=mode,
        steps=steps,
        batch_size=batch,
        steps_per_epoch=max(1, steps_per_epoch),
        samples=samples,
        epochs=samples / n_train,
        train_flops=training_flops(macs, samples),
        warmup_steps=min(warmup, steps // 2),
    )
