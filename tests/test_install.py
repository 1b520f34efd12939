"""The package installs anywhere: a built wheel carries its configs and runs from any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SMALL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The checkout built as a wheel (not editable) and installed into a folder of its own.

    It is built from a copy of what the package is made of, so that a stale ``build/``
    folder of earlier local builds cannot hide a module the package list misses.
    """
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    for part in ("bench", "conf", "hydra_plugins"):
        shutil.copytree(REPO / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / part, source / part)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
             str(source), "-w", str(work)]  # fmt: skip
    subprocess.run(build, check=True, capture_output=True, timeout=600)
    (wheel,) = work.glob("scalebench-*.whl")
    target = work / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
               str(target), str(wheel)]  # fmt: skip
    subprocess.run(install, check=True, capture_output=True, timeout=600)
    return target


def run_from(cwd: Path, site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def test_the_wheel_holds_bench_its_configs_and_its_plugins_only(installed):
    (wheel,) = installed.parent.glob("scalebench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"bench", "hydra_plugins"}
    assert "bench/conf/config.yaml" in names and "bench/conf/model/tiny.yaml" in names
    shipped = {n for n in names if n.startswith("bench/") and n.endswith(".py")}
    in_checkout = {str(p.relative_to(REPO)) for p in (REPO / "bench").rglob("*.py")}
    assert shipped == in_checkout  # no module left out of the package list


def test_plan_and_run_work_from_another_folder(installed, tmp_path):
    where = run_from(
        tmp_path, installed, "-c", "import bench.config.compose as c; print(c.CONF_DIR)"
    )
    assert where.stdout.strip() == str(installed / "bench" / "conf"), where.stderr
    plan = run_from(tmp_path, installed, "-m", "bench.plan", "phi=0,1")
    assert plan.returncode == 0, plan.stderr[-2000:]
    assert "compound" in plan.stdout
    run = run_from(tmp_path, installed, "-m", "bench.run", *SMALL, "runs_dir=scratch")
    assert run.returncode == 0, run.stderr[-2000:]
    assert list((tmp_path / "scratch").glob("*/compound_phi0_seed0/result.json"))
