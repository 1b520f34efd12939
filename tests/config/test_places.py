"""Names stay inside runs_dir, runs_dir is expanded once, and a bad place is one line first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import SMALL, bench, one_error_line
from omegaconf import OmegaConf

from bench.config.compose import compose_config
from bench.config.places import CheckPlaces, check_writable
from bench.errors import UserError
from bench.store import sweep_dir
from bench.sweep.start import check_jobs

PLAIN = "must be a plain folder name"


@pytest.mark.parametrize(
    "override",
    ["sweep=../escape", "sweep=a/b", "sweep=/abs", "sweep=..", "sweep='~home'",
     "strategy.name=../x", "strategy.name=a/b"],
)  # fmt: skip
def test_sweep_and_strategy_names_are_plain_folder_names(config, override):
    with pytest.raises(UserError, match=PLAIN):
        config(override)


def test_runs_dir_is_expanded_once_for_results_and_hydra_folders(config, monkeypatch):
    monkeypatch.setenv("SB_SCRATCH", "/scratch/me")
    for given, expanded in [("~/runs", os.path.expanduser("~/runs")),
                            ("$SB_SCRATCH/runs", "/scratch/me/runs")]:  # fmt: skip
        overrides = [f"runs_dir='{given}'", "sweep=s", "strategy=depth", "phi=1"]
        assert config(*overrides).runs_dir == expanded
        hydra = compose_config(overrides, return_hydra_config=True).hydra
        assert OmegaConf.select(hydra, "sweep.dir") == str(sweep_dir(given, "s"))
        assert OmegaConf.select(hydra, "run.dir") == f"{expanded}/s/depth_phi1_seed0"


def test_an_unwritable_runs_dir_is_one_line(tmp_path):
    check_writable(str(tmp_path / "new" / "runs"))
    assert (tmp_path / "new" / "runs").is_dir() and not list((tmp_path / "new" / "runs").iterdir())
    with pytest.raises(UserError, match=r"^runs_dir=/proc/x cannot be written \(.*\); choose"):
        check_writable("/proc/x")


def test_a_sweep_checks_places_and_data_once_before_any_job(tmp_path, capsys):
    base = ["strategy=depth", f"runs_dir={tmp_path / 'runs'}", "logger.mode=disabled"]
    cases = [
        (["sweep=../escape"], PLAIN),
        (["runs_dir=/proc/x"], "runs_dir=/proc/x cannot be written"),
        (["data=imagefolder", f"data.path={tmp_path / 'nothing'}"], "is not a folder"),
        (["data=imagefolder", f"data.path={empty_tree(tmp_path / 'empty')}"], "holds no image"),
    ]
    for extra, message in cases:
        with pytest.raises(SystemExit):
            check_jobs([[*base, *extra], [*base, *extra, "phi=1"]], compose_config)
        assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def empty_tree(root: Path) -> Path:
    for split in ("train", "val"):
        (root / split / "a").mkdir(parents=True)
    return root


def _written(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.slow
def test_an_unwritable_runs_dir_stops_a_run_before_hydra_writes(tmp_path):
    unwritable = bench("run", "runs_dir=/proc/x", *SMALL, cwd=tmp_path)
    assert unwritable.returncode == 1
    assert "runs_dir=/proc/x cannot be written" in one_error_line(unwritable)
    assert len((unwritable.stdout + unwritable.stderr).strip().splitlines()) <= 4
    assert _written(tmp_path) == []


def test_a_single_run_checks_its_places_in_hydras_callback(tmp_path, compose, capsys):
    callback = CheckPlaces()
    callback.on_run_start(compose(f"runs_dir={tmp_path / 'runs'}", *SMALL))
    for bad in ("sweep=../escape", "runs_dir=/proc/x"):
        with pytest.raises(SystemExit):
            callback.on_run_start(compose(f"runs_dir={tmp_path / 'runs'}", *SMALL, bad))
        assert capsys.readouterr().err.startswith("error: ")
    assert _written(tmp_path) == ["runs"]
