"""Learning-rate tuning: a training per candidate rate, chosen on validation, refused without it."""

from __future__ import annotations

import pytest
from conftest import SMALL

from bench.errors import UserError
from bench.train.record import PointResult
from bench.train.tuning import candidates, choose, tune


def test_each_rate_is_its_own_training_config(config):
    runs = candidates(config(*SMALL, "tune.lrs=[0.05,0.4]", "data.val_fraction=0.1"))
    assert [c.train.lr for c in runs] == [0.05, 0.4]
    assert len({c.train.model_dump_json() for c in runs}) == 2  # lr is a learning key
    plain = config(*SMALL)
    assert candidates(plain) == [plain]


def test_the_best_validation_top1_is_chosen_and_every_candidate_listed():
    results = [
        PointResult(status="ok", lr=0.05, val_top1=0.3, top1=0.9),
        PointResult(status="ok", lr=0.4, val_top1=0.5, top1=0.2),  # test top-1 plays no part
        PointResult(status="diverged", lr=1.6, val_top1=None),
    ]
    chosen = choose(results)
    assert chosen.lr == 0.4 and chosen.top1 == 0.2 and chosen.val_top1 == 0.5
    assert [c["lr"] for c in chosen.lr_candidates] == [0.05, 0.4, 1.6]
    assert chosen.lr_candidates[2]["status"] == "diverged"


def test_tune_trains_every_candidate_in_turn(config):
    trained = []

    def train_one(c):
        trained.append(c.train.lr)
        return PointResult(status="ok", lr=c.train.lr, val_top1=c.train.lr)

    result = tune(config(*SMALL, "tune.lrs=[0.1,0.2]", "data.val_fraction=0.1"), train_one)
    assert trained == [0.1, 0.2] and result.lr == 0.2 and len(result.lr_candidates) == 2


def test_tuning_without_a_validation_split_is_refused_in_one_line(config):
    with pytest.raises(UserError, match="tune.lrs needs a validation split") as info:
        config(*SMALL, "tune.lrs=[0.1,0.2]")
    assert "\n" not in str(info.value)
