"""The sweeper of ``bench.search``: EfficientNet's phi = 1 grid, then the winning strategy.

Hydra only loads sweepers from the ``hydra_plugins`` package; the logic
lives in :mod:`bench.search`. Jobs go to whichever launcher is configured
(basic, joblib, submitit), exactly like a ``bench.run`` sweep, after every
job's config is checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from hydra_plugins.scalebench.sweeper import ScalebenchSweeper


class CoefficientSweeper(ScalebenchSweeper):
    """Enumerates the (alpha, beta, gamma) grid, launches one job per candidate and seed."""

    def __init__(self, max_batch_size: Any = None, params: Any = None) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)

    def sweep(self, arguments: list[str]) -> Any:
        """Launch every candidate, then rank them and write the winner."""
        from bench.config.validate import validate
        from bench.errors import UserError, fail
        from bench.search import RANKED_ON, finish_search, grid, job_overrides, realizable
        from bench.sweep.finish import write_manifest

        assert self.config is not None and self.launcher is not None
        try:
            config = validate(self.config)
            assert config.search is not None
            candidates = realizable(config, grid(config.search))
        except UserError as exc:
            fail(str(exc))
        seeds, mode = config.search.seed_list(), config.search.mode
        jobs = [[*arguments, *job_overrides(c, seed, mode)] for c in candidates for seed in seeds]
        self.check(jobs)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        candidates_json = [c.astuple() for c in candidates]
        write_manifest(
            sweep_dir,
            config.sweep,
            [p.name for p in self.checked.points],
            list(arguments),
            candidates=candidates_json,
            seeds=seeds,
            ranked_on=RANKED_ON,
        )
        returns = self.launcher.launch(jobs, initial_job_idx=0)
        try:
            finish_search(config, sweep_dir, candidates)
        except UserError as exc:
            fail(str(exc))
        return [returns]
