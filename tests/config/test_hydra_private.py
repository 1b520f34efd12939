"""Hydra's private API and its launcher plugins' insides, as scalebench uses them: all there in
the installed versions, and a change is reported naming them."""

from __future__ import annotations

from importlib import metadata

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from bench.config import hydra_private
from bench.config.hydra_private import BASIC, HydraChanged, Relied


def test_everything_scalebench_relies_on_is_there_in_the_installed_versions():
    found = hydra_private.problems()
    assert found == [], "Hydra changed what scalebench uses:\n" + "\n".join(found)


def test_a_name_hydra_dropped_is_reported_with_the_installed_versions(monkeypatch):
    monkeypatch.setattr(hydra_private, "RELIED_ON", (Relied(BASIC, "BasicSweeper.gone"),))
    (line,) = hydra_private.problems()
    assert f"{BASIC}.BasicSweeper.gone" in line
    assert f"hydra-core {metadata.version('hydra-core')}" in line


def test_parameters_in_another_order_and_missing_attributes_are_reported(monkeypatch):
    swapped = Relied(BASIC, "BasicSweeper.split_arguments", ("max_batch_size", "overrides"))
    bare = Relied(BASIC, "BasicSweeper", (), ("params", "launcher", "gone"), {"max_batch_size": 1})
    monkeypatch.setattr(hydra_private, "RELIED_ON", (swapped, bare))
    order, attributes = hydra_private.problems()
    assert "its parameters are ('overrides', 'max_batch_size')" in order
    assert "['gone'] are missing" in attributes


def test_a_plugin_that_is_not_installed_is_skipped_not_reported(monkeypatch):
    absent = Relied("hydra_plugins.no_such_launcher.core", "Launcher")
    monkeypatch.setattr(hydra_private, "RELIED_ON", (absent,))
    assert hydra_private.problems() == []
    assert hydra_private.plugin_class(absent.module, absent.name) is None


def test_a_launcher_without_the_state_hydra_gives_it_is_reported():
    with pytest.raises(HydraChanged, match="config, hydra_context, task_function.*hydra-core"):
        hydra_private.state(object())


def test_jobs_come_in_the_basic_sweepers_order_a_later_value_replacing_an_earlier():
    parsed = OverridesParser.create().parse_overrides(["a=1,2", "b=x,y", "a=3,4"])
    assert hydra_private.split_arguments(parsed) == [
        ["a=3", "b=x"], ["a=3", "b=y"], ["a=4", "b=x"], ["a=4", "b=y"]
    ]  # fmt: skip
