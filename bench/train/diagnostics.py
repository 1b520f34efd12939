"""Whether a point's result is a finding: did it finish learning, did it learn at all, is it where
the plan put it.

A scaling figure ranks strategies by the top-1 their networks reach. That
ranking is only a finding when each point's number measures the strategy, not
an accident of the run:

- :func:`still_improving`: rankings of architectures and scaling rules flip
  with the training budget (Bello et al. 2021, "Revisiting ResNets"), so a
  point whose held-out top-1 or training loss was still clearly improving
  when its budget ran out reports where training stopped, not where the
  network ends up; more epochs may reorder the strategies.
- :func:`above_chance`: a network that failed to train (a bad learning rate
  for its size, a degenerate shape) sits at chance level, and a strategy that
  looks bad because of it is a wrong answer drawn as a finding. The exact
  binomial test says whether a top-1 is distinguishable from guessing at all.
- :func:`problems`: one line per kind of problem across a sweep (not learned,
  still improving, off the MAC target, diverged, failed), for the report and
  the log, so none is silently drawn as a point on a curve.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

# The last quarter of the budget is the window judged: with the warmup + cosine schedule the
# learning rate there is under 15 % of its peak and falls to ~0, so a network that still
# gains much over it was stopped before it settled.
WINDOW = 0.25
# Top-1 must rise by more than 2 points over the window: about twice the sampling noise of one
# evaluation on the default 2,000-image held-out set (~1 point at 60-80 % top-1), so a flat
# curve rarely crosses it even when the history is too short to measure its own noise; and the
# size of the differences between strategies at one level that a sweep is meant to resolve.
TOP1_RISE = 0.02
# Training loss must fall by more than a quarter of its value over the window. Each entry is a
# mean over the last few dozen batches (a few % of batch noise), and while the learning rate
# anneals the loss keeps falling as the network fits its training set more tightly, so a
# small fall says little; a quarter says the optimisation had not converged.
LOSS_DROP = 0.25
# The noise of a curve is read from the evaluations of the last half of the budget (at most
# the last 8: "the last few"), and only when there are at least 4 (3 differences); with fewer
# it cannot be told apart from the curve's own bend, and only the thresholds above apply.
NOISE_FROM = 0.5
NOISE_WINDOW = 8
NOISE_MIN_POINTS = 4
# A rise must exceed twice the noise of a difference between two evaluations: a one-sided
# ~2 % false alarm on a plateau with Gaussian noise (more with the few differences it is read
# from, which is what the absolute thresholds are for).
NOISE_FACTOR = 2.0
MAX_NAMED = 3  # a problem shared by at most this many points names them


def still_improving(history: Sequence[Mapping[str, Any]] | None) -> bool | None:
    """True when held-out top-1 or training loss was still clearly improving at the budget's end.

    The rule, applied to each signal on its own (top-1 as is; training loss as
    ``-log(train_loss)``, so a relative fall is a difference), over the
    history's evaluations that carry the signal (None/NaN skipped), sorted by
    epoch (on equal epochs the later entry counts):

    1. ``E`` is the last evaluation's epoch (the final model). The reference is
       the last evaluation at or before ``0.75 * E`` (:data:`WINDOW`): the
       nearest earlier entry, never an interpolation between two noisy ones;
       when none is that early, the first evaluation.
    2. ``gain`` is the last value minus the reference's.
    3. ``noise`` is the standard deviation of the successive differences of
       the evaluations at epoch >= ``0.5 * E`` (at most the last
       :data:`NOISE_WINDOW`): on a noisy plateau it is the spread of a
       difference between two evaluations, which is what ``gain`` is; a steady
       trend does not count as noise (a straight rise has equal differences).
       It is 0 when fewer than :data:`NOISE_MIN_POINTS` evaluations are in
       that window.
    4. The signal is improving when ``gain > threshold`` and
       ``gain > NOISE_FACTOR * noise``; the threshold is :data:`TOP1_RISE`
       (absolute) for top-1 and ``-log(1 - LOSS_DROP)`` for the loss (a fall
       by more than :data:`LOSS_DROP` of the reference loss).

    The result is top-1's verdict OR the loss's. A flat top-1 with a training
    loss falling by more than a quarter therefore counts as improving: the
    optimisation had not converged, and a longer budget trains a different
    network. Under the cosine schedule part of a last-quarter gain is the
    annealing itself, so the rule errs towards flagging.

    None when fewer than 2 evaluations have a top-1 (nothing to compare).
    """
    entries = list(history or [])
    top1 = _series(entries, "top1", lambda v: v)
    if len(top1[0]) < 2:
        return None
    loss = _series(entries, "train_loss", lambda v: -math.log(v) if v > 0 else math.nan)
    return _improving(*top1, TOP1_RISE) or _improving(*loss, -math.log(1 - LOSS_DROP))


def _series(
    entries: Sequence[Mapping[str, Any]], key: str, transform: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, values) of the entries with a finite ``key``, by epoch, the later on ties."""
    by_epoch: dict[float, float] = {}
    for entry in entries:
        value, epoch = _number(entry.get(key)), _number(entry.get("epoch"))
        if value is None or epoch is None:
            continue
        value = transform(value)
        if math.isfinite(value):
            by_epoch[epoch] = value
    epochs = np.array(sorted(by_epoch), dtype=float)
    return epochs, np.array([by_epoch[e] for e in epochs], dtype=float)


def _improving(epochs: np.ndarray, values: np.ndarray, threshold: float) -> bool:
    """One signal's verdict under :func:`still_improving`'s rule (higher values are better)."""
    if len(values) < 2:
        return False
    end = epochs[-1]
    earlier = np.flatnonzero(epochs[:-1] <= (1 - WINDOW) * end)
    reference = values[earlier[-1]] if earlier.size else values[0]
    gain = values[-1] - reference
    recent = values[epochs >= NOISE_FROM * end][-NOISE_WINDOW:]
    noise = 0.0
    if len(recent) >= NOISE_MIN_POINTS:
        noise = float(np.std(np.diff(recent), ddof=1))
    return bool(gain > threshold and gain > NOISE_FACTOR * noise)


def above_chance(
    top1: float | None, n_test: int, num_classes: int, alpha: float = 0.01
) -> bool | None:
    """Whether ``top1`` on ``n_test`` held-out images is significantly better than guessing.

    A one-sided exact binomial test of ``round(top1 * n_test)`` correct
    predictions against the chance rate ``1 / num_classes``: True when its
    p-value is below ``alpha``. Exact, because near chance and on small test
    sets the normal approximation is off. None when ``top1`` is None or NaN.
    """
    from scipy.special import bdtrc  # P(X > k): a tenth of scipy.stats' import time

    value = _number(top1)
    if value is None:
        return None
    if n_test < 1 or num_classes < 2 or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"need n_test >= 1, num_classes >= 2 and 0 <= top1 <= 1; got n_test={n_test}, "
            f"num_classes={num_classes}, top1={value}"
        )
    correct = int(round(value * n_test))
    p_value = 1.0 if correct == 0 else float(bdtrc(correct - 1, int(n_test), 1.0 / num_classes))
    return bool(p_value < alpha)


def problems(rows: Iterable[Mapping[str, Any]] | pd.DataFrame) -> list[str]:
    """One line per kind of problem in a sweep's results; empty when every point is a finding.

    ``rows`` are result dicts (or a results table) with ``status`` and, where
    computed, ``still_improving``, ``above_chance``, ``within_tolerance`` and
    ``version_note`` (a missing or null flag is not a problem). Learning problems (not above
    chance, still improving) are counted among ok points only: a diverged or
    failed point has its own line. Points are named ("depth phi=2 seed=0")
    when a kind has at most :data:`MAX_NAMED` of them.
    """
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)
    total = len(records)
    ok = [r for r in records if r.get("status") == "ok"]
    kinds = [
        ([r for r in records if r.get("status") == "failed"], _failed),
        ([r for r in records if r.get("status") == "diverged"], _diverged),
        ([r for r in ok if parse_flag(r.get("above_chance")) is False], _chance),
        ([r for r in ok if parse_flag(r.get("still_improving")) is True], _improving_line),
        ([r for r in records if parse_flag(r.get("within_tolerance")) is False], _off_target),
        ([r for r in records if isinstance(r.get("version_note"), str)], _other_versions),
    ]
    return [line(hits, total) for hits, line in kinds if hits]


def _other_versions(hits: list[Mapping[str, Any]], total: int) -> str:
    notes = sorted({str(r["version_note"]) for r in hits})
    more = f" (and {len(notes) - 1} other combination(s))" if len(notes) > 1 else ""
    return (
        f"{_count(hits, total)} reused or resumed a training of other versions{_names(hits)}: "
        f"{notes[0]}{more}; remove their result.json and trained/<point_key>/ to train them "
        "with this code"
    )


def _failed(hits: list[Mapping[str, Any]], total: int) -> str:
    return (
        f"{_count(hits, total)} failed{_names(hits)}: no result, so their levels rest on fewer "
        "seeds; running the sweep again retries them"
    )


def _diverged(hits: list[Mapping[str, Any]], total: int) -> str:
    return (
        f"{_count(hits, total)} diverged{_names(hits)}: their training loss became non-finite, "
        "so their levels rest on fewer seeds"
    )


def _chance(hits: list[Mapping[str, Any]], total: int) -> str:
    strategies = "/".join(dict.fromkeys(str(r.get("strategy")) for r in hits))
    one = len(hits) == 1
    says = "its level says" if one else "their levels say"
    return (
        f"{_count(hits, total)} {_be(one)} not above chance{_names(hits)}: "
        f"{'it' if one else 'they'} did not learn, so {says} nothing about {strategies} scaling"
    )


def _improving_line(hits: list[Mapping[str, Any]], total: int) -> str:
    one = len(hits) == 1
    return (
        f"{_count(hits, total)} {'was' if one else 'were'} still improving when "
        f"{'its' if one else 'their'} budget ended{_names(hits)}: the ranking may change with "
        "more epochs (train.epochs)"
    )


def _off_target(hits: list[Mapping[str, Any]], total: int) -> str:
    one = len(hits) == 1
    sits = "it sits at its" if one else "they sit at their"
    return (
        f"{_count(hits, total)} {_be(one)} off {'its' if one else 'their'} MAC target"
        f"{_names(hits)} beyond plan.tolerance (within_tolerance false): {sits} measured MACs"
    )


def _be(one: bool) -> str:
    return "is" if one else "are"


def _count(hits: list[Mapping[str, Any]], total: int) -> str:
    return f"{len(hits)} of {total} point{'' if total == 1 else 's'}"


def _names(hits: list[Mapping[str, Any]]) -> str:
    """ " (depth phi=2 seed=0, ...)" for a few points, nothing for many."""
    if len(hits) > MAX_NAMED:
        return ""
    return " (" + ", ".join(_name(r) for r in hits) + ")"


def _name(row: Mapping[str, Any]) -> str:
    phi, seed = _number(row.get("phi")), _number(row.get("seed"))
    text = str(row.get("strategy", "?"))
    text += f" phi={phi:g}" if phi is not None else ""
    return text + (f" seed={seed:g}" if seed is not None else "")


def _number(value: Any) -> float | None:
    """A finite float, or None for None, NaN, infinities and what is not a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_flag(value: Any) -> bool | None:
    """A boolean flag as stored in result.json or read back from CSV ("True"); None if unset."""
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)
