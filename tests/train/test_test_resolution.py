"""Testing a trained point at other sides: which sides, and what each is measured on."""

from __future__ import annotations

import pytest
import torch
from conftest import SMALL

from bench.data import load_data
from bench.data.batches import BatchSpec, Preprocess
from bench.data.inputs import held_out_batches
from bench.models import build_model
from bench.plan import plan_point
from bench.train.loop import evaluate
from bench.train.test_resolution import best_side, evaluate_sides, sides_fields, sides_to_test


@pytest.mark.parametrize(
    ("resolution", "scales", "sides"),
    [
        (224, [1.0, 1.15, 1.3], [224, 256, 288]),  # FixRes' 224 -> 288, multiples of 8
        (32, [1.0, 1.15, 1.3], [32, 36, 40]),  # under 64 px: multiples of 4
        (32, [], [32]),  # the training side always
        (32, [1.3, 1.31], [32, 40]),  # repeats after rounding once
        (16, [0.25, 1.5], [16, 24]),  # below the network's total stride (8): left out
    ],
)
def test_sides_are_rounded_like_resolutions(resolution, scales, sides):
    assert sides_to_test(resolution, scales, minimum=8) == sides


def test_the_training_side_is_top1_and_the_others_are_measured_at_their_side():
    asked = []
    by_side = evaluate_sides(
        model=torch.nn.Identity(), resolution=32, sides=[32, 36, 40], top1=0.3,
        batches_at=lambda side: asked.append(side) or side,
        evaluate=lambda model, side: (side / 100, 1.0),
    )  # fmt: skip
    assert asked == [36, 40]  # the training side is not evaluated again
    assert by_side == {"32": 0.3, "36": 0.36, "40": 0.4}
    assert best_side(by_side) == 40
    assert sides_fields(by_side)["top1_at_best_test_resolution"] == 0.4
    assert sides_fields(None) == dict.fromkeys(
        ("top1_by_test_resolution", "best_test_resolution", "top1_at_best_test_resolution")
    )


def test_ties_go_to_the_smaller_side():
    assert best_side({"32": 0.5, "40": 0.5, "36": 0.4}) == 32


def test_a_real_network_is_evaluated_at_a_larger_side(config):
    cfg = config(*SMALL)
    data = load_data(cfg.data)
    planned = plan_point(cfg)
    model = build_model(cfg.model, planned.candidate.arch, data.num_classes)
    spec = BatchSpec(40, 256, torch.device("cpu"), False, 0, preprocess=Preprocess.of(cfg.data))
    batches = held_out_batches(data, spec)
    x, y = next(iter(batches.epoch(0)))
    assert x.shape[-2:] == (40, 40) and len(y) == 256
    top1, _ = evaluate(model, batches, lambda: torch.autocast("cpu", enabled=False))
    assert 0 <= top1 <= 1
