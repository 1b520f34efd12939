"""``python -m bench.plan``: its table, its CSV and its errors.

The first test goes through the real command line; the others call the same ``main`` in this
process (a fresh interpreter costs seconds of imports each), reading its exit status and
both streams as the command line would give them.
"""

import subprocess

import pandas as pd
import pytest
from conftest import bench

from bench.plan import main, plan_sweep, with_baselines
from bench.train.record import PLAN_COLUMNS


@pytest.fixture
def run_plan(capsys):
    """``python -m bench.plan ARGS`` in this process: exit status, stdout, stderr."""

    def run(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        return subprocess.CompletedProcess(["bench.plan", *args], code, out.out, out.err)

    return run


def test_comma_sweep_writes_csv_with_baselines(tmp_path):
    out = tmp_path / "plan.csv"
    proc = bench(
        "plan",
        "strategy=depth,width,compound",
        "phi=1,2",
        "model=resnet18",
        "data=imagenet",
        f"plan.out={out}",
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out)
    required = [
        "strategy",
        "phi",
        "depth_mult",
        "width_mult",
        "resolution",
        "macs",
        "params",
        "activations",
        "target_macs",
    ]
    assert list(table.columns[: len(required)]) == required
    assert list(table.columns) == list(PLAN_COLUMNS)
    assert len(table) == 9  # 3 strategies x (phi=0 baseline + 2 levels)
    assert sorted(table.query("phi == 0").strategy) == ["compound", "depth", "width"]
    assert table.query("phi == 0").macs.nunique() == 1
    assert ((table.macs / table.target_macs - 1).abs() <= 0.05).all()
    assert "resnet18" not in proc.stderr.lower() or "error" not in proc.stderr.lower()
    assert "compound" in proc.stdout and "depths" in proc.stdout


def test_default_sweep_levels_are_planned():
    table, points, config = plan_sweep(["strategy=depth"])
    assert list(table.phi) == [0.0, 1.0, 2.0]
    assert config.model.name == "vgg_tiny"
    assert all(not p.infeasible for p in points)


def test_with_baselines_adds_phi0_once():
    jobs = [["strategy=depth", "phi=1"], ["strategy=depth", "phi=2"], ["strategy=width", "phi=0"]]
    out = with_baselines(jobs)
    assert ["strategy=depth", "phi=0"] in out
    assert sum(1 for j in out if "phi=0" in j) == 2
    assert len(out) == 4


def test_unknown_strategy_lists_choices_and_exits_nonzero(run_plan):
    proc = run_plan("strategy=bogus")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    for choice in ("compound", "depth", "linear", "width", "resolution"):
        assert choice in lines[0]
    assert "Traceback" not in proc.stderr


def test_unknown_model_lists_choices(run_plan):
    proc = run_plan("model=bogus")
    assert proc.returncode == 1
    assert "efficientnet_b0" in proc.stderr and "vgg11" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_phi_is_one_line_error(run_plan):
    proc = run_plan("phi=abc")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: phi='abc' must be a valid number"


def test_infeasible_phi_gets_one_line_error_and_exit_1(run_plan):
    proc = run_plan("strategy=depth", "phi=-4", "model=tiny")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "strategy=depth phi=-4" in errors[0] and "closest is" in errors[0]
    assert "Traceback" not in proc.stderr


def test_points_off_target_within_max_miss_are_flagged_not_refused(run_plan):
    proc = run_plan("model=vgg11", "data=imagenet", "strategy=depth,linear", "phi=0,1,2,3")
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 2 and "error:" not in proc.stderr
    assert "strategy=depth phi=2" in notes[0] and "strategy=depth phi=3" in notes[1]
    assert all("trained there and flagged" in n for n in notes)
    assert "2 point(s) will train off their target" in proc.stderr
    strict = run_plan(
        "model=vgg11", "data=imagenet", "strategy=depth", "phi=2", "plan.max_miss=0.05"
    )
    assert strict.returncode == 1 and "beyond plan.max_miss=0.05" in strict.stderr


def test_max_miss_below_tolerance_is_refused(run_plan):
    proc = run_plan("plan.tolerance=0.1", "plan.max_miss=0.05")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: plan: max_miss=0.05 must be at least tolerance=0.1"
