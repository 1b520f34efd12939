"""A multirun over the budget: its sweep folders are found and reported together, named for the
set."""

from __future__ import annotations

from pathlib import Path

from helpers.fake_results import write_sweep
from omegaconf import OmegaConf

from bench.config.compose import compose_config
from bench.sweep.finish import combined_name, report_together
from bench.sweep.start import by_sweep, check_jobs


def test_the_set_is_named_for_what_its_sweeps_share():
    names = ["tiny-shapes-epochs1", "tiny-shapes-epochs2", "tiny-shapes-epochs4"]
    assert combined_name(names) == "tiny-shapes-epochs1,2,4"
    assert combined_name(["a", "b"]) == "a+b"


def test_every_sweep_folder_of_a_multirun_is_found(tmp_path):
    jobs = [
        [f"runs_dir={tmp_path}", f"train.epochs={e}", f"phi={p}"] for e in (1, 2) for p in (0, 1)
    ]
    checked = check_jobs(jobs, compose_config)
    dirs = checked.sweep_dirs
    assert [d.name for d in dirs] == ["vgg_tiny-shapes-epochs1", "vgg_tiny-shapes-epochs2"]
    assert {Path(d.parent) for d in dirs} == {tmp_path}
    groups = by_sweep(checked, jobs)  # each folder gets its own sweep.json, with its jobs
    assert list(groups) == [(d, d.name) for d in dirs]
    assert list(groups.values()) == [jobs[:2], jobs[2:]]
    names = ["compound_phi0_seed0", "compound_phi1_seed0"]  # what each folder's progress counts
    assert [checked.points_of(where) for where in groups] == [names, names]


def test_budget_sweeps_are_reported_together_with_the_frontier(tmp_path):
    sweeps = [
        write_sweep(tmp_path / f"tiny-shapes-epochs{e}", strategies=("depth", "width"),
                    phis=(0, 1), seeds=(0,), epochs=float(e), diverged=(), failed=(), pending=())
        for e in (1, 2, 4)
    ]  # fmt: skip
    config = OmegaConf.create(compose_config(["plot.formats=[png]", "plot.cam_images=0"]))
    out = report_together(sweeps, config)
    assert out == tmp_path / "tiny-shapes-epochs1,2,4"
    assert (out / "figures" / "compute_frontier.png").is_file()
    assert (out / "tables" / "ranking_by_budget.csv").is_file()
    assert (out / "tables" / "frontier_fits.csv").is_file()
