"""What produced a result: library versions and the scalebench commit."""

from __future__ import annotations

import functools
import platform
import subprocess
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
        "torch": torch.__version__,
        "timm": timm.__version__,
        "hydra": hydra.__version__,
        "ptflops": getattr(ptflops, "__version__", None),
    }
    try:
        import wandb

        out["wandb"] = wandb.__version__
    except ImportError:
        out["wandb"] = None
    return out
