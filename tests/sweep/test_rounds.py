"""Seeds on demand: the round planner on fake results (in-process; a killed sweep's rerun is
its replay), the false-verdict rate of the adaptive procedure on pure noise, and one small real
adaptive sweep."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL, bench, results

from bench.report.decide import decisions, level_decided
from bench.schema import Decide
from bench.sweep.rounds import Job, looks, plan_rounds, with_seed


def jobs_of(strategies: tuple[str, ...], phis: tuple[float, ...], seeds: range) -> list[Job]:
    return [
        Job((f"strategy={s}", f"phi={p:g}", f"seed={k}", "train.epochs=1"), s, float(p), k)
        for s in strategies
        for p in phis
        for k in seeds
    ]


def table_of(top1: dict[tuple[str, float, int], float]) -> pd.DataFrame:
    rows = [
        {"sweep": "sw", "strategy": s, "phi": float(p), "seed": k, "status": "ok", "top1": v}
        for (s, p, k), v in top1.items()
    ]
    return pd.DataFrame(rows, columns=["sweep", "strategy", "phi", "seed", "status", "top1"])


def fake_top1(strategy: str, phi: float, seed: int) -> float:
    """phi 1: width 5 points ahead, decided with 3 seeds; phi 2: pure noise (never decided)."""
    paired = 0.01 * ((seed * 7) % 5 - 2)
    if phi == 0:
        return 0.6 + paired
    if phi == 1:
        return 0.6 + paired + (0.05 + 0.003 * (seed % 2) if strategy == "width" else 0.0)
    wobble = [0.03, -0.02, 0.01, -0.03, 0.02, -0.01][seed % 6] if strategy == "width" else 0.0
    return 0.6 + paired + wobble


def drive(jobs: list[Job], decide: Decide, done: dict | None = None) -> tuple[list, dict, int]:
    """Run the planner to the end as a sweep would, training each job with fake_top1; returns
    the rounds, every result, and how many points were trained."""
    done = dict(done or {})
    n_looks, trained = looks(jobs, decide.max_seeds), 0
    while True:
        plan = plan_rounds(jobs, table_of(done), decide, n_looks)
        if plan.done:
            return plan.rounds, done, trained
        for overrides in plan.launch:
            key = dict(o.split("=", 1) for o in overrides)
            point = (key["strategy"], float(key["phi"]), int(key["seed"]))
            assert point not in done, f"{point} trained twice"
            done[point] = fake_top1(*point)
            trained += 1


def test_with_seed_replaces_or_adds() -> None:
    assert with_seed(["strategy=depth", "seed=1", "phi=2"], 4) == [
        "strategy=depth",
        "phi=2",
        "seed=4",
    ]
    assert with_seed(["phi=1"], 2) == ["phi=1", "seed=2"]


def test_looks_from_requested_seeds_to_max() -> None:
    jobs = jobs_of(("depth", "width"), (0, 1), range(2))
    assert looks(jobs, 4) == 3 and looks(jobs, 2) == 1 and looks(jobs, 0) == 1


def test_rounds_add_seeds_until_decided_or_max() -> None:
    jobs = jobs_of(("depth", "width"), (0, 1, 2), range(2))
    requested = {(j.strategy, j.phi, j.seed): fake_top1(j.strategy, j.phi, j.seed) for j in jobs}
    rounds, done, trained = drive(jobs, Decide(max_seeds=4), requested)
    seeds = {phi: {k for (_, p, k) in done if p == phi} for phi in (0.0, 1.0, 2.0)}
    assert seeds[2.0] == {0, 1, 2, 3}  # pure noise: still undecided, at max_seeds
    assert len(seeds[1.0]) in (3, 4)
    assert seeds[0.0] == {0, 1, 2, 3}  # the paired baseline follows the added seeds
    added = {name for r in rounds for name in r["added"]}
    assert len(added) == trained
    assert {"depth_phi2_seed2", "width_phi2_seed3", "depth_phi0_seed3"} <= added
    assert [r["round"] for r in rounds] == list(range(1, len(rounds) + 1))
    assert rounds[0]["why"]["phi=2"].startswith("width vs depth undecided (")
    frame = decisions(table_of(done), Decide(max_seeds=4), looks(jobs, 4))
    decided = dict(level_decided(frame).droplevel(0))
    assert decided[2.0] is False or not decided[2.0]
    if len(seeds[1.0]) < 4:
        assert decided[1.0]


def test_a_killed_adaptive_sweep_continues_to_the_same_end() -> None:
    jobs = jobs_of(("depth", "width"), (0, 1, 2), range(2))
    decide = Decide(max_seeds=4)
    full_rounds, full, _ = drive(jobs, decide)
    # killed mid-way: the requested points and part of the first round are on disk
    partial = {k: v for k, v in full.items() if k[2] < 2 or k == ("depth", 2.0, 2)}
    rounds, done, trained = drive(jobs, decide, partial)
    assert done == full and rounds == full_rounds
    assert trained == len(full) - len(partial)


def test_nothing_is_added_when_off_or_decided() -> None:
    jobs = jobs_of(("depth", "width"), (0, 1), range(3))
    requested = {(j.strategy, j.phi, j.seed): fake_top1(j.strategy, j.phi, j.seed) for j in jobs}
    assert drive(jobs, Decide(max_seeds=0), requested)[0] == []
    assert drive(jobs, Decide(max_seeds=8), requested)[0] == []  # phi 1 is decided


def adaptive_false_rate(rng: np.random.Generator, spend: bool, levels: int = 400) -> float:
    """Pure noise (two equal strategies), 2 seeds then one more per round up to 6: the share of
    levels that end with a winner. ``spend``: alpha split over the looks; else every look at 5 %."""
    from scipy.stats import t

    diffs = rng.normal(0, 0.02, size=(levels, 6))
    n_looks = 5 if spend else 1
    false = 0
    for d in diffs:
        for n in range(2, 7):
            x = d[:n]
            half = t.ppf(1 - 0.05 / n_looks / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
            if abs(x.mean()) > half:
                false += 1
                break
            if abs(x.mean()) + half <= 0.001:  # a tie within a tiny margin also stops
                break
    return false / levels


def test_alpha_spent_over_rounds_keeps_false_verdicts_near_nominal() -> None:
    """The same seeded noise: looking 5 times at 5 % each gives far more false winners than
    5 %; Bonferroni over the looks stays at or under it (give or take the simulation)."""
    naive = adaptive_false_rate(np.random.default_rng(11), spend=False)
    spent = adaptive_false_rate(np.random.default_rng(11), spend=True)
    assert naive > 0.09
    assert spent <= 0.07


def test_the_planner_spends_alpha_like_the_simulation() -> None:
    """The planner itself on pure noise: few levels end with a false winner."""
    rng = np.random.default_rng(12)
    decide, false = Decide(max_seeds=5, margin=0.001), 0
    jobs = jobs_of(("depth", "width"), (1,), range(2))
    for _ in range(12):
        noise = rng.normal(0, 0.02, size=5)
        done = {("width", 1.0, k): 0.6 + noise[k] for k in range(2)}
        done |= {("depth", 1.0, k): 0.6 for k in range(2)}
        while True:
            plan = plan_rounds(jobs, table_of(done), decide, looks(jobs, 5))
            if plan.done:
                break
            for overrides in plan.launch:
                key = dict(o.split("=", 1) for o in overrides)
                k = int(key["seed"])
                width = key["strategy"] == "width"
                done[(key["strategy"], 1.0, k)] = 0.6 + (noise[k] if width else 0.0)
        frame = decisions(table_of(done), decide, looks(jobs, 5))
        false += frame.iloc[0]["winner"] in ("width", "depth")
    assert false <= 3  # 12 levels at 5 %: 0.6 expected


@pytest.mark.slow
def test_an_adaptive_sweep_adds_a_round(tmp_path: Path) -> None:
    """seed=0 decide.max_seeds=2 on tiny settings (phi 1 only, no baseline, to stay cheap): one
    seed decides nothing, so the level gets seed 1 in a round listed in sweep.json, every point
    trains once, and the level ends with 2 seeds. A kill and rerun is the replay test above."""
    args = ["-m", "strategy=depth,width", "phi=1", "seed=0", "decide.max_seeds=2",
            *SMALL, "threads=1", f"runs_dir={tmp_path}"]  # fmt: skip
    proc = bench("run", *args, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Traceback" not in log, log[-3000:]
    sweep_dir = tmp_path / "tiny-shapes-epochs1"
    manifest = json.loads((sweep_dir / "sweep.json").read_text())
    assert manifest["decide"] == {"max_seeds": 2, "margin": 0.01, "confidence": 0.95, "looks": 2}
    (only,) = manifest["rounds"]
    assert only["added"] == ["depth_phi1_seed1", "width_phi1_seed1"]
    assert only["why"]["phi=1"].startswith("width vs depth undecided (one seed)")
    found = results(sweep_dir)
    assert sorted(found) == sorted(["depth_phi1_seed0", "width_phi1_seed0", *only["added"]])
    trained = [line for line in log.splitlines() if "ok: top-1" in line]
    assert len(trained) == 4  # each point trained once
    assert manifest["points"] == ["depth_phi1_seed0", "width_phi1_seed0"]
    assert "[3/4 depth phi=1 seed=1]" in log and "[4/4 width phi=1 seed=1]" in log  # the round's
    assert any("] phi=1: width vs depth" in line for line in log.splitlines())
    (row,) = pd.read_csv(sweep_dir / "tables" / "decisions.csv").itertuples()
    assert row.seeds == 2  # decided or not, the level has max_seeds: no further round
    assert -1 <= row.low <= row.diff <= row.high <= 1
