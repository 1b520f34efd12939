"""Hydra, in one place: where the configs are, composing them, and expanding sweeps.

``bench.plan``, the sweeper and the tests need the exact configs a
``bench.run -m`` sweep would give its jobs, without running them: Hydra's
compose API plus its own override parser and sweep expansion give exactly
that. The order of a sweep's jobs is the basic sweeper's, which is Hydra's
private API: it is reached, like every other private part of Hydra that
scalebench uses, through :mod:`bench.config.hydra_private`.

The configs ship inside the package (``bench/conf`` in a wheel) and are read
from the checkout's top-level ``conf/`` otherwise. The point-folder resolver
(``${point_dir:...}``), the runs_dir expansion (``${expand:...}``, the one
:mod:`bench.store` uses) and the schema's defaults are registered on import,
so any entry point that composes ``conf/`` has them.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from bench import schema
from bench.config.hydra_private import split_arguments
from bench.errors import UserError, folded
from bench.store import expand_runs_dir, point_name

# conf/hydra/launcher/ray.yaml shares its name with hydra-ray-launcher's schema, which
# validates it (what we want); Hydra warns that this matching by name is deprecated.
warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/ray' is validated")


def _conf_dir() -> Path:
    package = Path(__file__).resolve().parent.parent
    installed = package / "conf"  # a wheel ships conf/ inside bench/
    return installed if installed.is_dir() else package.parent / "conf"


CONF_DIR = _conf_dir()
REPLACEABLE = ("phi", "seed")  # plain top-level values: no defaults list depends on them


def _point_dir(strategy: Any, phi: Any, seed: Any) -> str:
    """The ``${point_dir:...}`` resolver: the folder name ``bench.store`` defines."""
    try:
        return point_name(str(strategy), float(phi), int(seed))
    except (TypeError, ValueError):  # a bad value is reported by validation, not here
        return f"{strategy}_phi{phi}_seed{seed}"


def defaults() -> dict[str, Any]:
    """The untyped tree Hydra composes presets onto: every default :mod:`bench.schema` declares.

    Required keys (a model's depths, a dataset's kind) have no default and
    come from the presets.
    """
    tree: dict[str, Any] = {k: schema.Run.model_fields[k].default for k in schema.TOP_LEVEL}
    tree |= {name: cls().model_dump(mode="json") for name, cls in schema.SECTIONS.items()}
    tree["model"] = _field_defaults(schema.ModelConfig)
    tree["data"] = _field_defaults(schema.DataConfig)
    return _whole_numbers(tree)


def _whole_numbers(node: Any) -> Any:
    """3.0 as 3, so that names built from values (the sweep's, "epochs3") read as written."""
    if isinstance(node, dict):
        return {k: _whole_numbers(v) for k, v in node.items()}
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


def search_defaults() -> dict[str, Any]:
    """``search.*`` defaults, for ``conf/search.yaml``."""
    return _whole_numbers(schema.Search().model_dump(mode="json"))


def _field_defaults(cls: type[schema.Section]) -> dict[str, Any]:
    return {k: f.default for k, f in cls.model_fields.items() if not f.is_required()}


def register() -> None:
    """Put :func:`defaults` in Hydra's ConfigStore (``conf/config.yaml`` starts from it)."""
    store = ConfigStore.instance()
    store.store(name="scalebench_defaults", node=defaults(), provider="scalebench")
    store.store(
        name="scalebench_search_defaults",
        node={"search": search_defaults()},
        provider="scalebench",
    )


OmegaConf.register_new_resolver("point_dir", _point_dir, replace=True)
OmegaConf.register_new_resolver("expand", expand_runs_dir, replace=True)
register()


def compose_config(
    overrides: Iterable[str] = (), config_name: str = "config", return_hydra_config: bool = False
) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with overrides; a bad override is a UserError."""
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
            return compose(
                config_name, overrides=list(overrides), return_hydra_config=return_hydra_config
            )
    except (HydraException, OmegaConfBaseException) as exc:
        raise UserError(folded(exc)) from exc
    finally:
        GlobalHydra.instance().clear()


def split_sweep(overrides: list[str]) -> list[list[str]]:
    """Every job's override list, in the order Hydra's basic sweeper launches them."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        return split_arguments(parsed)
    except HydraException as exc:
        raise UserError(folded(exc)) from exc


def sweep_params(config: DictConfig) -> list[str]:
    """The config's own ``hydra.sweeper.params`` as overrides (what ``-m`` sweeps by default)."""
    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    return [f"{k}={v}" for k, v in params.items()]


def expand_sweep(arguments: list[str], config_name: str = "config") -> list[list[str]]:
    """The jobs ``bench.run -m ARGUMENTS`` launches; a later value for a key replaces an earlier.

    The default sweep (``hydra.sweeper.params``) is read from the config the
    plain arguments compose (an ``experiment=`` preset may set it).
    """
    try:
        parsed = OverridesParser.create().parse_overrides(list(arguments))
    except HydraException as exc:
        raise UserError(folded(exc)) from exc
    plain = [a for a, o in zip(arguments, parsed, strict=True) if not o.is_sweep_override()]
    base = compose_config(plain, config_name=config_name, return_hydra_config=True)
    return split_sweep(sweep_params(base) + list(arguments))


def _value(override: str) -> Any:
    try:
        return OverridesParser.create().parse_override(override).value()
    except HydraException:
        return override.partition("=")[2]


def compose_jobs(jobs: list[list[str]], compose_one: Any = None) -> list[DictConfig]:
    """Compose every job, once per group of jobs that differ only in ``phi`` and ``seed``.

    Hydra takes tens of milliseconds to compose a job; ``phi`` and ``seed`` are plain
    top-level values that no defaults list depends on, so setting them on a
    copy gives what composing would (interpolations that read them resolve
    lazily). ``compose_one(overrides)`` composes one job (default:
    :func:`compose_config`).
    """
    compose_one = compose_one or compose_config
    composed: dict[tuple[str, ...], DictConfig] = {}
    out = []
    for job in jobs:
        plain = [o for o in job if o.split("=", 1)[0] in REPLACEABLE]
        rest = tuple(o for o in job if o not in plain)
        if rest not in composed:
            composed[rest] = compose_one(list(rest))
        cfg = copy.deepcopy(composed[rest])
        for override in plain:
            key = override.split("=", 1)[0]
            OmegaConf.update(cfg, key, _value(override))
        out.append(cfg)
    return out


def hydra_job() -> tuple[bool, int | None]:
    """(whether this process runs a multirun job, its job number) from Hydra's runtime config."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hc = HydraConfig.get()
        if hc.mode != RunMode.MULTIRUN:
            return False, None
        return True, int(hc.job.num)
    except (ValueError, AttributeError, TypeError, OmegaConfBaseException):  # not in a Hydra app
        return False, None
