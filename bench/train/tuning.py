"""Per-point learning-rate tuning: one ordinary training per candidate rate, chosen on validation.

A comparison at one fixed rate can be a comparison of how well that rate suits
each network. With ``tune.lrs``, a point trains once per rate, each an
ordinary training with its own training key (``train.lr`` is one of the
recipe's learning keys), so it is reused, claimed and resumed like any other;
the rate with the best validation top-1 (``data.val_fraction``, never the test
split) is chosen, and the point's result is that training's, with ``lr``,
``val_top1`` and every candidate's ``{lr, val_top1}`` in ``lr_candidates``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bench.record import PointResult
from bench.schema import Run


def candidates(config: Run) -> list[Run]:
    """The point's config once per rate of ``tune.lrs`` (itself alone when not tuning)."""
    if not config.tune.lrs:
        return [config]
    return [
        config.model_copy(update={"train": config.train.model_copy(update={"lr": float(lr)})})
        for lr in config.tune.lrs
    ]


def choose(results: list[PointResult]) -> PointResult:
    """The finished candidate with the best validation top-1 (the first among ties), with
    every candidate listed; a candidate that did not finish ``ok`` is listed, never chosen.
    When none finished, the first one's result stands."""
    listed = [{"lr": r.lr, "val_top1": r.val_top1, "status": r.status} for r in results]
    ok = [r for r in results if r.status == "ok" and r.val_top1 is not None]
    best = max(ok, key=lambda r: r.val_top1) if ok else results[0]  # type: ignore[arg-type,return-value]
    return replace(best, lr_candidates=listed)


def tune(config: Run, train_one: Callable[[Run], PointResult]) -> PointResult:
    """Train every candidate rate in turn with ``train_one`` and keep the best on validation."""
    runs = candidates(config)
    if len(runs) == 1:
        return train_one(runs[0])
    return choose([train_one(c) for c in runs])
