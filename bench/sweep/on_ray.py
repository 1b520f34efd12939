"""Jobs as Ray tasks (``hydra/launcher=ray``), every one collected, and Ray stopped at the end.

hydra-ray-launcher submits one task per job and returns ``[ray.get(r) for r
in refs]``: the first task whose worker died (``WorkerCrashedError``) or that
raised ends the sweep's launch while later tasks still run, so their points
would be judged lost. Here each job is submitted as the plugin submits it,
through its private ``_launcher_util.launch_job_on_ray`` (reached through
:mod:`bench.config.hydra_private`), and each one's return value or exception
is collected, in order, once every task has ended. A local Ray instance
that the sweep started is stopped at its end (:func:`stop`), so no Ray
process outlives the command.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf, open_dict

from bench.config import hydra_private
from bench.sweep.launch import announce, collect

log = logging.getLogger("bench.sweep")

LAUNCHER = (f"{hydra_private.RAY}.ray_launcher", "RayLauncher")

# ray.init arguments that only make sense when starting a local instance
LOCAL_ONLY = ("_node_ip_address", "include_dashboard", "num_cpus", "num_gpus",
              "object_store_memory")  # fmt: skip

OBJECT_STORE_BYTES = 78_643_200  # the plugin's default: jobs pass configs, not tensors


def handles(launcher: Any) -> bool:
    """Whether ``launcher`` is hydra-ray-launcher's local/cluster launcher (not its AWS one)."""
    ray_launcher = hydra_private.plugin_class(*LAUNCHER)
    return ray_launcher is not None and type(launcher) is ray_launcher


def init_args(launcher: Any) -> dict[str, Any]:
    """``ray.init``'s arguments from the preset; unset (null) ones are left to Ray."""
    init = OmegaConf.to_container(hydra_private.ray_settings(launcher)[0], resolve=True)
    assert isinstance(init, dict)
    args = {str(k): v for k, v in init.items() if v is not None}
    if "address" in args:  # joining a cluster: its head node decides these
        return {k: v for k, v in args.items() if k not in LOCAL_ONLY}
    return {"object_store_memory": OBJECT_STORE_BYTES, **args}


def launch(launcher: Any, batch: list[list[str]], first: int) -> list[Any]:
    """Run consecutive jobs numbered from ``first`` as Ray tasks: each one's return (a Hydra
    ``JobReturn``) or exception, once all have ended."""
    import ray
    from hydra.core.utils import setup_globals

    setup_globals()
    own = hydra_private.state(launcher)
    announce(Path(str(own.config.hydra.sweep.dir)), batch, first)
    if not ray.is_initialized():
        args = init_args(launcher)
        log.info("starting Ray: %s", args)
        ray.init(**args)
    refs = []
    for num, overrides in enumerate(batch, start=first):
        cfg = own.hydra_context.config_loader.load_sweep_config(own.config, list(overrides))
        with open_dict(cfg):
            cfg.hydra.job.id = f"job_id_for_{num}"
            cfg.hydra.job.num = num
            refs.append(hydra_private.launch_job_on_ray(launcher, cfg))
    return collect(refs, ray.get)


def stop() -> None:
    """Disconnect from Ray; a local instance this process started stops with its processes."""
    import sys

    ray = sys.modules.get("ray")  # never imported: nothing to stop
    if ray is not None and ray.is_initialized():
        ray.shutdown()


is_ray = handles  # the names before the adapters (bench.sweep.launch)
launch_ray = launch
