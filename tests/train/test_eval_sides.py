"""Testing a trained point at other sides: which sides, what each is measured on, and which
side is chosen (on the validation split, never the test split)."""

from __future__ import annotations

import pytest
import torch
from conftest import SMALL, sweep_of

from bench.data import load_data
from bench.data.batches import BatchSpec, Preprocess
from bench.data.inputs import held_out_batches
from bench.models import build_model
from bench.plan import plan_point
from bench.train.eval_sides import best_side, evaluate_sides, sides_fields, sides_to_test
from bench.train.loop import evaluate
from bench.train.point import run_point


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
    assert best_side(by_side, 32) == 40


KEYS = (
    "top1_by_test_resolution", "val_top1_by_test_resolution", "best_test_resolution",
    "top1_at_best_test_resolution", "val_top1_at_best_test_resolution",
)  # fmt: skip
TEST = {"32": 0.50, "36": 0.60, "40": 0.55}  # 36 is the best side on the test split


def test_a_side_best_on_the_test_split_but_not_on_validation_is_not_chosen():
    val = {"32": 0.70, "36": 0.65, "40": 0.72}  # validation prefers 40
    fields = sides_fields(TEST, val, 32)
    assert fields["best_test_resolution"] == 40
    assert fields["top1_at_best_test_resolution"] == 0.55  # the test split's, reported there
    assert fields["val_top1_at_best_test_resolution"] == 0.72
    assert fields["top1_by_test_resolution"] == TEST
    assert fields["val_top1_by_test_resolution"] == val


def test_a_side_validation_agrees_on_is_chosen():
    fields = sides_fields(TEST, {"32": 0.70, "36": 0.75, "40": 0.72}, 32)
    assert fields["best_test_resolution"] == 36
    assert fields["top1_at_best_test_resolution"] == 0.60


def test_without_a_validation_split_no_side_is_chosen():
    fields = sides_fields(TEST, None, 32)
    assert fields["top1_by_test_resolution"] == TEST
    assert {k: fields[k] for k in KEYS[1:]} == dict.fromkeys(KEYS[1:])
    assert sides_fields(None, None, 32) == dict.fromkeys(KEYS)


def test_ties_go_to_the_training_side_then_to_the_smaller_side():
    assert best_side({"32": 0.5, "36": 0.5, "40": 0.5}, 36) == 36
    assert best_side({"32": 0.5, "40": 0.5, "36": 0.4}, 36) == 32
    assert best_side({}, 32) is None


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
    model.eval()
    with torch.no_grad():
        hits = [(model(x).argmax(1) == y).sum().item() for x, y in batches.epoch(0)]
    assert top1 == sum(hits) / len(data.test)  # every test image, counted once, at 40 px


def test_a_point_with_a_validation_split_chooses_its_side_there(compose, small):
    cfg = compose(*small, "data.val_fraction=0.1", "eval.test_scales=[1,1.2]", "strategy=width",
                  "phi=1")  # fmt: skip
    result = run_point(cfg)
    assert result["status"] == "ok", result.get("reason")
    test, val = result["top1_by_test_resolution"], result["val_top1_by_test_resolution"]
    assert list(val) == list(test) == ["40", "48"]  # eval.test_scales' sides, on both splits
    assert val["40"] == result["val_top1"] and test["40"] == result["top1"]
    side = result["best_test_resolution"]
    assert val[str(side)] == max(val.values()) == result["val_top1_at_best_test_resolution"]
    assert result["top1_at_best_test_resolution"] == test[str(side)]
    assert "validation" in result["timings"]
    assert (sweep_of(cfg) / "width_phi1_seed0" / "result.json").is_file()
