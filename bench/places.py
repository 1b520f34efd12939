"""Where a run writes, checked before anything is written: a bad place is one line, exit 1.

Hydra creates a single run's folder before the job's code runs, so a
``sweep=../escape`` would land outside ``runs_dir`` and ``runs_dir=/proc/x``
would end in Hydra's traceback. :class:`CheckPlaces`, a Hydra callback,
checks the composed config first (Hydra calls it before it makes the run's
folder); a multirun is checked by the sweeper before its first folder
(:func:`bench.sweep.finish.check_jobs` calls :func:`check_writable`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from bench.errors import UserError, fail


def check_writable(runs_dir: str) -> None:
    """Create ``runs_dir`` and a file in it; a UserError naming it when either fails."""
    folder = Path(runs_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(
            f"runs_dir={runs_dir} cannot be written ({reason}); choose a folder you can write"
        ) from None


def check_places(cfg: Any) -> None:
    """Check a run's config, runs_dir and data (``cfg`` as composed); a UserError if bad."""
    from bench.data import check_data
    from bench.validate import validate

    config = validate(cfg)
    check_data(config.data)
    check_writable(config.runs_dir)


class CheckPlaces(Callback):
    """Hydra callback (``hydra.callbacks`` in ``conf/config.yaml``): a single run's places are
    checked after Hydra composes its config and before it creates the run's folder."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """One ``error:`` line and exit 1 for a bad name, runs_dir or data path."""
        try:
            check_places(config)
        except UserError as exc:
            fail(str(exc))
