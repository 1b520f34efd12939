"""bench.train.loop: the optimisation loop, its schedule, checkpoints and divergence."""

import math

import pytest
import torch
from torch import nn

from bench.data import ImageSet
from bench.data.batches import BatchSpec, DeviceBatches
from bench.scaling.budget import plan_budget
from bench.train.loop import Setup, fit, lr_factor, make_optimizer, new_state
from bench.train.progress import Progress

CPU = torch.device("cpu")


def split(n: int, seed: int) -> ImageSet:
    """Two classes told apart by brightness, so a linear model learns them in a few steps."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    images = torch.randint(0, 100, (n, 3, 8, 8), dtype=torch.uint8, generator=g)
    return ImageSet(images + (labels * 120).view(-1, 1, 1, 1).to(torch.uint8), labels)


def net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(4, 2),
    )  # fmt: skip


class Run:
    """One point's loop, set up like the pipeline sets it up: ``run.fit()`` trains it."""

    def __init__(self, config, tmp_path, model=None, **train):
        defaults = {"epochs": 4, "batch_size": 16, "loss_check_every": 4}
        overrides = [f"train.{k}={v}" for k, v in {**defaults, **train}.items()]
        recipe = config(*overrides).train
        stats = {"mean": (0.4,) * 3, "std": (0.3,) * 3, "device": CPU, "seed": 0}
        spec = BatchSpec(8, recipe.batch_size, train=True, **stats)
        self.train_b = DeviceBatches(split(64, 1), spec)
        self.test_b = DeviceBatches(split(32, 2), BatchSpec(8, 32, train=False, **stats))
        self.budget = plan_budget(recipe, 64, 1, 1)
        self.state = new_state(model or net(), recipe, self.budget)
        progress = Progress("[test]", 0.0)
        self.setup = Setup(recipe, CPU, checkpoint=tmp_path / "checkpoint.pt", progress=progress)
        self.model = self.state.model

    def fit(self):
        return fit(self.state, self.train_b, self.test_b, self.budget, self.setup)


def trainer(config, tmp_path, model=None, **train):
    return Run(config, tmp_path, model, **train)


def test_learns_and_records_an_evaluation_per_epoch(config, tmp_path):
    out = trainer(config, tmp_path).fit()
    assert out.status == "ok" and out.steps == 16
    assert [h["epoch"] for h in out.history] == [1, 2, 3, 4]
    assert out.top1 == 1.0 and out.top5 == 1.0  # two classes: top-5 is every class
    assert out.images_per_sec > 0 and out.resumed_from_step == 0
    t = out.timings
    assert 0 < t["first_step"] < t["train"] and t["train_this_process"] == t["train"]


def no_times(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.endswith("_seconds")}


class Killed(Exception):
    pass


def test_a_killed_point_resumes_to_the_same_weights(config, tmp_path):
    whole = trainer(config, tmp_path / "whole")
    whole_out = whole.fit()

    first = trainer(config, tmp_path / "split")
    calls = []

    def die_in_epoch_3(data, step):
        calls.append(step)
        if step > 8:
            raise Killed

    first.setup.on_log = die_in_epoch_3
    with pytest.raises(Killed):
        first.fit()
    assert (tmp_path / "split" / "checkpoint.pt").exists()

    second = trainer(config, tmp_path / "split")
    out = second.fit()
    assert out.resumed_from_step == 8  # the checkpoint at the end of epoch 2
    assert [no_times(h) for h in out.history] == [no_times(h) for h in whole_out.history]
    whole_state, resumed_state = whole.model.state_dict(), second.model.state_dict()
    assert all(torch.equal(whole_state[k], resumed_state[k]) for k in whole_state)
    assert 0 < out.timings["train_this_process"] < out.timings["train"]


def test_a_diverging_loss_is_recorded_as_diverged(config, tmp_path):
    out = trainer(config, tmp_path, lr=1e30, loss_check_every=1).fit()
    assert out.status == "diverged"
    assert "loss became" in out.reason and out.steps < 16
    assert out.top1 is None and out.top5 is None  # no accuracy for a diverged point


def test_schedule_warms_up_then_decays_to_zero(config):
    budget = plan_budget(config("train.epochs=10", "train.warmup_epochs=1").train, 1280, 1, 1)
    assert budget.warmup_steps == 10 and budget.steps == 100
    factors = [lr_factor(s, budget) for s in range(budget.steps)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == 1.0
    assert all(a >= b for a, b in zip(factors[9:], factors[10:], strict=False))
    assert factors[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 89 / 90)))


def test_no_weight_decay_on_biases_and_norms(config):
    opt = make_optimizer(net(), config().train)
    decayed, plain = opt.param_groups
    assert decayed["weight_decay"] > 0 and plain["weight_decay"] == 0
    assert all(p.ndim > 1 for p in decayed["params"]) and all(p.ndim == 1 for p in plain["params"])


def test_grad_clip_bounds_every_step(config, tmp_path):
    def moved(**train):
        run = trainer(config, tmp_path / str(len(train)), weight_decay=0, **train)
        run.fit()
        start = net()
        return max(
            (p - q).abs().max().item()
            for p, q in zip(run.model.parameters(), start.parameters(), strict=True)
        )

    assert moved(grad_clip=1e-9) < 1e-6  # 16 steps of lr x 1e-9, with momentum
    assert moved() > 1e-2


class Mirrored(nn.Module):
    """Logits that tell a mirror image from the original: class 0 when the left half is the
    brighter, class 1 otherwise, by a margin of their difference."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        left, right = x[..., :half].mean((1, 2, 3)), x[..., half:].mean((1, 2, 3))
        return torch.stack([left - right, 2 * (right - left) + 0.5], dim=1)


def test_flip_averages_each_images_and_its_mirror_images_softmax():
    from bench.train.loop import evaluate

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (40, 3, 8, 8), dtype=torch.uint8, generator=g)
    stats = {"mean": (0.5,) * 3, "std": (0.25,) * 3, "device": CPU, "seed": 0}
    batches = DeviceBatches(ImageSet(images, torch.zeros(40, dtype=torch.long)),
                            BatchSpec(8, 16, train=False, **stats))  # fmt: skip
    model, none = Mirrored(), lambda: torch.autocast("cpu", enabled=False)
    x = torch.cat([x for x, _ in batches.epoch(0)])
    plain = (model(x).argmax(1) == 0).float().mean().item()
    both = model(x).softmax(1) + model(x.flip(-1)).softmax(1)
    flipped = (both.argmax(1) == 0).float().mean().item()
    assert plain != flipped  # the mirror changes some answers
    assert evaluate(model, batches, none)[0] == pytest.approx(plain)
    assert evaluate(model, batches, none, flip=True)[0] == pytest.approx(flipped)
