"""bench.report.tables: the Markdown/LaTeX results tables of the pooled levels."""

from __future__ import annotations

import pytest
from helpers.fake_results import make_result, write_sweep

from bench.analysis.results import load_results
from bench.report.tables import to_latex, to_markdown, write_tables

# compound at phi=2: three seeds with a known spread, checked against a hand computation
SEEDS = {("compound", 2, 0): 0.70, ("compound", 2, 1): 0.72, ("compound", 2, 2): 0.75}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    sweep = write_sweep(tmp_path_factory.mktemp("runs") / "tiny-shapes-epochs5", top1=SEEDS)
    return load_results([sweep])[0]


def test_markdown_rows_and_numbers(table):
    text = to_markdown(table)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "Strategy" not in line]
    assert len(rows) == 16  # 4 levels x 4 strategies
    # hand computation: mean 72.33, sd 2.5166, t(0.975, 2) = 4.3027 -> half-width 6.25
    compound2 = next(r for r in rows if r.startswith("| 2 | compound"))
    assert "72.3 ± 6.3" in compound2
    assert "10.4M" in compound2 or "10.6M" in compound2  # MACs in M
    width3 = next(r for r in rows if r.startswith("| 3 | width"))
    assert "(1 diverged)" in width3
    assert "(1 failed)" in next(r for r in rows if r.startswith("| 3 | resolution"))
    assert "tiny on shapes · 5 epochs per point" in text.splitlines()[0]
    assert "95% t-interval" in text.splitlines()[0]
    assert "Top-1 (%, mean ± t95)" in text  # the header names the interval too
    # width phi=3 has two ok seeds left: their range, in brackets, and the caption says so
    assert "levels with 2 seeds: mean [lowest, highest] seed" in text.splitlines()[0]
    ok = table.query("strategy == 'width' and phi == 3 and status == 'ok'")["top1"] * 100
    assert f"[{ok.min():.1f}, {ok.max():.1f}]" in width3
    # phi ascends, strategies in the fixed order within a level
    order = [r.split("|")[2].strip() for r in rows[:4]]
    assert order == ["depth", "width", "resolution", "compound"]


def test_each_row_shows_the_blocks_per_stage_that_were_built(table):
    """d is the planner's multiplier; what rounding built is shown beside it."""
    text = to_markdown(table)
    header = next(line for line in text.splitlines() if "Strategy" in line)
    assert [c.strip() for c in header.split("|")][3:7] == ["d", "w", "r", "Blocks"]
    for strategy, phi in (("depth", 0), ("depth", 3), ("compound", 2)):
        depths = table.query(f"strategy == '{strategy}' and phi == {phi}")["depths"].iloc[0]
        row = next(r for r in text.splitlines() if r.startswith(f"| {phi} | {strategy}"))
        assert isinstance(depths, str) and depths.count("-") == 3  # results.csv's "1-2-2-2"
        assert f"| {depths} |" in " ".join(row.split())


def test_latex_is_booktabs_with_numbers_and_escapes(tmp_path):
    sweep = write_sweep(
        tmp_path / "s",
        strategies=("depth", "compound_tiny_shapes"),
        phis=(0, 1),
        top1={("depth", 1, s): v for s, v in enumerate((0.70, 0.72, 0.75))},
        diverged=(),
        failed=(("depth", 0, 0), ("depth", 0, 1), ("depth", 0, 2)),
    )
    table = load_results([sweep])[0]
    tex = to_latex(table)
    for needle in (
        r"\toprule",
        r"\midrule",
        r"\bottomrule",
        r"\begin{tabular}",
        r"\caption{",
        r"Top-1 (\%, mean $\pm$ t95)",
        r"compound\_tiny\_shapes",
        r"72.3 $\pm$ 6.3",
    ):
        assert needle in tex, needle
    body = tex.split(r"\midrule", 1)[1]
    assert body.count(r"\\") == 4  # 2 levels x 2 strategies
    assert "failed" in body  # depth at phi=0: every seed failed
    assert not {"±", "φ", "·", "–", "†"} & set(tex)  # raw unicode would need a package


def test_combined_table_has_a_sweep_column(tmp_path):
    a = write_sweep(tmp_path / "a", strategies=("depth",), phis=(0, 1), pending=())
    b = write_sweep(tmp_path / "b", strategies=("depth",), phis=(0, 1), pending=())
    table = load_results([a, b])[0]
    text = to_markdown(table)
    assert "| Sweep" in text or "Sweep |" in text
    assert sum(1 for line in text.splitlines() if line.startswith("| 1 | depth")) == 2


def test_write_tables_writes_both_files(table, tmp_path):
    paths = write_tables(table, tmp_path / "tables")
    assert paths["markdown"].name == "results_table.md"
    assert paths["latex"].name == "results_table.tex"
    assert paths["markdown"].read_text() == to_markdown(table)
    assert paths["latex"].read_text() == to_latex(table)


def test_failed_only_level_reads_failed(tmp_path):
    sweep = tmp_path / "s"
    from helpers.fake_results import write_result

    write_result(sweep, make_result("depth", 0, 0))
    write_result(sweep, make_result("width", 1, 0, "failed"))
    text = to_markdown(load_results([sweep])[0])
    width = next(line for line in text.splitlines() if line.startswith("| 1 | width"))
    assert width.rstrip(" |").endswith("failed")
