"""A user's own model family, in their own folder: one YAML and one builder (docs/examples)."""

from __future__ import annotations

import pytest
from conftest import REPO, SMALL, bench, heavy_imports, results

EXAMPLE = REPO / "docs" / "examples" / "user_family"


def test_the_example_family_plans_from_its_own_folder():
    proc = bench("plan", "--config-dir", "conf", "model=dwnet", "strategy=width,resolution",
                 "phi=0,1,2", cwd=EXAMPLE)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("width") == 4 and proc.stdout.count("resolution") == 4  # + header
    assert "6 points planned" in proc.stderr


@pytest.mark.slow
def test_the_example_family_trains_in_a_sweep(tmp_path):
    proc = bench("run", "-m", "--config-dir", "conf", "model=dwnet", "strategy=width", "phi=0,1",
                 *SMALL, f"runs_dir={tmp_path}", "sweep=dw", cwd=EXAMPLE)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = results(tmp_path / "dw")
    assert {r["status"] for r in res.values()} == {"ok"} and len(res) == 2
    wide = res["width_phi1_seed0"]
    assert wide["model"] == "dwnet" and wide["config"]["model"]["kernel_size"] == 3
    assert wide["macs_ratio"] == pytest.approx(1, abs=0.05)


def test_a_bad_family_key_is_one_line(tmp_path):
    proc = bench("plan", "--config-dir", "conf", "model=dwnet", "model.kernel_size=abc",
                 cwd=EXAMPLE)  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: model.kernel_size='abc' must be a valid integer"


def test_checking_the_example_family_loads_neither_torch_nor_timm():
    """The example imports torch and timm where it builds, as the built-in families do, so a
    user's typo is answered before they load (tests/config/test_config.py checks ours)."""
    code = """
from bench.config.compose import compose_config
from bench.config.validate import validate

cfg = validate(compose_config(["hydra.searchpath=[file://conf]", "model=dwnet"]))
print(type(cfg.model).__name__)
"""
    printed, loaded = heavy_imports(code, EXAMPLE)
    assert printed == "DWNetConfig" and loaded == []
