"""Weights & Biases tracking that is never in the way.

Every point is one W&B run (``group`` = the sweep, ``job_type`` = the
strategy, tags for model, data, budget and phi), written under the sweep
folder so ``wandb sync runs/<sweep>/wandb`` finds it later. The mode is
chosen before ``wandb.init`` (:func:`resolve_mode`: an explicit
``logger.mode`` wins over the ``WANDB_MODE`` environment variable, as
arguments to ``wandb.init`` do in W&B's own rule; ``auto`` takes
``WANDB_MODE`` when set, offline otherwise): ``offline`` never touches the
network, ``disabled`` writes nothing and starts no W&B process. Any W&B
error (no network, a bad key, a broken install) prints one warning and the
point goes on with logging off.

A point's run id is fixed (``bench.train.point.run_id``), so a killed point, run
again, continues its own run (``resume="allow"``; what wandb does offline,
and how a killed run's leftovers are cleared: :mod:`bench.track.offline`).
The sweep's summary run is :mod:`bench.track.summary`.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import secrets
import shutil
import string
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UserError
from bench.schema import Logger
from bench.track.offline import LOCKS, hold_lock, release_when_written, remove_orphans
from bench.track.wandb_private import WARM_MODULE, private_settings

log = logging.getLogger(__name__)

MODES = ("offline", "online", "disabled")


def resolve_mode(logger: Logger) -> str:
    """The W&B mode to use: ``logger.mode`` when the user set one, else ``WANDB_MODE``.

    The user's word wins: a ``logger.mode`` in a config or on the command line
    beats an environment variable that a shell profile may set for every job
    (``disabled`` must keep a data set's results off W&B). ``auto`` (the
    default) takes ``WANDB_MODE`` when it is set, and offline otherwise.
    """
    if logger.mode != "auto":
        return logger.mode
    env = os.environ.get("WANDB_MODE", "").strip()
    if not env:
        return "offline"
    mode = "offline" if env.lower() == "dryrun" else env.lower()
    if mode not in MODES:
        raise UserError(f"WANDB_MODE={env!r} must be one of {', '.join(MODES)}")
    return mode


def warm_up(logger: Logger) -> threading.Thread | None:
    """Start W&B's service process and imports in the background; returns the thread.

    The first ``wandb.init`` of a process spends a noticeable part of a
    second starting the service and importing ``wandb.sdk.launch``; a job
    starts this before loading its data, so that time overlaps with work that
    runs in C (BENCHMARKS.md has the figures).
    Nothing here logs, and a failure is left for ``wandb.init`` to report.
    """
    if resolve_mode(logger) == "disabled":
        return None

    def warm() -> None:
        try:
            import wandb

            wandb.setup()
            importlib.import_module(WARM_MODULE)  # what init imports
        except Exception:
            pass

    thread = threading.Thread(target=warm, name="wandb-warm-up", daemon=True)
    thread.start()
    return thread


def artifact_name(*parts: str) -> str:
    """A valid W&B artifact name from ``parts`` (letters, digits, ``-``, ``_``, ``.``).

    Artifact names are unique within a project, so a point's name carries its
    sweep: two sweeps' ``depth_phi1_seed0`` checkpoints stay apart.
    """
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(p for p in parts if p)).strip("._-")
    return name[:128] or "scalebench"


def with_commit(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with ``versions.git_commit`` set (the commit result.json records)."""
    from bench.provenance import git_commit

    out = dict(config)
    versions = dict(out.get("versions") or {})
    if not versions.get("git_commit"):
        versions["git_commit"] = git_commit()
    out["versions"] = versions
    return out


def define_metrics(run: Any) -> None:
    """Chart axes: training metrics against the optimiser step, evaluation against epochs."""
    run.define_metric("step")
    run.define_metric("epoch")
    run.define_metric("train/*", step_metric="step")
    run.define_metric("eval/*", step_metric="epoch")


@dataclass(frozen=True)
class RunSpec:
    """What one W&B run is: where it is written, what it is called, how it is grouped."""

    directory: Path  # the run is written under <directory>/wandb
    name: str
    group: str  # the sweep
    job_type: str  # the strategy, or "summary"
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True  # False off rank 0: every call is a no-op
    run_id: str | None = None  # fixed ids resume their run


class Tracker:
    """One W&B run; every call is safe to make when W&B is off or has failed."""

    def __init__(self, logger: Logger, spec: RunSpec) -> None:
        directory, name, group, job_type = spec.directory, spec.name, spec.group, spec.job_type
        tags, config, enabled, run_id = spec.tags, spec.config, spec.enabled, spec.run_id
        self.run: Any = None
        self.name, self.group = name, group
        self._lock: tuple[int, Path] | None = None
        self._dir: Path | None = None  # the run's folder, kept after a failure disables it
        self.mode = resolve_mode(logger)
        if not enabled or self.mode == "disabled":
            return
        try:
            import wandb

            directory = Path(directory)
            directory.mkdir(parents=True, exist_ok=True)
            resume = "allow" if run_id else None
            run_id = run_id or "".join(secrets.choice(string.digits + "abcdef") for _ in range(8))
            if self.mode == "offline":
                self._lock = hold_lock(directory / "wandb" / LOCKS, run_id)
                if self._lock is not None:
                    remove_orphans(directory / "wandb", self._lock[1])
            self.run = wandb.init(
                project=logger.project,
                entity=logger.entity,
                group=group,
                job_type=job_type,
                name=name,
                tags=[str(t) for t in [*tags, *logger.tags]][:64],
                config=with_commit(config),
                dir=str(directory),
                mode=self.mode,
                settings=_settings(wandb, logger),
                reinit="finish_previous",
                id=run_id,
                resume=resume,
            )
            self._dir = self.run_dir
            define_metrics(self.run)
        except Exception as exc:  # W&B must never stop training
            self.disable(f"could not start a W&B run ({type(exc).__name__}: {exc})")

    @property
    def active(self) -> bool:
        """Whether this tracker is logging."""
        return self.run is not None

    @property
    def run_dir(self) -> Path | None:
        """Folder of this run's files (offline runs: what ``wandb sync`` uploads)."""
        return Path(self.run.dir).parent if self.run is not None else None

    def disable(self, why: str) -> None:
        """Stop logging to this run after a W&B failure, saying ``why`` in one warning line."""
        log.warning("W&B logging is off for this run: %s", " ".join(why.split()))
        self.run = None

    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        """Log metrics at optimiser step ``step`` (also logged as ``step``, the x axis)."""
        if self.run is None:
            return
        try:
            row = dict(data) if step is None else {"step": step, **data}
            self.run.log(row, step=step)
        except Exception as exc:
            self.disable(f"log failed ({type(exc).__name__}: {exc})")

    def summary(self, data: Mapping[str, Any]) -> None:
        """Set the run's summary (what W&B tables and filters show)."""
        if self.run is None:
            return
        try:
            for key, value in data.items():
                self.run.summary[key] = value
        except Exception as exc:
            self.disable(f"summary failed ({type(exc).__name__}: {exc})")

    def log_checkpoint(self, path: Path) -> None:
        """Log the point's final checkpoint as a ``model`` artifact named after the point.

        The file is hard-linked into the run's folder (copied where links do
        not work): checkpoints are replaced by rename, so the run keeps the
        bytes it logged until ``wandb sync`` uploads them.
        """
        if self.run is None:
            return
        path = Path(path)
        if not path.is_file():
            log.warning("W&B: no checkpoint to log at %s", path)
            return
        meta = {"point": self.name, "sweep": self.group, "file": path.name}
        name = artifact_name(self.group, self.name)
        self.log_artifact(name, "model", {path.name: path}, meta, link=True)

    def log_artifact(
        self,
        name: str,
        kind: str,
        files: Mapping[str, Path],
        metadata: Mapping[str, Any] | None = None,
        link: bool = False,
    ) -> None:
        """Log ``files`` (entry name -> file) as one artifact.

        Files are staged in ``<run folder>/artifacts/<name>/`` (hard links when
        ``link``, else copies) and referenced there, so an offline run's folder
        holds everything its sync uploads and nothing lands in the user's
        home (wandb's default staging area).
        """
        if self.run is None:
            return
        try:
            import wandb

            artifact = wandb.Artifact(name, type=kind, metadata=dict(metadata or {}))
            stage = self.run_dir / "artifacts" / name
            for entry, source in files.items():
                staged = _stage(Path(source), stage / entry, link)
                artifact.add_file(str(staged.resolve()), name=entry, policy="immutable")
            self.run.log_artifact(artifact)
        except Exception as exc:
            self.disable(f"artifact {name} failed ({type(exc).__name__}: {exc})")

    def finish(self, exit_code: int = 0) -> None:
        """Close the run (multirun jobs share a process, so every job must); non-zero = failed."""
        try:
            if self.run is not None:
                self.run.finish(exit_code=exit_code)
        except Exception as exc:
            log.warning("W&B finish failed: %s", exc)
        finally:
            self.run = None
            release_when_written(self._lock, self._dir)
            self._lock = None


def _settings(wandb: Any, logger: Logger) -> Any:
    """Quiet settings: no console capture, system stats, git or code snapshots, W&B jobs."""
    return wandb.Settings(
        init_timeout=logger.init_timeout,
        console="off",
        silent=True,
        disable_git=True,
        save_code=False,
        disable_job_creation=True,
        **private_settings(wandb),
    )


def _stage(source: Path, target: Path, link: bool) -> Path:
    """Put ``source``'s bytes at ``target``: a hard link (no copy of a large file) or a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    if link:
        try:
            os.link(source, target)
            return target
        except OSError:
            pass  # another filesystem, or no hard links: copy
    shutil.copy2(source, target)
    return target
