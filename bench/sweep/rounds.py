"""Seeds on demand: after the requested jobs, add seeds to undecided levels, round after round.

With ``decide.max_seeds=N`` in a multirun, once the requested jobs are done
the sweep looks at every level (a phi): a level whose ranking
(:func:`bench.analysis.decide.level_decided`) is undecided and has fewer than N
seeds gets the next seed (one more than its largest) for each of its
strategies, and the phi = 0 baseline gets that seed too (the comparisons
with the baseline are paired). Added points are ordinary jobs of the sweep
(launched through :meth:`ScalebenchSweeper.launch_all`: resume, claims,
shared baselines, W&B and the dead-job contract as for any job). Rounds go on
until every level is decided or has N seeds.

The rounds are a pure function of the requested jobs and the results on
disk: :func:`plan_rounds` replays them from the requested seeds, deciding each
round on exactly the seeds that round had. So a killed sweep, run again,
finds the same rounds, launches only what has no result yet (the pipeline
skips a finished point anyway), and ``sweep.json``'s ``rounds`` lists every
round (the points it added and why) however many times the sweep was started.

Optional stopping: looking at a level after every round and stopping when it
is decided would make false verdicts likelier than ``1 - confidence``. A
level ends with one of at most ``looks = N - n0 + 1`` seed counts (n0: the
fewest requested seeds of a level) and its verdict is the test at the count it
ended with, so each count's test spends ``(1 - confidence) / looks``
(Bonferroni's split of alpha over the looks, valid whatever their
correlation; conservative). The report uses the same split (``sweep.json``'s
``decide.looks``), so its verdicts are the rounds' last ones. A level's
ranking is its leader against every other strategy
(:mod:`bench.analysis.decide`): ties among the others do not buy seeds. With
``decide.pool=sweep`` a level's noise also pools the other levels' residuals,
so a level decided in one round can come undecided in a later one (when seeds
added elsewhere change the pooled sd); it then gets seeds again, up to N.
``tests/report/test_decide_simulation.py`` runs this planner on thousands of
simulated levels: false winners at most alpha, the right winner of a 2-point
lead in over 90 % of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from bench.analysis.decide import decisions, level_decided
from bench.analysis.verdicts import verdict_lines
from bench.config.compose import compose_jobs
from bench.errors import UserError
from bench.schema import Decide
from bench.store import atomic_write_json, point_name, read_json_or_none

log = logging.getLogger("bench.sweep")

Point = tuple[str, float, int]  # (strategy, phi, seed)


@dataclass(frozen=True)
class Job:
    """One job of the sweep: its overrides and the point it trains."""

    overrides: tuple[str, ...]
    strategy: str
    phi: float
    seed: int


@dataclass
class RoundPlan:
    """Where the rounds stand: every round so far, and the jobs still without a result."""

    rounds: list[dict[str, Any]] = field(default_factory=list)
    launch: list[list[str]] = field(default_factory=list)
    done: bool = False


def with_seed(overrides: Sequence[str], seed: int) -> list[str]:
    """``overrides`` with ``seed=<seed>`` in place of any seed override (or added)."""
    kept = [o for o in overrides if o.split("=", 1)[0].lstrip("+") != "seed"]
    return [*kept, f"seed={seed}"]


def describe_jobs(
    jobs: list[list[str]], compose_one: Callable[[list[str]], DictConfig]
) -> list[Job]:
    """Each job's point, read from its composed config."""
    configs = compose_jobs(jobs, compose_one)
    return [
        Job(tuple(j), str(c.strategy.name), float(c.phi), int(c.seed))
        for j, c in zip(jobs, configs, strict=True)
    ]


def looks(jobs: list[Job], max_seeds: int) -> int:
    """How many times a level may be looked at: from its requested seeds to ``max_seeds``."""
    per_level: dict[float, set[int]] = {}
    for job in jobs:
        per_level.setdefault(job.phi, set()).add(job.seed)
    fewest = min((len(s) for s in per_level.values()), default=0)
    return max(1, max_seeds - fewest + 1) if max_seeds > fewest else 1


def plan_rounds(jobs: list[Job], table: pd.DataFrame, decide: Decide, n_looks: int) -> RoundPlan:
    """Replay the rounds from the requested seeds on the results in ``table`` (module doc)."""
    templates = {(j.strategy, j.phi): list(j.overrides) for j in jobs}
    strategies: dict[float, list[str]] = {}
    seeds: dict[float, set[int]] = {}
    for job in jobs:
        strategies.setdefault(job.phi, [])
        if job.strategy not in strategies[job.phi]:
            strategies[job.phi].append(job.strategy)
        seeds.setdefault(job.phi, set()).add(job.seed)
    present = _present(table)
    plan = RoundPlan()
    while True:
        wanted = [(s, phi, k) for phi in seeds for s in strategies[phi] for k in sorted(seeds[phi])]
        missing = [p for p in wanted if p not in present]
        if missing:
            plan.launch = [with_seed(templates[(s, phi)], k) for s, phi, k in missing]
            return plan
        subset = _subset(table, wanted)
        frame = decisions(subset, decide, n_looks)
        decided = {phi: bool(v) for (_, phi), v in level_decided(frame).items()}
        undecided = [
            phi for phi in sorted(seeds)
            if not decided.get(phi, True) and len(seeds[phi]) < decide.max_seeds
        ]  # fmt: skip
        if not undecided:
            plan.done = True
            return plan
        asked = subset["phi"].isin(undecided)  # the lines say why each level gets a seed
        lines = verdict_lines(
            subset[asked], frame[frame["phi"].isin(undecided)], decide.margin, decide.confidence
        )
        plan.rounds.append(_next_round(len(plan.rounds) + 1, undecided, strategies, seeds, lines))


def _next_round(
    number: int,
    undecided: list[float],
    strategies: dict[float, list[str]],
    seeds: dict[float, set[int]],
    lines: list[str],
) -> dict[str, Any]:
    """Add the next seed to each undecided level (and to the baseline); say which and why."""
    added, why = [], {}
    said = {line.split(":", 1)[0]: line for line in lines}
    for phi in undecided:
        seed = max(seeds[phi]) + 1
        seeds[phi].add(seed)
        added += [point_name(s, phi, seed) for s in strategies[phi]]
        line = said.get(f"phi={phi:g}", f"phi={phi:g}: undecided")
        why[f"phi={phi:g}"] = line.split(":", 1)[1].strip()
        if 0.0 in seeds and seed not in seeds[0.0]:
            seeds[0.0].add(seed)
            added += [point_name(s, 0.0, seed) for s in strategies[0.0]]
            why.setdefault("phi=0", f"the paired baseline of phi={phi:g}")
    return {"round": number, "added": added, "why": why}


def _points(table: pd.DataFrame) -> list[Point]:
    """Each row's point (columns to lists first: iterating a column element by element is
    what makes a large table slow)."""
    columns = (table["strategy"].astype(str), table["phi"].astype(float), table["seed"])
    return list(zip(*(c.tolist() for c in columns), strict=True))


def _present(table: pd.DataFrame) -> set[Point]:
    """The points that have a result of any status (a failed one is not trained again here)."""
    return set(_points(table)) if len(table) else set()


def _subset(table: pd.DataFrame, wanted: list[Point]) -> pd.DataFrame:
    """The rows of ``table`` whose point is one of ``wanted``."""
    keys = set(wanted)
    return table[[point in keys for point in _points(table)]] if len(table) else table


def update_manifest(sweep_dir: Path, **fields: Any) -> None:
    """Set ``fields`` in ``sweep.json`` (atomically), keeping what it says already."""
    path = Path(sweep_dir) / "sweep.json"
    atomic_write_json(path, (read_json_or_none(path) or {}) | fields)


def read_table(sweep_dir: Path) -> pd.DataFrame:
    """The sweep's results table (empty when it has no result yet)."""
    from bench.analysis.results import load_sweeps

    try:
        return load_sweeps([Path(sweep_dir)]).table
    except UserError:
        return pd.DataFrame(columns=["strategy", "phi", "seed", "status", "top1", "sweep"])


def run_rounds(
    sweep_dir: Path,
    config: DictConfig,
    jobs: list[list[str]],
    compose_one: Callable[[list[str]], DictConfig],
    launch: Callable[[list[list[str]]], list[Any]],
) -> list[Any]:
    """Add rounds of seeds until every level is decided or has ``decide.max_seeds`` seeds.

    Records ``decide`` (with ``looks``) and ``rounds`` in ``sweep.json``; returns what the
    added jobs returned. ``launch`` is the sweeper's ``launch_all``.
    """
    decide = Decide.model_validate(OmegaConf.to_container(config.decide, resolve=True))
    record = decide.model_dump(mode="json")
    if decide.max_seeds == 0:
        update_manifest(sweep_dir, decide=record | {"looks": 1})
        return []
    described = describe_jobs(jobs, compose_one)
    n_looks = looks(described, decide.max_seeds)
    update_manifest(sweep_dir, decide=record | {"looks": n_looks})
    returns: list[Any] = []
    last: list[list[str]] | None = None
    while True:
        plan = plan_rounds(described, read_table(sweep_dir), decide, n_looks)
        update_manifest(sweep_dir, rounds=plan.rounds)
        if plan.done or not plan.launch:
            return returns
        if plan.launch == last:  # the same jobs left no result twice: do not loop for ever
            log.warning("%d added point(s) recorded no result; no further rounds", len(last))
            return returns
        last = plan.launch
        why = plan.rounds[-1]["why"] if plan.rounds else {"requested": "no result yet"}
        why = "; ".join(f"{k}: {v}" for k, v in why.items())
        log.info("round %d: %d point(s) to train (%s)", len(plan.rounds), len(plan.launch), why)
        returns += launch(plan.launch)
