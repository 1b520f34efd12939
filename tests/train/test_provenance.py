"""Results say what made them: versions in results, outcomes and checkpoints, versions that
change learning in the training key, a note on every point reused across versions, and a
streamed tree's content fingerprint."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from conftest import data_config, write_tree
from helpers.fake_results import make_result

from bench.data import load_data
from bench.store import PointPaths
from bench.train.diagnostics import problems
from bench.train.provenance import learning_versions, version_note, versions
from bench.train.record import reuse_finished


def test_the_training_key_holds_scalebench_and_the_major_minor_of_torch_and_timm():
    found = learning_versions()
    assert found["scalebench"] == versions()["scalebench"]
    assert found["torch"] == ".".join(torch.__version__.split("+")[0].split(".")[:2])
    assert set(found) == {"scalebench", "torch", "timm"}


def test_a_note_names_only_the_versions_that_differ(monkeypatch):
    now = versions()
    assert version_note(now) is None and version_note(None) is None
    old = {**now, "torch": "2.0.1", "git_commit": "0123abc", "python": "2.7"}
    note = version_note(old)
    assert note == (f"reused from a run made with git_commit 0123abc (this run: "
                    f"{now['git_commit']}), torch 2.0.1 (this run: {now['torch']})")  # fmt: skip


def test_a_finished_point_of_other_versions_says_so_in_its_result_and_the_sweep_lines(tmp_path):
    paths = PointPaths(tmp_path, "depth_phi0_seed0", "k")
    old = make_result("depth", 0, 0) | {"versions": {**versions(), "timm": "0.9.0"}}
    same = make_result("depth", 1, 0) | {"versions": versions()}
    result = reuse_finished(old, paths)
    assert "timm 0.9.0 (this run:" in result.version_note
    assert json.loads(paths.result.read_text())["version_note"] == result.version_note
    reuse_finished(same, PointPaths(tmp_path, "depth_phi1_seed0", "k"))
    assert not (tmp_path / "depth_phi1_seed0").exists()  # nothing to say, nothing rewritten
    (line,) = [p for p in problems([result.to_json(), same]) if "other versions" in p]
    assert line.startswith(
        "1 of 2 points reused or resumed a training of other versions (depth phi=0"
    )


def test_the_key_changes_with_the_versions_that_change_learning(monkeypatch):
    from bench.train import identity

    point = _point()
    base = identity.training_key(point)
    monkeypatch.setattr(
        identity, "learning_versions", lambda: {**learning_versions(), "torch": "9.9"}
    )
    assert identity.training_key(point) != base


def _point():
    from types import SimpleNamespace

    import torch

    from bench.config.compose import compose_config
    from bench.config.validate import validate
    from bench.hardware.distributed import Dist
    from bench.plan import plan_point
    from bench.scaling.budget import plan_budget
    from bench.store import PointPaths
    from bench.train.identity import Point

    c = validate(compose_config(["data.train_size=64", "data.test_size=64", "train.batch_size=32"]))
    planned = plan_point(c)
    budget = plan_budget(c.train, 64, planned.candidate.cost.macs, planned.base_macs)
    data = SimpleNamespace(identity={"kind": "fake"}, train=None)
    paths = PointPaths(Path("unused"), "point")
    return Point(c, planned, budget, data, paths, torch.device("cpu"), Dist(), False)


def test_a_streamed_trees_identity_changes_with_a_sampled_file(tmp_path):
    root = write_tree(tmp_path / "tree", per_class=(4, 2))
    node = {"name": "t", "kind": "imagefolder", "path": str(root), "resolution": 32,
            "decode_size": None, "in_memory": False, "memory_limit_gb": 4, "workers": 0,
            "cache_dir": str(tmp_path / "cache")}  # fmt: skip
    before = load_data(data_config(node)).identity
    assert load_data(data_config(node)).identity == before  # unchanged tree, same key
    image = sorted((root / "train").rglob("*.*"))[0]
    image.write_bytes(image.read_bytes() + b"\0")
    os.utime(image, (1, 1))
    assert load_data(data_config(node)).identity["sample"] != before["sample"]
