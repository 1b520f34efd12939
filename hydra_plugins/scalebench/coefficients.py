"""The sweeper of ``bench.search``: EfficientNet's phi = 1 grid, then the winning strategy.

Hydra only loads sweepers from the ``hydra_plugins`` package; the search's
logic lives in :mod:`bench.search`. After every job's config is checked, the
jobs are launched exactly as a ``bench.run`` sweep's (the same
``launch_all``): each candidate trains in a child its job process watches, a
candidate whose process died ends ``failed`` while the others finish, jobs a
launcher killed with it are relaunched. Then the candidates are ranked and
drawn, the winner written, and the command exits 1 unless every candidate's
point finished ``ok``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra_plugins.scalebench.sweeper import ScalebenchSweeper


class CoefficientSweeper(ScalebenchSweeper):
    """Enumerates the (alpha, beta, gamma) grid, launches one job per candidate and seed."""

    def __init__(self, max_batch_size: Any = None, params: Any = None) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)

    def sweep(self, arguments: list[str]) -> Any:
        """Launch every candidate, then rank them, write the winner and set the exit status."""
        from bench.config.validate import validate
        from bench.errors import UserError, fail
        from bench.search import RANKED_ON, finish_search, grid, job_overrides, realizable
        from bench.sweep.finish import points_line
        from bench.sweep.start import open_sweep

        assert self.config is not None
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
        points = [p.name for p in self.checked.points]
        open_sweep(sweep_dir, self.config, config.sweep, points, list(arguments),
                   candidates=[c.astuple() for c in candidates], seeds=seeds,
                   ranked_on=RANKED_ON)  # fmt: skip
        returns = self.launch_all(jobs)
        try:
            finish_search(config, sweep_dir, candidates)
        except UserError as exc:
            fail(str(exc))
        if line := points_line(sweep_dir, self.checked):
            fail(line)
        return [returns]
