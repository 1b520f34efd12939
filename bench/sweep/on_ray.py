"""Jobs as Ray tasks: the Ray launcher's ``launch``, but every job is collected, and Ray stopped.

hydra-ray-launcher submits one task per job and returns ``[ray.get(r) for r
in refs]``: the first task whose worker died (``WorkerCrashedError``) or that
raised ends the sweep's launch while later tasks still run, so their points
would be judged lost. Here the tasks are submitted through the plugin's own
public helpers (``start_ray``, ``launch_job_on_ray``) and each one's return
value or exception is collected, in order, once every task has ended. A
local Ray instance that the sweep started is stopped at its end
(:func:`stop`), so no Ray process outlives the command.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf, open_dict

log = logging.getLogger(__name__)

# ray.init arguments that only make sense when starting a local instance
LOCAL_ONLY = ("_node_ip_address", "include_dashboard", "num_cpus", "num_gpus",
              "object_store_memory")  # fmt: skip

OBJECT_STORE_BYTES = 78_643_200  # the plugin's default: jobs pass configs, not tensors


def is_ray(launcher: Any) -> bool:
    """Whether ``launcher`` is hydra-ray-launcher's local/cluster launcher (not its AWS one)."""
    try:
        from hydra_plugins.hydra_ray_launcher.ray_launcher import RayLauncher
    except ImportError:  # the cluster extra is not installed
        return False
    return type(launcher) is RayLauncher


def init_args(launcher: Any) -> dict[str, Any]:
    """``ray.init``'s arguments from the preset; unset (null) ones are left to Ray."""
    init = OmegaConf.to_container(launcher.ray_cfg.init, resolve=True)
    assert isinstance(init, dict)
    args = {str(k): v for k, v in init.items() if v is not None}
    if "address" in args:  # joining a cluster: its head node decides these
        return {k: v for k, v in args.items() if k not in LOCAL_ONLY}
    return {"object_store_memory": OBJECT_STORE_BYTES, **args}


def launch_ray(launcher: Any, batch: list[list[str]], first: int) -> list[Any]:
    """Run consecutive jobs numbered from ``first`` as Ray tasks: each one's return or exception."""
    import ray
    from hydra.core.singleton import Singleton
    from hydra.core.utils import filter_overrides, setup_globals
    from hydra_plugins.hydra_ray_launcher._launcher_util import launch_job_on_ray

    setup_globals()
    Path(str(launcher.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
    if not ray.is_initialized():
        args = init_args(launcher)
        log.info("starting Ray: %s", args)
        ray.init(**args)
    refs = []
    for num, overrides in enumerate(batch, start=first):
        log.info("\t#%d : %s", num, " ".join(filter_overrides(overrides)))
        cfg = launcher.hydra_context.config_loader.load_sweep_config(
            launcher.config, list(overrides)
        )
        with open_dict(cfg):
            cfg.hydra.job.id = f"job_id_for_{num}"
            cfg.hydra.job.num = num
            refs.append(
                launch_job_on_ray(
                    launcher.hydra_context,
                    launcher.ray_cfg.remote,
                    cfg,
                    launcher.task_function,
                    Singleton.get_state(),
                )
            )
    collected: list[Any] = []
    for ref in refs:
        try:
            collected.append(ray.get(ref))
        except Exception as exc:  # the task's worker died, or the job raised
            collected.append(exc)
    return collected


def stop() -> None:
    """Disconnect from Ray; a local instance this process started stops with its processes."""
    import sys

    ray = sys.modules.get("ray")  # never imported: nothing to stop
    if ray is not None and ray.is_initialized():
        ray.shutdown()
