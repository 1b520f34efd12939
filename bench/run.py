"""``python -m bench.run``: train one (strategy, phi, seed) point; ``-m`` trains a sweep.

    python -m bench.run -m strategy=depth,width,compound     # every level in hydra.sweeper.params
    python -m bench.run strategy=width phi=2 seed=1          # one point

A job plans its point (solver), builds the model, loads data at the point's
resolution, trains for the equal budget, evaluates, and writes
``runs/<sweep>/<strategy>_phi<phi>_seed<seed>/result.json`` atomically.
What a point trains is identified by a hash of everything that decides it
(architecture, resolution, data, recipe, seed), so identical points (phi=0
of every strategy is one baseline) train once in ``runs/<sweep>/trained/``
and are shared. Finished points are skipped on a re-run; a killed point
resumes from its last checkpoint. A job never raises in a sweep: failures
are recorded in result.json and the sweep (and its figures) completes.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import platform
import re
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import DictConfig, OmegaConf

from bench import __version__
from bench import distributed as ddp
from bench.batches import DeviceBatches, StreamBatches, channel_stats
from bench.budget import Budget, plan_budget
from bench.claims import Claim
from bench.config import CONF_DIR, phi_of
from bench.errors import UserError, fail
from bench.models import build_model
from bench.plan import plan_config
from bench.progress import Progress
from bench.results import atomic_write_json, read_json
from bench.solver import PlannedPoint
from bench.tracking import Tracker, resolve_mode, warm_up

log = logging.getLogger("bench.run")

# train.* keys that change how a point is watched, not what it learns
COSMETIC_TRAIN_KEYS = ("log_every_seconds", "loss_check_every", "checkpoint_every", "eval_every")
COSMETIC_DATA_KEYS = ("workers", "cache_dir", "memory_limit_gb")
SUMMARY_KEYS = (
    "status", "top1", "top5", "macs", "params", "activations", "depth_mult", "width_mult",
    "res_mult", "resolution", "images_per_sec", "epochs", "train_flops", "shared", "macs_ratio",
)  # fmt: skip
DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


@dataclass(frozen=True)
class PointId:
    """Where a job's point lives: its sweep folder and its own folder."""

    strategy: str
    phi: float
    seed: int
    sweep_dir: Path
    name: str

    @property
    def dir(self) -> Path:
        """The point's folder (Hydra's job folder in a sweep)."""
        return self.sweep_dir / self.name

    @property
    def result_path(self) -> Path:
        """Where the point's result.json goes."""
        return self.dir / "result.json"


def point_id(cfg: DictConfig) -> PointId:
    """The point a config describes, named exactly as Hydra names its job folder."""
    phi = phi_of(cfg)
    try:
        seed = int(cfg.seed)
    except (TypeError, ValueError):
        raise UserError(f"seed={cfg.seed!r} is not an integer") from None
    sweep_dir = Path(str(cfg.runs_dir)).expanduser() / str(cfg.sweep)
    name = f"{cfg.strategy.name}_phi{cfg.phi}_seed{cfg.seed}"
    return PointId(str(cfg.strategy.name), phi, seed, sweep_dir, name)


def resolve_device(spec: str) -> torch.device:
    """``auto`` picks CUDA when present; anything else must exist on this machine."""
    spec = str(spec)
    if not DEVICE_PATTERN.match(spec):
        raise UserError(f"device={spec!r} is not one of auto, cpu, cuda, cuda:N")
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(
                f"device={spec} but no CUDA device is available; use device=auto or cpu"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UserError(
                f"device={spec} but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    return device


def training_key(cfg: DictConfig, planned: PlannedPoint, budget: Budget, seed: int) -> str:
    """Hash of everything that decides what a point learns (not how it is watched)."""
    train = {k: v for k, v in _plain(cfg.train).items() if k not in COSMETIC_TRAIN_KEYS}
    data = {k: v for k, v in _plain(cfg.data).items() if k not in COSMETIC_DATA_KEYS}
    payload = {
        "model": _plain(cfg.model),
        "arch": planned.candidate.arch.as_dict(),
        "resolution": planned.candidate.resolution,
        "data": data,
        "train": train,
        "steps": budget.steps,
        "seed": seed,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _plain(node: Any) -> dict[str, Any]:
    return OmegaConf.to_container(node, resolve=True)  # type: ignore[return-value]


def _sweep_position(pid: PointId) -> str:
    """ "k/n" in a multirun (from Hydra's job number and the sweep manifest), else ""."""
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hc = HydraConfig.get()
        if hc.mode != RunMode.MULTIRUN:
            return ""
        total = read_json(pid.sweep_dir / "sweep.json").get("jobs")
        return f"{int(hc.job.num) + 1}/{total} " if total else f"{int(hc.job.num) + 1} "
    except Exception:
        return ""


def _is_multirun() -> bool:
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        return HydraConfig.get().mode == RunMode.MULTIRUN
    except Exception:
        return False


def _versions() -> dict[str, str]:
    import hydra as hydra_mod
    import ptflops
    import timm

    out = {
        "scalebench": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "timm": timm.__version__,
        "hydra": hydra_mod.__version__,
        "ptflops": getattr(ptflops, "__version__", "?"),
    }
    try:
        import wandb

        out["wandb"] = wandb.__version__
    except Exception:
        pass
    return out


def _compile_seconds(outcome: Mapping[str, Any]) -> float | None:
    """torch.compile's cost: the first step's time beyond a steady step (None if not compiled)."""
    t = outcome.get("train_timings") or {}
    steps = int(outcome.get("steps") or 0) - int(outcome.get("resumed_from_step") or 0)
    if not outcome.get("compiled") or "first_step" not in t or steps < 2:
        return None
    train = t.get("train_this_process", t["train"])  # a resume carries earlier time in "train"
    steady = (train - t["first_step"]) / (steps - 1)
    return max(0.0, t["first_step"] - steady)


def _device_info(device: torch.device, d: ddp.Dist) -> dict[str, Any]:
    info: dict[str, Any] = {"type": device.type, "world_size": d.world}
    if device.type == "cuda":
        info["name"] = torch.cuda.get_device_name(device)
    else:
        info["name"] = platform.processor() or platform.machine()
        info["threads"] = torch.get_num_threads()
    return info


class PointRunner:
    """Everything one job does, step by step; each step is a method."""

    def __init__(self, cfg: DictConfig) -> None:
        self.t0 = time.perf_counter()
        self.cfg = cfg
        self.timings: dict[str, float] = {}
        self.pid = point_id(cfg)
        resolve_mode(cfg.logger)  # a bad logger.mode is a user error before any work
        if cfg.get("threads"):
            torch.set_num_threads(int(cfg.threads))
        device = resolve_device(cfg.device)
        self.dist = ddp.setup(device)
        if device.type == "cuda" and self.dist.world > 1:
            device = torch.device("cuda", self.dist.local_rank)
        self.device = device
        pid = self.pid
        self.label = f"[{_sweep_position(pid)}{pid.strategy} phi={pid.phi:g} seed={pid.seed}]"

    def _timed(self, name: str, start: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start

    # -- the job ----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Plan, reuse or train, record; returns the result dict."""
        start = time.perf_counter()
        self.planned = plan_config(self.cfg)
        if self.planned.infeasible:
            raise UserError(self.planned.note)
        self._timed("plan", start)

        if self.dist.is_main:
            warm_up(self.cfg.logger)  # W&B starts while the data loads
        start = time.perf_counter()
        from bench.data import load_data

        self.data = load_data(self.cfg.data)
        train_set = self.data.train
        self.n_train = (
            len(train_set.labels) if hasattr(train_set, "labels") else len(train_set.dataset)
        )
        self._timed("data", start)

        c = self.planned.candidate
        self.budget = plan_budget(self.cfg.train, self.n_train, c.cost.macs, self.planned.base_macs)
        ddp.check_batch(self.budget.batch_size, self.dist)
        self.key = training_key(self.cfg, self.planned, self.budget, self.pid.seed)
        self.trained_dir = self.pid.sweep_dir / "trained" / self.key

        existing = self._finished()
        if existing is not None:
            status, path = existing["status"], self.pid.result_path
            log.info("%s already finished (%s): %s", self.label, status, path)
            return existing

        self.tracker: Tracker | None = None
        outcome, shared = self._obtain_outcome()
        result = self._result(outcome, shared)
        if self.dist.is_main:
            atomic_write_json(self.pid.result_path, result)
            tracker = self.tracker or self._tracker()
            tracker.summary({k: result[k] for k in SUMMARY_KEYS})
            tracker.finish()
            log.info(
                "%s %s: top-1 %s, %.3g MACs -> %s",
                self.label,
                result["status"],
                "n/a" if result["top1"] is None else f"{100 * result['top1']:.2f}%",
                result["macs"],
                self.pid.result_path,
            )
        return result

    def _finished(self) -> dict[str, Any] | None:
        """The point's own result, when it is final and from the same training."""
        try:
            old = read_json(self.pid.result_path)
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if old.get("status") in ("ok", "diverged") and old.get("point_key") == self.key:
            return old
        return None

    def _obtain_outcome(self) -> tuple[dict[str, Any], bool]:
        """Reuse an identical point's outcome, or claim and train it (rank 0 decides)."""
        outcome_path = self.trained_dir / "outcome.json"
        claim = Claim(self.trained_dir)
        waited = False
        while True:
            decision = None
            if self.dist.is_main:
                if outcome_path.exists():
                    decision = "reuse"
                elif claim.try_acquire():
                    decision = "reuse" if outcome_path.exists() else "train"
                    if decision == "reuse":
                        claim.release()
                else:
                    decision = "wait"
            decision = ddp.broadcast(decision, self.dist)
            if decision == "reuse":
                outcome = read_json(outcome_path) if self.dist.is_main else {}
                return outcome, True
            if decision == "train":
                try:
                    outcome = self._train()
                    if self.dist.is_main:
                        atomic_write_json(outcome_path, outcome)
                finally:
                    if self.dist.is_main:
                        claim.release()
                return outcome, False
            if not waited:
                log.info(
                    "%s waiting: another worker is training this point (%s)",
                    self.label,
                    claim.holder(),
                )
                waited = True
            time.sleep(2.0)

    def _tracker(self) -> Tracker:
        cfg, pid = self.cfg, self.pid
        return Tracker(
            cfg.logger,
            directory=pid.sweep_dir,
            name=pid.name,
            group=str(cfg.sweep),
            job_type=pid.strategy,
            tags=[cfg.model.name, cfg.data.name, f"budget={cfg.train.budget}", f"phi={pid.phi:g}"],
            config=_plain(cfg),
            enabled=self.dist.is_main,
        )

    def _train(self) -> dict[str, Any]:
        """Build, train and evaluate the point; returns its outcome (JSON-ready)."""
        from bench.train import Trainer

        cfg, c = self.cfg, self.planned.candidate
        torch.manual_seed(self.pid.seed)
        start = time.perf_counter()
        model = build_model(cfg.model, c.arch, int(self.data.num_classes)).to(self.device)
        # channels_last pays on CPU too: oneDNN trains tiny 1.5x and evaluates 1.7x faster
        channels_last = _auto(cfg.train.channels_last, True)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        eval_model = model
        model = ddp.wrap(model, self.dist, self.device)
        compile_on = _auto(cfg.train.compile, False)
        if cfg.train.compile == "auto":
            compile_on = self.device.type == "cuda" and self.budget.steps >= int(
                cfg.train.get("compile_min_steps", 1000)
            )
        if compile_on:
            model = torch.compile(model)
        self._timed("build", start)

        start = time.perf_counter()
        train_b, test_b = self._batches(channels_last)
        self._timed("batches", start)

        tracker = self._tracker()
        trainer = Trainer(
            model,
            train_b,
            test_b,
            self.budget,
            cfg.train,
            self.device,
            checkpoint=self.trained_dir / "checkpoint.pt",
            progress=Progress(self.label, float(cfg.train.log_every_seconds), self.dist.is_main),
            on_log=tracker.log,
            is_main=self.dist.is_main,
            eval_model=eval_model,
        )
        try:
            outcome = trainer.fit()
        except BaseException:
            tracker.finish(exit_code=1)
            raise
        self.tracker = tracker
        ddp.barrier(self.dist)
        return {
            "status": outcome.status,
            "reason": outcome.reason,
            "top1": outcome.top1,
            "top5": outcome.top5,
            "history": outcome.history,
            "steps": outcome.steps_done,
            "images_per_sec": outcome.images_per_sec,
            "resumed_from_step": outcome.resumed_from_step,
            "compiled": compile_on,
            "channels_last": channels_last,
            "train_timings": outcome.timings,
            "device": _device_info(self.device, self.dist),
            "trained_by": self.pid.name,
        }

    def _batches(self, channels_last: bool) -> tuple[Any, Any]:
        cfg, res = self.cfg, self.planned.candidate.resolution
        data, seed, shard = self.data, self.pid.seed, self.dist.shard
        batch, eval_batch = int(cfg.train.batch_size), int(cfg.train.eval_batch_size)
        if hasattr(data.train, "images"):
            mean, std = channel_stats(data.train.images)
            common = {
                "device": self.device,
                "mean": mean,
                "std": std,
                "channels_last": channels_last,
            }
            train = DeviceBatches(
                data.train, res, batch, train=True, seed=seed, shard=shard, **common
            )
            test = DeviceBatches(data.test, res, eval_batch, train=False, seed=seed, **common)
            return train, test
        workers = int(cfg.data.get("workers", 2))
        common = {"device": self.device, "workers": workers, "channels_last": channels_last}
        train = StreamBatches(data.train, res, batch, train=True, seed=seed, shard=shard, **common)
        test = StreamBatches(data.test, res, eval_batch, train=False, seed=seed, **common)
        return train, test

    def _result(self, outcome: dict[str, Any], shared: bool) -> dict[str, Any]:
        """result.json: the interface keys first, then details."""
        cfg, p, c, b = self.cfg, self.planned, self.planned.candidate, self.budget
        status = outcome.get("status", "failed")
        steps = int(outcome.get("steps", b.steps))
        samples = steps * b.batch_size
        wall = time.perf_counter() - self.t0
        train_t = outcome.get("train_timings", {})
        return {
            "status": status,
            "reason": outcome.get("reason"),
            "strategy": self.pid.strategy,
            "phi": self.pid.phi,
            "seed": self.pid.seed,
            "top1": outcome.get("top1"),
            "top5": outcome.get("top5"),
            "macs": c.cost.macs,
            "params": c.cost.params,
            "activations": c.cost.activations,
            "depth_mult": c.scale.d,
            "width_mult": c.scale.w,
            "res_mult": c.scale.r,
            "resolution": c.resolution,
            "depths": list(c.arch.depths),
            "widths": list(c.arch.widths),
            "extra_blocks": c.scale.extra,
            "epochs": samples / self.n_train,
            "train_flops": 6.0 * c.cost.macs * samples,
            "wall_seconds": wall,
            "target_macs": int(round(p.target_macs)),
            "macs_ratio": p.macs_ratio,
            "images_per_sec": outcome.get("images_per_sec"),
            "samples_seen": samples,
            "steps": steps,
            "budget": b.mode,
            "model": str(cfg.model.name),
            "data": str(cfg.data.name),
            "sweep": str(cfg.sweep),
            "point_key": self.key,
            "shared": shared,
            "trained_by": outcome.get("trained_by"),
            "compiled": outcome.get("compiled", False),
            "compile_seconds": _compile_seconds(outcome),
            "channels_last": outcome.get("channels_last"),
            "resumed_from_step": outcome.get("resumed_from_step", 0),
            "device": outcome.get("device") or _device_info(self.device, self.dist),
            "timings": {**self.timings, **train_t, "job_wall": wall},
            "budget_detail": b.as_dict(),
            "history": outcome.get("history", []),
            "data_info": {"description": self.data.description, "skipped": self.data.skipped},
            "config": _plain(cfg),
            "versions": _versions(),
        }


def _auto(value: Any, default: bool) -> bool:
    if value == "auto" or value is None:
        return default
    return bool(value)


def failed_result(cfg: DictConfig, reason: str) -> dict[str, Any] | None:
    """Record a point that could not be trained; returns what was written (or None)."""
    try:
        pid = point_id(cfg)
    except UserError:
        return None
    result = {
        "status": "failed",
        "reason": reason,
        "strategy": pid.strategy,
        "phi": pid.phi,
        "seed": pid.seed,
        "top1": None,
        "top5": None,
        "model": str(cfg.model.name),
        "data": str(cfg.data.name),
        "sweep": str(cfg.sweep),
        "config": _plain(cfg),
    }
    try:
        old = read_json(pid.result_path)
        if old.get("status") == "ok":
            return old  # never replace a finished result with a failure
    except (FileNotFoundError, json.JSONDecodeError):
        pass
    atomic_write_json(pid.result_path, result)
    return result


def run_point(cfg: DictConfig) -> dict[str, Any]:
    """Run one job: never raises in a sweep; a single run exits 1 on failure."""
    multirun = _is_multirun()
    runner = None
    try:
        runner = PointRunner(cfg)
        return runner.run()
    except UserError as exc:
        reason = str(exc)
        failed_result(cfg, reason)
        if not multirun:
            fail(reason)
        log.error("error: %s", " ".join(reason.split()))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, torch.OutOfMemoryError):
            reason = f"out of memory: {exc}"
        log.error("point failed: %s\n%s", reason, traceback.format_exc())
        failed_result(cfg, reason)
        if not multirun:
            fail(reason)
    finally:
        if runner is not None:
            ddp.teardown(runner.dist)
    return {"status": "failed"}


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> dict[str, Any]:
    """Hydra entry point for one job."""
    return run_point(cfg)


if __name__ == "__main__":
    # Everything imported so far lives until exit: keep the collector from walking it,
    # during the job and again while the interpreter shuts down (about 1 s with torch).
    gc.freeze()
    main()
