"""What the tracker uses of W&B that W&B does not promise (bench.track.wandb_private): there in
the installed W&B and doing what it is passed for; a W&B that dropped one is named, and its
runs still start."""

from __future__ import annotations

import logging
from importlib import metadata
from types import SimpleNamespace

import wandb

from bench.schema import Logger
from bench.track import tracker, wandb_private


def test_everything_the_tracker_relies_on_is_there_in_the_installed_wandb():
    found = wandb_private.problems()
    assert found == [], "W&B changed what scalebench uses:\n" + "\n".join(found)


def test_the_trackers_settings_turn_off_stats_and_the_requirements_snapshot():
    settings = tracker._settings(wandb, Logger(mode="offline"))
    assert settings.x_disable_stats is True and settings.x_save_requirements is False


def test_a_field_wandb_dropped_is_named_and_left_out_so_settings_still_build(monkeypatch, caplog):
    monkeypatch.setattr(wandb_private, "SETTINGS", {**wandb_private.SETTINGS, "x_gone": True})
    (line,) = wandb_private.problems()
    assert line == f"wandb {metadata.version('wandb')}: Settings has no field x_gone"
    with caplog.at_level(logging.WARNING, logger=wandb_private.__name__):
        passed = wandb_private.private_settings(wandb)
    assert "x_gone" not in passed and "Settings.x_gone; left out" in caplog.text
    assert wandb.Settings(**passed).x_disable_stats is True


def test_a_wandb_whose_settings_know_none_of_them_gets_none():
    bare = SimpleNamespace(Settings=SimpleNamespace(model_fields={"silent": None}))
    assert wandb_private.private_settings(bare) == {}


def test_a_warm_up_module_wandb_moved_is_named(monkeypatch):
    monkeypatch.setattr(wandb_private, "WARM_MODULE", "wandb.sdk.no_such_module")
    (line,) = wandb_private.problems()
    assert "wandb.sdk.no_such_module cannot be imported" in line
