"""What the tracker uses of W&B that W&B does not promise, in one place.

- ``wandb.Settings``' experimental fields (the ``x_`` prefix: no promise
  between releases) ``x_disable_stats`` (no system-stats sampling beside
  training) and ``x_save_requirements`` (no ``requirements.txt`` snapshot;
  a result records its versions itself).
- ``wandb.sdk.launch.inputs.internal``, the module the first ``wandb.init``
  of a process imports, which :func:`bench.track.tracker.warm_up` imports
  ahead of time.

W&B's Settings refuse a field they do not know, and a refused Settings would
turn logging off for the whole run; so :func:`private_settings` passes only
the fields the installed W&B still has, and a lost one costs what it turned
off, with a warning. :func:`problems` lists what changed;
``tests/track/test_wandb_private.py`` fails with its lines on an upgrade.
"""

from __future__ import annotations

import importlib
import logging
from importlib import metadata
from typing import Any

log = logging.getLogger(__name__)

SETTINGS = {"x_disable_stats": True, "x_save_requirements": False}  # field -> value passed
WARM_MODULE = "wandb.sdk.launch.inputs.internal"


def settings_fields(wandb: Any) -> set[str]:
    """The fields the installed ``wandb.Settings`` accepts."""
    return set(getattr(wandb.Settings, "model_fields", {}))


def private_settings(wandb: Any) -> dict[str, Any]:
    """:data:`SETTINGS` less the fields the installed W&B no longer has (each one warned of)."""
    fields = settings_fields(wandb)
    for gone in sorted(set(SETTINGS) - fields):
        log.warning("W&B %s has no Settings.%s; left out", metadata.version("wandb"), gone)
    return {k: v for k, v in SETTINGS.items() if k in fields}


def problems() -> list[str]:
    """A line for each private thing the installed W&B no longer provides as expected."""
    import wandb

    version = metadata.version("wandb")
    found = [f"wandb {version}: Settings has no field {name}"
             for name in SETTINGS if name not in settings_fields(wandb)]  # fmt: skip
    try:
        importlib.import_module(WARM_MODULE)
    except ImportError as exc:
        found.append(f"wandb {version}: {WARM_MODULE} cannot be imported ({exc})")
    return found
