"""Every use of Hydra's private API, and of its launcher plugins' insides, in one module.

What scalebench relies on that Hydra does not promise, and why:

- Hydra's basic sweeper (``hydra._internal``): scalebench's sweepers extend it
  (``hydra_plugins/scalebench``), and :func:`split_arguments` is its expansion of
  ``-m`` overrides into jobs, in the order it launches them (``bench.plan`` shows
  the same jobs).
- the submitit plugin's classes, the parameters its launcher keeps and the call each
  of its jobs runs: the plugin's own ``launch`` returns ``[j.results()[0] for j in
  jobs]``, which raises at the first dead job while later jobs still run, so
  :mod:`bench.sweep.on_submitit` builds the same executor and collects every job.
- hydra-ray-launcher's ``_launcher_util.launch_job_on_ray`` and its launcher's
  ``ray_cfg``: its ``launch`` returns ``ray.get`` of each task in order and stops at
  the first dead worker, so :mod:`bench.sweep.on_ray` submits the tasks itself.
- what those launchers keep after ``setup`` (``config``, ``hydra_context``,
  ``task_function``).

Each is reached through a function here that raises :class:`HydraChanged`, naming the
installed versions, when it is gone. :func:`problems` checks all of them at once;
``tests/config/test_hydra_private.py`` fails with its lines when an upgrade changed one.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, NamedTuple

BASIC = "hydra._internal.core_plugins.basic_sweeper"
SUBMITIT = "hydra_plugins.hydra_submitit_launcher"
RAY = "hydra_plugins.hydra_ray_launcher"
DISTRIBUTIONS = ("hydra-core", "hydra-submitit-launcher", "hydra-ray-launcher")


class HydraChanged(RuntimeError):
    """Something of Hydra's or a launcher plugin's insides that scalebench uses is gone."""


@dataclass(frozen=True)
class Relied:
    """One thing scalebench uses: ``module.name``, how it is called and what it holds."""

    module: str
    name: str  # dotted inside the module: a class, a function or a method
    parameters: tuple[str, ...] = ()  # its first parameters, in order, as scalebench passes them
    attributes: tuple[str, ...] = ()  # what an instance built from ``build`` must have
    build: dict[str, Any] | None = field(default=None, hash=False)  # keyword arguments


STATE = ("config", "hydra_context", "task_function")  # a launcher's, after setup
RELIED_ON = (
    Relied(BASIC, "BasicSweeper", ("max_batch_size", "params"),
           ("params", "config", "hydra_context", "launcher"), {"max_batch_size": None}),
    Relied(BASIC, "BasicSweeper.setup", ("self", "hydra_context", "task_function", "config")),
    Relied(BASIC, "BasicSweeper.split_arguments", ("overrides", "max_batch_size")),
    Relied(f"{SUBMITIT}.submitit_launcher", "BaseSubmititLauncher", (), ("params", *STATE), {}),
    Relied(f"{SUBMITIT}.submitit_launcher", "BaseSubmititLauncher.__call__",
           ("self", "sweep_overrides", "job_dir_key", "job_num", "job_id", "singleton_state")),
    Relied(f"{SUBMITIT}.submitit_launcher", "SlurmLauncher"),
    Relied(f"{SUBMITIT}.config", "BaseQueueConf"),
    Relied(f"{RAY}.ray_launcher", "RayLauncher", ("ray",), ("ray_cfg", *STATE),
           {"ray": {"init": {}, "remote": {}}}),
    Relied(f"{RAY}._launcher_util", "launch_job_on_ray",
           ("hydra_context", "ray_remote", "sweep_config", "task_function", "singleton_state")),
)  # fmt: skip


def versions() -> str:
    """The installed versions of Hydra and its launcher plugins, for an error line."""
    found = []
    for name in DISTRIBUTIONS:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def changed(what: str, why: object) -> HydraChanged:
    """The error for something relied on that is gone or different."""
    return HydraChanged(
        f"scalebench relies on {what}, which the installed {versions()} no longer provide "
        f"as it expects ({why}); install the versions pinned in pyproject.toml"
    )


def installed(module: str) -> bool:
    """Whether the package of ``module`` is there (a launcher plugin is an optional extra)."""
    top = ".".join(module.split(".")[:2])
    try:
        return importlib.util.find_spec(top) is not None
    except ModuleNotFoundError:
        return False


def resolve(module: str, name: str) -> Any:
    """``module.name`` (``name`` may be dotted), or :class:`HydraChanged`."""
    try:
        found: Any = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise changed(f"{module}.{name}", exc) from exc
    return found


def plugin_class(module: str, name: str) -> type | None:
    """A launcher plugin's class; None when that plugin is not installed."""
    return resolve(module, name) if installed(module) else None


def basic_sweeper() -> type:
    """Hydra's basic sweeper class, as it is now.

    Looked up at each use, never kept: Hydra's plugin scan executes every
    module of ``hydra._internal.core_plugins`` and ``hydra_plugins`` again,
    which makes new classes, and a subclass of an earlier one fails in
    ``super()`` (the same holds for the plugins' classes).
    """
    return resolve(BASIC, "BasicSweeper")


def split_arguments(parsed: list[Any]) -> list[list[str]]:
    """Every job's overrides from parsed ``-m`` overrides, in the basic sweeper's order."""
    (jobs,) = basic_sweeper().split_arguments(parsed, None)  # type: ignore[attr-defined]
    return jobs


class LauncherState(NamedTuple):
    """What a launcher holds after Hydra's ``setup``."""

    config: Any
    hydra_context: Any
    task_function: Any


def state(launcher: Any) -> LauncherState:
    """The launcher's config, Hydra context and task, as its ``setup`` kept them."""
    try:
        return LauncherState(*(getattr(launcher, name) for name in STATE))
    except AttributeError as exc:
        raise changed(f"{type(launcher).__name__}'s {', '.join(STATE)}", exc) from exc


def submitit_settings(launcher: Any) -> tuple[str, dict[str, Any], frozenset[str]]:
    """The submitit launcher's kind (``slurm`` or ``local``, its class), its parameters, and
    the parameter names every queue shares (the rest are prefixed with the kind)."""
    from omegaconf import OmegaConf

    slurm = resolve(f"{SUBMITIT}.submitit_launcher", "SlurmLauncher")
    queue = resolve(f"{SUBMITIT}.config", "BaseQueueConf")
    try:
        params = dict(launcher.params)
    except AttributeError as exc:
        raise changed(f"{type(launcher).__name__}.params", exc) from exc
    kind = "slurm" if isinstance(launcher, slurm) else "local"
    return kind, params, frozenset(str(k) for k in OmegaConf.structured(queue))


def submitit_job(overrides: list[str], num: int) -> tuple[Any, ...]:
    """The arguments of the submitit launcher's ``__call__`` (what each of its jobs runs) for
    job ``num``, as its own ``launch`` passes them."""
    from hydra.core.singleton import Singleton

    return (list(overrides), "hydra.sweep.dir", num, f"job_id_for_{num}", Singleton.get_state())


def ray_settings(launcher: Any) -> tuple[Any, Any]:
    """The Ray launcher's ``ray.init`` arguments and its per-task ``ray.remote`` options."""
    try:
        return launcher.ray_cfg.init, launcher.ray_cfg.remote
    except AttributeError as exc:
        raise changed(f"{type(launcher).__name__}.ray_cfg", exc) from exc


def launch_job_on_ray(launcher: Any, cfg: Any) -> Any:
    """Submit one composed job as a Ray task, as hydra-ray-launcher does: its ObjectRef."""
    from hydra.core.singleton import Singleton

    submit = resolve(f"{RAY}._launcher_util", "launch_job_on_ray")
    own = state(launcher)
    remote = ray_settings(launcher)[1]
    return submit(own.hydra_context, remote, cfg, own.task_function, Singleton.get_state())


def problems() -> list[str]:
    """A line for each thing of :data:`RELIED_ON` that the installed versions no longer provide
    as scalebench expects (a plugin that is not installed is skipped)."""
    found = []
    for item in RELIED_ON:
        if not installed(item.module):
            continue
        try:
            check(item)
        except HydraChanged as exc:
            found.append(str(exc))
    return found


def check(item: Relied) -> None:
    """Raise :class:`HydraChanged` unless ``item`` is there, takes its parameters in order and
    builds an instance holding its attributes."""
    target = resolve(item.module, item.name)
    what = f"{item.module}.{item.name}"
    if item.parameters:
        have = tuple(inspect.signature(target).parameters)[: len(item.parameters)]
        if have != item.parameters:
            raise changed(f"{what}{item.parameters}", f"its parameters are {have}")
    if item.build is not None:
        built = target(**item.build)
        missing = [name for name in item.attributes if not hasattr(built, name)]
        if missing:
            raise changed(f"{what}'s {', '.join(item.attributes)}", f"{missing} are missing")
