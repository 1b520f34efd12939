"""The training process of one job: ``python -m bench.sweep.child HANDOFF``.

Started by :func:`bench.sweep.supervise.run_child`, it takes over its
supervisor's Hydra config, working folder and signal choices from the
handoff file (plain JSON), runs the job's function, leaves its last word
(``returned`` with the value, or the traceback) where the supervisor reads
it, and exits. When its supervisor dies it says so in the sweep's ledger and
stops, so a training never outlives the job that owns it.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

from bench.store import atomic_write_json
from bench.sweep.ledger import MIRRORED, Ledger
from bench.train import stop

OOM_SCORE_ADJ = 500  # the kernel's out-of-memory killer takes the training, not its supervisor
WATCH_SECONDS = 0.2  # how often the child checks that its supervisor is alive
ORPHANED = 75  # the exit status when it stopped because its supervisor died


def main(handoff_path: str) -> NoReturn:
    """Run the job described in ``handoff_path``; exit 0 when it returned, 1 when it raised."""
    handoff = json.loads(Path(handoff_path).read_text())
    code = 1
    try:
        watch_supervisor(handoff)
        adopt(handoff)
        code = run_job(handoff)
    except BaseException:
        traceback.print_exc()
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_job(handoff: dict[str, Any]) -> int:
    """Call the job's function with its config; write what happened; 0 when it returned."""
    from omegaconf import OmegaConf

    module, name = handoff["entry"]
    task: Any = importlib.import_module(module)
    for part in name.split("."):
        task = getattr(task, part)
    cfg = OmegaConf.create(handoff["cfg"]) if handoff["is_config"] else handoff["cfg"]
    try:
        message = {"returned": True, "value": task(cfg)}  # hydra.main passes cfg on
    except BaseException:
        message = {"returned": False, "traceback": traceback.format_exc()}
    atomic_write_json(Path(handoff["message"]), message)
    return 0 if message["returned"] else 1


def watch_supervisor(handoff: dict[str, Any]) -> None:
    """Stop, saying so in the ledger, when the supervisor dies (this process is reparented)."""
    parent = os.getppid()
    ledger = Path(handoff["ledger"]) if handoff["ledger"] else None

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        Ledger(ledger).write(
            handoff["num"],
            orphaned=f"its job process ({handoff['supervisor']}) died while it trained this point",
        )
        os._exit(ORPHANED)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def adopt(handoff: dict[str, Any]) -> None:
    """Take the supervisor's signal choices, folder, Hydra config and logging."""
    from hydra.conf import HydraConf
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import configure_log, setup_globals
    from omegaconf import OmegaConf

    stop.listen()  # the supervisor's request to checkpoint and stop
    for sig in MIRRORED:
        signal.signal(sig, signal.SIG_IGN if int(sig) in handoff["ignored"] else signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the supervisor's to handle
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (*MIRRORED, signal.SIGINT, stop.CHECKPOINT_SIGNAL))
    try:
        path = Path("/proc/self/oom_score_adj")
        path.write_text(str(max(int(path.read_text()), OOM_SCORE_ADJ)))
    except (OSError, ValueError):  # not Linux
        pass
    os.chdir(handoff["cwd"])
    sys.path[:] = handoff["sys_path"]
    setup_globals()
    node = OmegaConf.structured(HydraConf)
    OmegaConf.set_struct(node, False)  # Hydra adds keys of its own (``env``)
    HydraConfig.instance().set_config(
        OmegaConf.create({"hydra": OmegaConf.merge(node, handoff["hydra"])})
    )
    hydra = HydraConfig.get()
    configure_log(hydra.job_logging, hydra.verbose)


if __name__ == "__main__":
    main(sys.argv[1])
