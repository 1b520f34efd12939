"""bench.store: point folders named once, files written atomically."""

from __future__ import annotations

import os

import pytest

from bench.store import (
    atomic_write,
    atomic_write_json,
    atomic_write_text,
    is_point_folder,
    point_name,
    point_paths,
    read_json,
    read_json_or_none,
)


def test_point_names_print_phi_as_the_shortest_number():
    assert point_name("depth", 1.0, 0) == "depth_phi1_seed0"
    assert point_name("width", -0.5, 2) == "width_phi-0.5_seed2"
    assert point_name("compound_tiny_shapes", 2, 1) == "compound_tiny_shapes_phi2_seed1"


@pytest.mark.parametrize(
    "name,expected",
    [("depth_phi1_seed0", True), ("a_b_phi-0.5_seed12", True), ("x_phi1e-05_seed0", True),
     ("trained", False), ("figures", False), ("depth_phi1", False), ("notes", False)],
)  # fmt: skip
def test_point_folders_are_recognised_from_the_one_format(name, expected):
    assert is_point_folder(name) is expected
    if expected is True and "e-" not in name:
        strategy, rest = name.rsplit("_phi", 1)
        phi, seed = rest.split("_seed")
        assert point_name(strategy, float(phi), int(seed)) == name


def test_paths_of_a_point(tmp_path):
    paths = point_paths(tmp_path, "sweep", "depth", 1, 0)
    assert paths.result == tmp_path / "sweep" / "depth_phi1_seed0" / "result.json"
    with pytest.raises(ValueError):
        _ = paths.trained
    keyed = type(paths)(paths.sweep_dir, paths.name, "abc")
    assert keyed.checkpoint == tmp_path / "sweep" / "trained" / "abc" / "checkpoint.pt"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "result.json"
    atomic_write_json(path, {"status": "ok"})

    def half_then_crash(f):
        f.write(b'{"status": "fa')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_crash)
    assert read_json(path) == {"status": "ok"}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_written_files_are_readable_like_plain_ones(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_absent_or_torn_json_reads_as_none(tmp_path):
    assert read_json_or_none(tmp_path / "none.json") is None
    (tmp_path / "torn.json").write_text('{"a": ')
    assert read_json_or_none(tmp_path / "torn.json") is None
