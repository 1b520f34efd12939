"""Seeds on demand: the round planner on fake results (in-process; a killed sweep's rerun is
its replay), a level decided by its leader while its losers stay apart, and one small real
adaptive sweep. The false-winner rate and the power of the adaptive procedure, through this
planner, are tests/report/test_decide_simulation.py."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_ties_among_the_others_do_not_keep_the_rounds_going() -> None:
    """compound 5 points ahead of depth and width, which differ by noise at every seed: the
    level is decided by its leader at the requested seeds, so no round is added (the old rule
    wanted every pair decided and bought seeds to tell the two losers apart)."""
    jobs = jobs_of(("depth", "width", "compound"), (1,), range(3))
    wobble = [0.012, -0.01, 0.003]
    top1 = {(j.strategy, j.phi, j.seed): 0.6 + 0.01 * j.seed
            + {"depth": 0.0, "width": wobble[j.seed], "compound": 0.05}[j.strategy]
            for j in jobs}  # fmt: skip
    plan = plan_rounds(jobs, table_of(top1), Decide(max_seeds=5), looks(jobs, 5))
    assert plan.done and plan.rounds == []
    frame = decisions(table_of(top1), Decide(max_seeds=5), looks(jobs, 5))
    others = frame[frame["role"] == "others"]
    assert len(others) == 1 and not others["decided"].iloc[0]
    assert level_decided(frame).tolist() == [True]


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
    sweep_dir = tmp_path / "vgg_tiny-shapes-epochs1"
    manifest = json.loads((sweep_dir / "sweep.json").read_text())
    assert manifest["decide"] == {
        "max_seeds": 2, "margin": 0.01, "confidence": 0.95, "pool": "sweep", "looks": 2
    }  # fmt: skip
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
