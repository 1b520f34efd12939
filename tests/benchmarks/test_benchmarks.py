"""``benchmarks/run.py --smoke``: the benchmark script runs and ends with its JSON line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO

KEYS = {
    "speedup_vs_plain",
    "data_path_overhead",
    "cpu_utilization",
    "plan_5x5_seconds",
    "point_overhead",
    "plot_200_seconds",
    "joblib_sweep_seconds",
    "stream_images_per_sec_224",
    "timm_loader_images_per_sec_224",
    "stream_vs_timm",
    "stream_vs_timm_eval",
}


@pytest.mark.slow
def test_smoke_run_prints_every_key_as_its_last_line():
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = proc.stdout.strip().splitlines()[-1]
    out = json.loads(line)
    assert set(out) >= KEYS
    for key in ("speedup_vs_plain", "plan_5x5_seconds", "point_overhead", "cpu_utilization",
                "stream_vs_timm"):  # fmt: skip
        assert isinstance(out[key], float) and out[key] > 0, key
    assert 0 <= out["point_overhead"] < 1
    # null only with a reason: a key is measured or explained, never silently missing
    for key in KEYS:
        assert out[key] is not None or key in out.get("skipped", {}), key
