"""Hydra plugins of scalebench: the sweeper behind every ``bench.run -m`` and ``bench.search``.

Hydra loads sweepers only from the ``hydra_plugins`` package, so the two
sweepers live here and stay thin: checking the jobs, launching them and
finishing the sweep live in :mod:`bench.sweep`, the search in
:mod:`bench.search`.
"""

from hydra.core.config_store import ConfigStore

_SWEEPER = "hydra_plugins.scalebench.sweeper.ScalebenchSweeper"
ConfigStore.instance().store(
    group="hydra/sweeper",
    name="scalebench",
    node={"_target_": _SWEEPER, "max_batch_size": None, "params": None},
    provider="scalebench",
)
ConfigStore.instance().store(
    group="hydra/sweeper",
    name="coefficients",
    node={"_target_": "hydra_plugins.scalebench.coefficients.CoefficientSweeper"},
    provider="scalebench",
)
