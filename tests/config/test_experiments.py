"""``conf/experiment/`` presets: they compose, and the CPU preset trains end to end."""

from __future__ import annotations

import pytest
from conftest import write_tree

from bench.train.point import run_point


@pytest.mark.parametrize("name", ["cifar10_cpu", "cifar10_gpu"])
def test_presets_compose_onto_the_imagefolder_data(compose, name):
    cfg = compose(f"experiment={name}", "data.path=/somewhere")
    assert cfg.model.name == "vgg11" and cfg.data.kind == "imagefolder"
    assert cfg.data.resolution == 32 and cfg.sweep.startswith(name)
    assert cfg.data.path == "/somewhere"


def test_cpu_preset_trains_a_point_on_a_class_folder_tree(compose, tmp_path):
    write_tree(tmp_path / "tree", test_split="test", per_class=(40, 10), size=(32, 32))
    cfg = compose(
        "experiment=cifar10_cpu",
        f"data.path={tmp_path / 'tree'}",
        f"data.cache_dir={tmp_path / 'cache'}",
        f"runs_dir={tmp_path / 'runs'}",
        "train.epochs=2",
        "train.batch_size=20",
        "logger.mode=disabled",
    )
    result = run_point(cfg)
    assert result["status"] == "ok", result.get("reason")
    assert result["model"] == "vgg11" and result["resolution"] == 32
    assert result["width_mult"] == 1.0  # the preset's quarter width is the baseline's own
    assert result["top1"] > 0.34  # three solid-colour classes: chance is 1/3


def test_the_regime_map_preset_composes_onto_the_defaults(compose):
    cfg = compose("experiment=regime_map")
    assert cfg.model.name == "vgg_tiny" and cfg.data.name == "shapes"
