"""Verdict lines, the decisions tables and the winner's ring, from fake sweeps (no training)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers.fake_results import write_sweep

from bench.analysis.decide import ADDED, COLUMNS, EXTRAS, decisions, settings
from bench.analysis.results import load_results
from bench.analysis.verdicts import verdict_lines
from bench.report import Report, build_report
from bench.schema import Decide, Plot

PLOT = Plot(formats=["png"], cam_images=0)


def clear_and_tied(seeds: int = 3) -> dict[tuple[str, float, int], float]:
    """width 5 points ahead of depth at phi 1 (paired seed noise); depth and width tied at 2."""
    top1 = {}
    for seed in range(seeds):
        noise = [0.0, 0.01, -0.008, 0.004][seed]
        for strategy in ("depth", "width"):
            top1[(strategy, 0, seed)] = 0.60 + noise
        top1[("depth", 1, seed)] = 0.62 + noise + 0.001 * seed
        top1[("width", 1, seed)] = 0.67 + noise - 0.001 * seed
        top1[("depth", 2, seed)] = 0.65 + noise
        top1[("width", 2, seed)] = 0.65 + noise + 0.0005 * (seed % 2)
    return top1


def sweep(tmp_path: Path, seeds: int = 3) -> Path:
    return write_sweep(
        tmp_path / "sw",
        strategies=("depth", "width"),
        phis=(0, 1, 2),
        seeds=range(seeds),
        diverged=(),
        failed=(),
        pending=(),
        top1=clear_and_tied(seeds),
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    """One report of the 3-seed sweep, shared (drawing the figures is the slow part)."""
    tmp_path = tmp_path_factory.mktemp("verdicts")
    return tmp_path, build_report([sweep(tmp_path)], options=PLOT)


def test_the_report_writes_decisions_and_one_line_per_level(built: tuple[Path, Report]) -> None:
    tmp_path, report = built
    csv = pd.read_csv(tmp_path / "sw" / "tables" / "decisions.csv")
    assert list(csv.columns) == COLUMNS + EXTRAS + ADDED
    pair = csv[(csv["phi"] == 1) & (csv["versus"] == "depth")].iloc[0]
    assert pair["seeds"] == 3 and pair["winner"] == "width"
    assert pair["low"] <= pair["diff"] <= pair["high"]
    md = (tmp_path / "sw" / "tables" / "decisions.md").read_text()
    assert "| phi |" in md and "Holm" in md and "| flags |" in md and "| confidence |" in md
    assert "pooled over the strategies of the sweep" in md and "off MAC target" in md
    assert (tmp_path / "sw" / "tables" / "decisions.tex").read_text().startswith(r"\begin{table}")
    phi0, phi1, phi2 = report.verdicts
    assert phi0.startswith("phi=0: the shared baseline (3 seeds)")
    assert phi1.startswith("phi=1: width ahead of depth by 4.8 points (95 % interval ")
    # two levels of 2 strategies at 3 seeds pool (2 - 1)(3 - 1) df each
    assert phi1.endswith(", 3 paired seeds): width wins the level (95 % confidence) [paired sd "
                         "0.14 points, 4 df]")  # fmt: skip
    assert phi2.startswith("phi=2: width and depth tied within the 1-point margin (+")
    assert phi2.endswith(": decided, no single winner (tied at the top within the margin) "
                         "[paired sd 0.14 points, 4 df]")  # fmt: skip


def test_the_figure_rings_the_decided_winner(built: tuple[Path, Report]) -> None:
    from bench.report.top1_vs_cost import plot_top1_vs

    report = built[1]
    fig = plot_top1_vs(report.table, "top1_vs_macs", winners=report.decisions)
    rings = [line for line in fig.axes[0].lines if line.get_gid() == "winner"]
    assert len(rings) == 1  # width at phi 1; the tie at phi 2 rings nobody
    levels = report.table[(report.table["strategy"] == "width") & (report.table["phi"] == 1)]
    assert rings[0].get_ydata()[0] == 100 * levels["top1"].mean()
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "decided winner of its level" in texts


def test_one_seed_says_undecided(tmp_path: Path) -> None:
    table, _ = load_results([sweep(tmp_path, seeds=1)])
    frame = decisions(table)
    lines = verdict_lines(table, frame, 0.01, 0.95)
    assert lines[1] == "phi=1: width vs depth undecided (one seed)"
    assert lines[2] == "phi=2: width vs depth undecided (one seed)"
    assert not frame["decided"].any() and (frame["winner"] == "").all()


def test_an_undecided_line_says_how_many_seeds_would_decide() -> None:
    rows = []
    for seed, (a, b) in enumerate([(0.60, 0.64), (0.63, 0.61), (0.58, 0.62)]):
        point = {"sweep": "s", "phi": 1.0, "seed": seed, "status": "ok"}
        rows += [point | {"strategy": "depth", "top1": a}, point | {"strategy": "width", "top1": b}]
    table = pd.DataFrame(rows)
    (line,) = verdict_lines(table, decisions(table), 0.01, 0.95)
    assert line.startswith("phi=1: width vs depth undecided (+2.0, 95 % interval ")
    assert line.endswith(
        "seeds would decide a 1-point difference at this noise [paired sd 3.5 points, 2 df]"
    )


def three_strategies(seeds: int = 4) -> pd.DataFrame:
    """compound 4 points ahead; depth and width 0.7 apart, within the seed noise."""
    rows = []
    for seed in range(seeds):
        noise = [0.0, 0.008, -0.006, 0.003][seed]
        wobble = [0.01, -0.01, 0.0, 0.004][seed]
        point = {"sweep": "s", "phi": 1.0, "seed": seed, "status": "ok"}
        rows += [point | {"strategy": "depth", "top1": 0.60 + noise},
                 point | {"strategy": "width", "top1": 0.606 + noise + wobble},
                 point | {"strategy": "compound", "top1": 0.64 + noise - wobble / 2}]  # fmt: skip
    return pd.DataFrame(rows)


def test_a_line_names_the_leader_first_then_the_others_and_the_confidence_used() -> None:
    table = three_strategies()
    (line,) = verdict_lines(table, decisions(table, Decide(), looks=3), 0.01, 0.95)
    leader, rest = line.split("; others: ")
    assert leader.startswith("phi=1: compound ahead of depth by ")
    assert "; compound ahead of width by " in leader
    assert leader.count("(98.3 % interval ") == 2  # 1 - 0.05 / 3, not "95 %"
    assert leader.endswith(": compound wins the level (95 % confidence over 3 looks)")
    assert rest.startswith("width vs depth undecided (+")
    assert rest.endswith(" [paired sd 0.91 points, 6 df]")


def test_a_level_of_points_that_did_not_learn_says_so_and_no_spread_decides_nothing() -> None:
    rows = []
    for seed in range(2):
        point = {"sweep": "s", "phi": 1.0, "seed": seed, "status": "ok", "above_chance": False}
        rows += [point | {"strategy": "depth", "top1": 0.108, "within_tolerance": seed == 0},
                 point | {"strategy": "width", "top1": 0.1, "still_improving": True}]  # fmt: skip
    table = pd.DataFrame(rows)
    frame = decisions(table)
    (line,) = verdict_lines(table, frame, 0.01, 0.95)
    assert line == (
        "phi=1: width vs depth undecided (-0.8 at each of the 2 paired seeds: no spread to "
        "estimate the noise from) [flagged: 2 of 4 points still improving; 4 of 4 points not "
        "above chance; 1 of 4 points off MAC target]"
    )
    assert frame["flags"].tolist() == ["2 still improving, 4 not above chance, 1 off MAC target"]


def test_the_sweep_manifest_sets_margin_and_looks(tmp_path: Path) -> None:
    folder = sweep(tmp_path)
    manifest = {"sweep": "sw", "decide": {"margin": 0.1, "confidence": 0.9, "looks": 3}}
    (folder / "sweep.json").write_text(json.dumps(manifest))
    decide, looks = settings([folder])
    assert (decide.margin, decide.confidence, looks) == (0.1, 0.9, 3)
    (folder / "sweep.json").write_text('{"sweep": "sw"}')
    assert settings([folder]) == (Decide(), 1)
