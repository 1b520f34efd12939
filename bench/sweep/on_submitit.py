"""Jobs as submitit jobs (``hydra/launcher=submitit_local`` or ``slurm``), every one collected.

The plugin's own ``launch`` returns ``[j.results()[0] for j in jobs]``: the
first job that died raises ``UncompletedJobError`` while later jobs still
run, and the sweep would end without them. Here the same executor is built
from the launcher's parameters, the jobs are submitted as the plugin submits
them, and each one's return value or exception is collected, in order, once
every job has ended. The plugin's insides are reached through
:mod:`bench.config.hydra_private`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from bench.config import hydra_private
from bench.sweep.launch import announce, collect

log = logging.getLogger("bench.sweep")

BASE = (f"{hydra_private.SUBMITIT}.submitit_launcher", "BaseSubmititLauncher")
SPECIFIC = frozenset({"max_num_timeout"})  # passed when the executor is made, prefixed


def handles(launcher: Any) -> bool:
    """Whether ``launcher`` is the submitit plugin's (local or SLURM)."""
    base = hydra_private.plugin_class(*BASE)
    return base is not None and isinstance(launcher, base)


def executor(launcher: Any) -> Any:
    """The executor the submitit launcher builds in its ``launch``, from its parameters.

    Its kind (``local`` or ``slurm``) is the launcher's class; the keys are
    named as the plugin names them (cluster-specific ones prefixed).
    """
    import submitit

    kind, params, shared = hydra_private.submitit_settings(launcher)
    init = {f"{kind}_{k}": v for k, v in params.items() if k in SPECIFIC}
    made = submitit.AutoExecutor(cluster=kind, folder=params["submitit_folder"], **init)
    rest = {k: v for k, v in params.items() if k not in SPECIFIC | {"submitit_folder"}}
    made.update_parameters(**{k if k in shared else f"{kind}_{k}": v for k, v in rest.items()})
    return made


def launch(launcher: Any, batch: list[list[str]], first: int) -> list[Any]:
    """Submit consecutive jobs numbered from ``first`` as one job array; each one's return
    (a Hydra ``JobReturn``) or exception, once all have ended."""
    config = hydra_private.state(launcher).config
    sweep_dir = Path(str(config.hydra.sweep.dir))
    log.info("Submitit sweep output dir : %s", sweep_dir)
    announce(sweep_dir, batch, first)
    if "mode" in config.hydra.sweep:
        os.chmod(sweep_dir, mode=int(str(config.hydra.sweep.mode), 8))
    arguments = [hydra_private.submitit_job(overrides, num)
                 for num, overrides in enumerate(batch, start=first)]  # fmt: skip
    jobs = executor(launcher).map_array(launcher, *zip(*arguments, strict=True))
    return collect(jobs, lambda job: job.results()[0])


def stop() -> None:
    """Nothing to stop: the launcher's processes end with their jobs."""
