"""Shared fixtures: composed configs, generated data trees, isolated run folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.config import compose_config

REPO = Path(__file__).resolve().parent.parent
SHARED_CIFAR = REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"

os.environ.setdefault("WANDB_SILENT", "true")


@pytest.fixture
def compose():
    """Compose the real ``conf/`` with overrides, as a job of ``bench.run`` would see it."""
    return lambda *overrides: compose_config(list(overrides))
