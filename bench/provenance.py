"""What produced a result: library versions and the scalebench commit.

Results, outcomes and checkpoints record :func:`versions`. What changes
learning between versions is part of every point's training key
(:func:`learning_versions`): scalebench's version, and torch's and timm's
major.minor (a patch release fixes bugs but keeps numerics; a minor one may
change a layer's defaults or a kernel). So after such an upgrade a sweep
trains afresh; a point reused across anything else that differs (a patch
release, another commit) says so (:func:`version_note`) in its result and
in the end-of-sweep lines.
"""

from __future__ import annotations

import functools
import platform
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import bench


@functools.cache
def git_commit() -> str | None:
    """The commit of the scalebench checkout this code runs from (None for an installed copy)."""
    root = Path(bench.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


@functools.cache
def versions() -> dict[str, Any]:
    """Python and the versions of every library a result depends on, and the commit."""
    import hydra
    import ptflops
    import timm
    import torch

    out: dict[str, Any] = {
        "scalebench": bench.__version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "torch": str(torch.__version__),  # a TorchVersion: weights_only loads refuse it
        "timm": str(timm.__version__),
        "hydra": str(hydra.__version__),
        "ptflops": getattr(ptflops, "__version__", None),
    }
    try:
        import wandb

        out["wandb"] = wandb.__version__
    except ImportError:
        out["wandb"] = None
    return out


COMPARED = ("scalebench", "git_commit", "torch", "timm")  # what a reused point is checked for


def _major_minor(version: str) -> str:
    return ".".join(str(version).split("+")[0].split(".")[:2])


def learning_versions() -> dict[str, str]:
    """The versions that enter the training key: scalebench's, torch's and timm's major.minor."""
    found = versions()
    return {"scalebench": str(found["scalebench"]), "torch": _major_minor(found["torch"]),
            "timm": _major_minor(found["timm"])}  # fmt: skip


def version_note(
    made_with: Mapping[str, Any] | None, what: str = "reused from a run"
) -> str | None:
    """``reused from a run made with torch 2.13.0 (this run: 2.14.1)`` when ``made_with``
    differs from this process in scalebench, its commit, torch or timm; None when they match
    or are unknown. ``what`` names what was made with them (a run, a checkpoint)."""
    if not made_with:
        return None
    now = versions()
    differ = [f"{k} {made_with.get(k)} (this run: {now[k]})" for k in COMPARED
              if made_with.get(k) != now[k]]  # fmt: skip
    return f"{what} made with {', '.join(differ)}" if differ else None
