"""``python -m bench.run``: train one (strategy, phi, seed) point; ``-m`` trains a sweep.

    python -m bench.run -m strategy=depth,width,compound     # every level in hydra.sweeper.params
    python -m bench.run strategy=width phi=2 seed=1          # one point
    python -m bench.run --help                               # groups, choices and common keys

The job is :func:`bench.train.point.run_point`; a sweep is run by scalebench's
sweeper (``hydra_plugins/scalebench``), which checks every job's config
before the first starts and draws the figures after the last.
"""

from __future__ import annotations

import gc
from typing import Any

import hydra

from bench.config.compose import CONF_DIR


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: Any) -> dict[str, Any]:
    """Hydra's entry point for one job."""
    # Imported here, not above: ``--help`` answers without loading torch, timm and torchvision.
    from bench.train.point import run_point

    return run_point(cfg)


if __name__ == "__main__":
    # Everything imported so far lives until exit: keep the collector from walking it,
    # during the job and again while the interpreter shuts down.
    gc.freeze()
    main()
