"""bench.analysis, the sweep's rounds and the coefficient search import no plotting library.

Each check runs in a fresh interpreter whose import system refuses matplotlib, seaborn and
pytorch_grad_cam, so a module that needs one, directly or through anything it imports, fails
to import there (an import already done by this test process cannot hide it).
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bench.analysis

REPO = Path(__file__).resolve().parents[2]
BLOCKED = ("matplotlib", "seaborn", "pytorch_grad_cam")
ANALYSIS = sorted(f"bench.analysis.{m.name}" for m in pkgutil.iter_modules(bench.analysis.__path__))
USERS = ("bench.sweep.rounds", "bench.search")

# Run first in the child: a finder ahead of every other that refuses the blocked packages.
BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = {blocked!r}
    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked plotting import: {{name}}")
            return None
    sys.meta_path.insert(0, Refuse())
    """
)


def imports_in_child(modules: list[str]) -> subprocess.CompletedProcess:
    """Import ``modules`` one by one in a fresh interpreter with the plotting packages blocked;
    it prints every blocked import's traceback and exits 1 when any module needed one."""
    script = BLOCKER.format(blocked=BLOCKED) + textwrap.dedent(
        f"""
        import importlib, traceback
        failed = []
        for name in {modules!r}:
            try:
                importlib.import_module(name)
            except ImportError:
                failed.append(name)
                traceback.print_exc()
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        print("FAILED", failed, "LOADED", loaded)
        sys.exit(1 if failed or loaded else 0)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )


def test_every_analysis_module_the_rounds_and_the_search_import_without_plotting():
    assert len(ANALYSIS) >= 15  # the package was found, not an empty list
    run = imports_in_child([*ANALYSIS, *USERS])
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("module", ["bench.report.style", "bench.report.flags"])
def test_the_blocker_catches_a_module_that_plots(module):
    """The check can fail: a drawing module, imported the same way, is refused."""
    run = imports_in_child([module])
    assert run.returncode == 1
    assert f"FAILED ['{module}']" in run.stdout and "blocked plotting import" in run.stderr
