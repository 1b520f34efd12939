"""A Hydra sweeper that trains EfficientNet's phi = 1 grid and writes the winning strategy.

Hydra only loads sweepers from the ``hydra_plugins`` package; the logic
lives in :mod:`bench.search`. Jobs go to whichever launcher is configured
(basic, joblib, submitit), exactly like a ``bench.run`` sweep.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf


class CoefficientSweeper(Sweeper):
    """Enumerates the (alpha, beta, gamma) grid, launches one job per candidate and seed."""

    def __init__(self, params: Any = None, max_batch_size: Any = None) -> None:
        self.config: DictConfig | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """Keep the config and build the configured launcher."""
        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        """Launch every candidate, then rank them and write the winner."""
        from bench.errors import UserError, fail
        from bench.results import atomic_write_json
        from bench.search import finish_search, grid, job_overrides, realizable, seed_list

        cfg = self.config
        assert cfg is not None
        try:
            mode = str(cfg.search.mode)
            if mode not in ("matched", "literal"):
                raise UserError(f"search.mode={mode!r} is not one of ['matched', 'literal']")
            candidates = realizable(cfg, grid(cfg.search))
            seeds = seed_list(cfg.search)
        except UserError as exc:
            fail(str(exc))
        jobs = [[*arguments, *job_overrides(c, seed, mode)] for c in candidates for seed in seeds]
        sweep_dir = Path(cfg.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(cfg, sweep_dir / "multirun.yaml")
        atomic_write_json(
            sweep_dir / "sweep.json",
            {
                "sweep": str(cfg.sweep),
                "jobs": len(jobs),
                "candidates": [c.astuple() for c in candidates],
                "seeds": seeds,
                "overrides": list(arguments),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            },
        )
        returns = self.launcher.launch(jobs, initial_job_idx=0)
        try:
            finish_search(cfg, sweep_dir, candidates)
        except UserError as exc:
            fail(str(exc))
        return [returns]
