"""What a point is once planned, and the keys that identify its training.

:class:`Point` is what the first steps of the pipeline (plan, data, budget)
decide and every later step reads. The training key names the folder where
identical points share one training; the W&B run id follows from it, so a
resumed point continues its own run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import torch

from bench.data import Data
from bench.data.batches import Preprocess
from bench.data.inputs import preprocessing
from bench.hardware import distributed as ddp
from bench.provenance import learning_versions
from bench.scaling.budget import Budget
from bench.scaling.solver import PlannedPoint
from bench.schema import Run, resolve_auto
from bench.store import PointPaths


@dataclass(frozen=True)
class Point:
    """A point once planned: what every later step of its pipeline reads."""

    config: Run  # with the regularisation rates this point trains with
    planned: PlannedPoint
    budget: Budget
    data: Data
    paths: PointPaths  # with the training key
    device: torch.device
    dist: ddp.Dist
    amp: bool


def training_key(point: Point) -> str:
    """Hash of everything that decides what a point learns, listed explicitly.

    The model family and its settings, the rounded architecture and input
    size, the data's identity and preprocessing (including in-memory versus
    streamed and the normalisation), the recipe's learning keys, the
    precision, whether batch norm saw per-process slices of the batch (DDP
    without sync_bn), the number of steps, the seed, and the versions that
    change learning (:func:`~bench.train.provenance.learning_versions`), and
    whether the final evaluation averages mirrored images (``eval.flip``: the
    shared outcome's top-1 depends on it). How a point is watched (logging,
    checkpoints, evaluation batch, the learning curve's share) is not part of it.
    """
    config = point.config
    split_bn = point.dist.world > 1 and not resolve_auto(config.train.sync_bn, True)
    payload = {
        "model": config.model.model_dump(mode="json"),
        "arch": point.planned.candidate.arch.as_dict(),
        "resolution": point.planned.candidate.resolution,
        "data": point.data.identity,
        "preprocessing": preprocessing(point.data, Preprocess.of(config.data)),
        "recipe": {k: getattr(config.train, k) for k in config.train.LEARNING},
        "evaluation": {"flip": config.eval.flip},  # what the outcome's top-1 measures
        "bf16": point.amp,
        "bn_statistics": "per process" if split_bn else "global batch",
        "steps": point.budget.steps,
        "seed": config.seed,
        "versions": learning_versions(),
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_id(paths: PointPaths) -> str:
    """The point's W&B run id: from its sweep, folder and training key, so that a killed and
    resumed point continues its own run, and a point whose training changed gets a new one."""
    text = f"{paths.sweep_dir.name}/{paths.name}/{paths.key or 'untrained'}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]
