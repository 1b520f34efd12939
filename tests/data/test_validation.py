"""The validation split: held out of training, the same for every point and seed."""

from __future__ import annotations

import pytest
import torch
from conftest import SMALL

from bench.data import load_data
from bench.data.validation import validation_indices
from bench.errors import UserError


def test_the_split_is_disjoint_complete_and_fixed():
    keep, held = validation_indices(640, 0.1)
    assert len(held) == 64 and len(keep) == 576
    assert set(keep.tolist()).isdisjoint(held.tolist())
    assert sorted(keep.tolist() + held.tolist()) == list(range(640))
    again_keep, again_held = validation_indices(640, 0.1)
    assert torch.equal(held, again_held) and torch.equal(keep, again_keep)


def test_every_point_and_seed_gets_the_same_validation_images(config):
    one = load_data(config(*SMALL, "data.val_fraction=0.1", "seed=0", "strategy=depth").data)
    two = load_data(config(*SMALL, "data.val_fraction=0.1", "seed=3", "strategy=width").data)
    whole = load_data(config(*SMALL).data)
    assert one.val is not None and len(one.val) == 64 and len(one.train) == 576
    assert torch.equal(one.val.images, two.val.images)
    assert torch.equal(one.train.images, two.train.images)
    # nothing trained on is validated on: no training image equals a validation image
    flat_train = one.train.images.flatten(1)
    assert not any((flat_train == v.flatten()).all(dim=1).any() for v in one.val.images)
    assert len(whole.train) == 640 and whole.val is None
    assert one.identity["val_fraction"] == 0.1 and "val_fraction" not in whole.identity


def test_a_fraction_that_leaves_nothing_to_train_on_is_refused():
    with pytest.raises(UserError, match="leaves no training image"):
        validation_indices(4, 0.9)
