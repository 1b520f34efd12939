"""``python -m bench.search``: the phi = 1 grid, a real search, its strategy file, resume; the
ranking is on the validation split, never on the test split."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SMALL, bench, one_error_line

from bench.config.compose import CONF_DIR, compose_config
from bench.config.validate import validate
from bench.errors import UserError
from bench.report.stats import t_quantile
from bench.schema import Search
from bench.search import PAPER, Candidate, draw, grid, output_path, rank, strategy_yaml
from bench.store import point_name


def test_grid_respects_the_constraint_and_keeps_factors_at_least_one():
    cands = grid(Search(min=1.0, max=1.5, step=0.05, tolerance=0.05))
    assert cands
    for c in cands:
        assert min(c.alpha, c.beta, c.gamma) >= 1.0
        assert abs(c.alpha * c.beta**2 * c.gamma**2 - 2) <= 0.05 + 1e-12
    assert len({c.astuple() for c in cands}) == len(cands)


def test_grid_includes_the_papers_point_when_the_grid_allows_it():
    on_grid = grid(Search(min=1.0, max=1.4, step=0.05, tolerance=0.1))
    assert sum(c.is_paper() for c in on_grid) == 1
    coarse = grid(Search(min=1.0, max=1.4, step=0.2, tolerance=0.1))
    assert any(c.is_paper() for c in coarse)  # inside bounds and tolerance: added
    tight = grid(Search(min=1.0, max=1.4, step=0.05, tolerance=0.05))
    assert not any(c.is_paper() for c in tight)  # 1.2 * 1.1^2 * 1.15^2 = 1.92
    narrow = grid(Search(min=1.0, max=1.19, step=0.01, tolerance=0.1))
    assert not any(c.is_paper() for c in narrow)  # alpha = 1.2 is off the grid


def test_bad_grids_are_user_errors():
    with pytest.raises(UserError, match="search.min=0.9 must be greater than or equal to 1"):
        validate(compose_config(["search.min=0.9"], config_name="search"))
    with pytest.raises(UserError, match="search: max=1.1 must be at least min=1.2"):
        validate(compose_config(["search.min=1.2", "search.max=1.1"], config_name="search"))
    with pytest.raises(UserError, match="no \\(alpha, beta, gamma\\)"):
        grid(Search(min=1.0, max=1.1, step=0.1, tolerance=0.01))


def write_candidates(folder: Path, scores: dict) -> None:
    """result.json per seed: candidate -> ([(val_top1, top1) per seed], activations)."""
    for cand, (accs, acts) in scores.items():
        for seed, (val, test) in enumerate(accs):
            d = folder / point_name(cand.name, 1, seed)
            d.mkdir()
            result = {"status": "ok", "val_top1": val, "top1": test, "activations": acts}
            (d / "result.json").write_text(json.dumps(result))


def test_ranking_uses_the_mean_and_breaks_ties_by_activations(tmp_path):
    a, b, c = Candidate(1.2, 1.1, 1.15), Candidate(1.4, 1.2, 1.0), Candidate(1.0, 1.2, 1.2)
    scores = {a: ([(0.50, 0.4), (0.70, 0.6)], 100), b: ([(0.60, 0.5), (0.60, 0.5)], 90),
              c: ([(0.55, 0.3), (0.65, 0.3)], 80)}  # fmt: skip
    write_candidates(tmp_path, scores)
    table = rank(tmp_path, [a, b, c], [0, 1])
    assert list(table.label) == [c.label, b.label, a.label]  # all mean 0.6: fewest activations
    assert table.val_top1.tolist() == pytest.approx([0.6, 0.6, 0.6])
    assert table.top1.tolist() == pytest.approx([0.3, 0.5, 0.5])  # the test split's, reported
    row = table.set_index("label").loc[a.label]
    assert row.val_ci95 == pytest.approx(t_quantile(1) * 0.1414213 / 2**0.5, rel=1e-4)
    assert row.ci95 == pytest.approx(t_quantile(1) * 0.1414213 / 2**0.5, rel=1e-4)
    assert table.loc[table.label == b.label, "val_ci95"].item() == 0.0
    assert row.paper and set(table.ranked_on) == {"val_top1"}


def test_a_candidate_best_on_the_test_split_but_not_on_validation_is_not_chosen(tmp_path):
    lucky, steady = Candidate(1.2, 1.1, 1.15), Candidate(1.4, 1.2, 1.0)
    write_candidates(tmp_path, {lucky: ([(0.50, 0.80), (0.52, 0.82)], 80),
                                steady: ([(0.60, 0.70), (0.62, 0.72)], 90)})  # fmt: skip
    table = rank(tmp_path, [lucky, steady], [0, 1])
    assert list(table.label) == [steady.label, lucky.label]
    assert table.top1[0] == pytest.approx(0.71)  # the winner's test top-1, lower than lucky's


def test_a_candidate_validation_agrees_on_is_chosen(tmp_path):
    best, other = Candidate(1.2, 1.1, 1.15), Candidate(1.4, 1.2, 1.0)
    write_candidates(tmp_path, {best: ([(0.65, 0.80), (0.63, 0.82)], 90),
                                other: ([(0.60, 0.70), (0.62, 0.72)], 80)})  # fmt: skip
    table = rank(tmp_path, [other, best], [0, 1])
    assert table.label[0] == best.label and table.top1[0] == pytest.approx(0.81)


def test_the_winners_strategy_file_says_it_was_chosen_on_validation(tmp_path):
    best = Candidate(1.2, 1.1, 1.15)
    write_candidates(tmp_path, {best: ([(0.65, 0.80), (0.63, 0.82)], 90)})
    config = validate(compose_config(["model=tiny", "data=shapes"], config_name="search"))
    text = strategy_yaml("found", rank(tmp_path, [best], [0, 1]).iloc[0], config, "matched")
    assert "chosen on validation top-1 (data.val_fraction=0.1) 64.00% +- " in text
    assert "# test top-1 81.00% +- " in text and "(reported, not chosen on)" in text
    assert "alpha: 1.2\nbeta: 1.1\ngamma: 1.15\nmode: matched\n" in text


def test_a_search_without_a_validation_split_is_refused_in_one_line():
    config = validate(compose_config([], config_name="search"))
    assert config.data.val_fraction == 0.1  # conf/search.yaml's default
    with pytest.raises(UserError) as info:
        validate(compose_config(["data.val_fraction=0"], config_name="search"))
    assert str(info.value) == (
        "config: bench.search ranks candidates on a validation split: set data.val_fraction "
        "above 0 (conf/search.yaml's 0.1, say); ranking on the test split would report a "
        "number chosen on it"
    )


def test_default_output_is_a_strategy_config():
    config = validate(compose_config(["model=tiny", "data=shapes"], config_name="search"))
    path, name = output_path(config)
    assert path == CONF_DIR / "strategy" / "compound_tiny_shapes.yaml"
    assert name == "compound_tiny_shapes"


def _search(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    out = tmp_path / "conf" / "strategy" / "found.yaml"
    return bench("search", f"runs_dir={tmp_path}", *SMALL, f"search.out={out}", "search.seeds=2",
                 *extra, timeout=900)  # fmt: skip


@pytest.mark.slow
def test_a_bad_search_value_stops_before_any_job(tmp_path):
    proc = _search(tmp_path, "train.amp=flase")
    assert proc.returncode == 1
    assert one_error_line(proc) == "error: train.amp='flase' must be auto, true or false"
    assert not list(tmp_path.rglob("result.json"))


@pytest.mark.slow
def test_a_killed_search_resumes_and_writes_a_strategy_that_plan_and_run_accept(tmp_path):
    """A real search (2 candidates x 2 seeds: search.max=1.2 leaves 1/1.2/1.2 and the paper's
    point), SIGKILLed once two points are done and run again: the finished points are read
    back, the rest trained, the winner written."""
    out = tmp_path / "conf" / "strategy" / "found.yaml"
    args = [sys.executable, "-m", "bench.search", f"runs_dir={tmp_path}", *SMALL,
            f"search.out={out}", "search.seeds=2", "search.max=1.2"]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    sweep = tmp_path / "search-vgg_tiny-shapes-epochs1"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(sweep.glob("*/result.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.parent.name: p.stat().st_mtime for p in sweep.glob("*/result.json")}
    assert len(before) >= 2 and not out.exists()

    again = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    after = {p.parent.name: p.stat().st_mtime for p in sweep.glob("*/result.json")}
    manifest = json.loads((sweep / "sweep.json").read_text())
    assert len(after) == manifest["jobs"] == len(manifest["candidates"]) * 2
    assert all(after[name] == mtime for name, mtime in before.items())  # not retrained
    assert len(list((sweep / "trained").iterdir())) == manifest["jobs"]

    assert "winner alpha=" in again.stdout and "rank" in again.stdout
    assert "ranked by validation top-1 (data.val_fraction=0.1" in again.stdout
    text = out.read_text()
    assert "_target_: bench.scaling.strategies.Compound" in text and "name: found" in text
    assert "chosen on validation top-1" in text
    assert (sweep / "figures" / "search_grid.png").stat().st_size > 0
    ranking = (sweep / "search_ranking.csv").read_text().splitlines()
    assert ranking[0].startswith("rank,alpha,beta,gamma,product,val_top1,val_ci95,top1,ci95")
    assert manifest["ranked_on"] == "val_top1"
    results = [json.loads(p.read_text()) for p in sweep.glob("*/result.json")]
    assert {r["seed"] for r in results} == {0, 1}
    assert all(r["phi"] == 1 and r["strategy"].startswith("search_") for r in results)
    assert all(r["val_top1"] is not None for r in results)  # conf/search.yaml's split

    searchpath = f"hydra.searchpath=[file://{tmp_path / 'conf'}]"
    strategy = validate(compose_config([searchpath, "strategy=found"])).strategy
    assert min(strategy.alpha, strategy.beta, strategy.gamma) >= 1
    assert abs(strategy.product - 2) <= 0.15
    plan = bench("plan", searchpath, "strategy=found", "phi=0,1,2")
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.count("found") == 3


def test_the_grid_figure_marks_the_winner_and_the_papers_point(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    paper, other = Candidate(*PAPER), Candidate(1.4, 1.2, 1.0)
    write_candidates(tmp_path, {paper: ([(0.5, 0.4)], 100), other: ([(0.6, 0.5)], 90)})
    drawn: list = []
    monkeypatch.setattr(plt, "close", drawn.append)  # keep the figure to look at
    paths = draw(rank(tmp_path, [paper, other], [0]), tmp_path / "figures", "t")
    assert paths and all(p.stat().st_size > 0 for p in paths)
    (ax,) = drawn[0].axes
    marks = {line.get_label(): list(line.get_xdata()) for line in ax.get_lines()}
    assert marks["paper (1.2/1.1/1.15)"] == [0] and marks["winner"] == [1]  # sorted by product
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1.2/1.1/1.15", "1.4/1.2/1"]
    monkeypatch.undo()
    plt.close(drawn[0])
