"""Compose the project's Hydra configs outside a Hydra app, and expand sweeps like Hydra does.

``bench.plan`` and the tests need the exact configs a ``bench.run -m`` sweep
would give its jobs, without running the jobs. Hydra's compose API plus its
own override parser and BasicSweeper expansion give exactly that.
"""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from bench.errors import UserError

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"


def one_line(exc: BaseException) -> str:
    """An exception's message folded onto one line (Hydra's span several)."""
    text = str(exc).split("\nConfig search path")[0]
    text = " ".join(text.replace("\t", " ").split())
    return text.replace("Available options in", "- available options in")


def compose_config(
    overrides: list[str] | tuple[str, ...] = (),
    config_name: str = "config",
    return_hydra_config: bool = False,
) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with overrides; a bad override is a UserError."""
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            return compose(
                config_name, overrides=list(overrides), return_hydra_config=return_hydra_config
            )
    except (HydraException, OmegaConfBaseException) as exc:
        raise UserError(one_line(exc)) from exc
    finally:
        GlobalHydra.instance().clear()


def sweep_defaults(config_name: str = "config") -> list[str]:
    """The sweep that ``-m`` runs when the command line names none (``hydra.sweeper.params``)."""
    cfg = compose_config(config_name=config_name, return_hydra_config=True)
    params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
    return [f"{k}={v}" for k, v in params.items()]


def expand_sweep(arguments: list[str], config_name: str = "config") -> list[list[str]]:
    """Every job's override list, in the order Hydra's basic sweeper would launch them.

    Comma lists, ``range()`` and the config's own ``hydra.sweeper.params``
    expand as in ``bench.run -m``; a later value for a key replaces an earlier one.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    try:
        parsed = OverridesParser.create().parse_overrides(
            sweep_defaults(config_name) + list(arguments)
        )
        (jobs,) = BasicSweeper.split_arguments(parsed, None)
    except HydraException as exc:
        raise UserError(one_line(exc)) from exc
    return jobs


def phi_of(cfg: DictConfig) -> float:
    """The point's budget level, checked: a finite number."""
    try:
        phi = float(cfg.phi)
    except (TypeError, ValueError):
        raise UserError(f"phi={cfg.phi!r} is not a number; use e.g. phi=1 or phi=0,1,2") from None
    if phi != phi or abs(phi) > 12:
        raise UserError(f"phi={cfg.phi!r} is out of range; use a number between -12 and 12")
    return phi
