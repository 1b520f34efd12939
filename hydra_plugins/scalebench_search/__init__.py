"""Hydra plugin of scalebench: the coefficient-search sweeper behind ``python -m bench.search``."""

from hydra.core.config_store import ConfigStore

ConfigStore.instance().store(
    group="hydra/sweeper",
    name="coefficients",
    node={"_target_": "hydra_plugins.scalebench_search.sweeper.CoefficientSweeper"},
    provider="scalebench",
)
