"""Progress lines: position, epochs as result.json counts them, rate and ETA."""

from __future__ import annotations

import logging

from bench.scaling.budget import Budget
from bench.train.progress import Progress, place

# CIFAR-10 at batch 128 for 8 epochs: 3125 steps, but a pass over the set is 390 steps
BUDGET = Budget("epochs", 3125, 128, 390, 400_000, 8.0, 2.4e13, 117)


def test_lines_count_epochs_in_samples_and_throttle(caplog):
    progress = Progress("[2/9 width phi=1 seed=0]", every_seconds=3600)
    with caplog.at_level(logging.INFO, logger="bench.progress"):
        progress.start(BUDGET, 0)
        progress.update(390, 0, 1.5, 2000.0)  # the first line always shows
        progress.update(780, 1, 1.4, 2000.0)  # throttled
        progress.update(3125, 8, 0.9, 2100.0)  # the last step always shows
        progress.evaluated(8.0, 0.81, 0.99)
        progress.finish()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("[2/9 width phi=1 seed=0] training 3125 steps of 128 images")
    assert "8.00 epochs" in lines[0]
    updates = [line for line in lines if " step " in line]
    assert len(updates) == 2
    assert "epoch 1.00/8.00" in updates[0] and "img/s" in updates[0] and "ETA" in updates[0]
    assert "epoch 8.00/8.00  step 3125/3125 (100%)" in updates[1]
    assert "eval after epoch 8.00: top-1 81.00%" in lines[-2]
    assert "done in" in lines[-1]


def test_disabled_progress_is_silent(caplog):
    progress = Progress("[x]", enabled=False)
    with caplog.at_level(logging.INFO, logger="bench.progress"):
        progress.start(BUDGET, 0)
        progress.update(3125, 8, 0.9, 2100.0)
        progress.finish()
    assert not caplog.records


def test_a_point_counts_its_place_among_its_sweeps_points_and_the_rounds_added():
    manifest = {
        "jobs": 2,
        "points": ["depth_phi1_seed0", "width_phi1_seed0"],
        "rounds": [{"round": 1, "added": ["depth_phi1_seed1", "width_phi1_seed1"]}],
    }
    assert place(manifest, "width_phi1_seed0", 1) == "2/4 "
    # a round's job is numbered from 0 again by Hydra, and a multirun over the budget numbers
    # every folder's jobs in one run: the place comes from the name, not from that number
    assert place(manifest, "depth_phi1_seed1", 0) == "3/4 "
    assert place(manifest, "width_phi1_seed1", 7) == "4/4 "


def test_a_sweep_json_without_points_falls_back_to_the_job_number():
    assert place({"jobs": 9}, "depth_phi1_seed0", 2) == "3/9 "
    assert place({}, "depth_phi1_seed0", 2) == "3 "
    assert place({}, "depth_phi1_seed0", None) == ""
