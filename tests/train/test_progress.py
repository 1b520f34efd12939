"""Progress lines: position, epochs as result.json counts them, rate and ETA."""

from __future__ import annotations

import logging

from bench.scaling.budget import Budget
from bench.train.progress import Progress

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
