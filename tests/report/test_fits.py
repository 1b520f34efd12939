"""bench.report.fits and fits_tables: the fits' tables (csv, md, tex) and dashed fit lines."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from analysis.power_law_points import BASE, REQUIRED, hand_table, power_law

from bench.analysis.fits import fit_strategies
from bench.report import fits_tables
from bench.report.fits import draw_fit_lines
from bench.report.fits_tables import write_fits


@pytest.fixture(scope="module")
def hand() -> pd.DataFrame:
    return fit_strategies(hand_table()).set_index("strategy")


def test_written_tables(tmp_path, monkeypatch):
    written = []
    real = fits_tables.atomic_write_text
    monkeypatch.setattr(
        fits_tables, "atomic_write_text", lambda p, t: (written.append(p), real(p, t))
    )
    fits = fit_strategies(hand_table())
    paths = write_fits(fits, tmp_path)
    assert sorted(written) == sorted(paths.values())
    assert paths["csv"] == tmp_path / "fits.csv"

    csv = pd.read_csv(paths["csv"])
    assert list(csv.columns[:6]) == REQUIRED
    assert list(csv["strategy"]) == ["depth", "width", "resolution", "linear"]
    assert csv["a"].tolist()[:3] == fits["a"].tolist()[:3]  # full precision round trip

    caption, blank, header = paths["markdown"].read_text().splitlines()[:3]
    assert caption.startswith("Power-law fit per strategy, top-1 error = a · MACs^(−b)")
    for words in ("r2 in log space", "flops_to_match_best:", "Points per strategy: 2–6",
                  "seeds: 2", "95% percentile bootstrap over seeds (2000 resamples)"):  # fmt: skip
        assert words in caption
    assert blank == "" and header.startswith("| strategy | a | b | r2 | n_points |")
    assert "| width |" in paths["markdown"].read_text()

    tex = paths["latex"].read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex
    assert r"95\% percentile" in tex and r"flops\_to\_match\_best" in tex
    assert r"resolution & " in tex and r"$\infty$" in tex


def test_draw_fit_lines_one_dashed_line_per_fitted_strategy(hand):
    fits = hand.reset_index()
    colors = {"depth": (1, 0, 0), "width": (0, 1, 0), "resolution": (0, 0, 1), "linear": "k"}
    fig, ax = plt.subplots()
    try:
        ax.set_xscale("log")
        ax.plot([BASE, 4 * BASE], [50, 60])
        limits = ax.dataLim.frozen()
        lines = draw_fit_lines(ax, fits, colors, (BASE / 2, 64 * BASE))
        assert len(lines) == 3 and len(ax.get_lines()) == 4  # linear has no fit
        assert [line.get_color() for line in lines] == [colors[s] for s in fits["strategy"][:3]]
        assert {line.get_linestyle() for line in lines} == {"--"}
        x, y = lines[1].get_data()
        assert x[0] == pytest.approx(BASE / 2) and x[-1] == pytest.approx(64 * BASE)
        assert y == pytest.approx(100 * (1 - power_law(0.1, x)))
        assert np.array_equal(ax.dataLim.get_points(), limits.get_points())
        assert ax.get_legend_handles_labels() == ([], [])
    finally:
        plt.close(fig)


def test_written_tables_show_and_explain_the_flags(tmp_path):
    paths = write_fits(fit_strategies(hand_table()), tmp_path)
    caption, _, header, _, *rows = paths["markdown"].read_text().splitlines()
    assert header.endswith("| note | flags |")
    assert "flags: the fitted points' flags, counted" in caption
    linear = next(r for r in rows if r.startswith("| linear |"))
    assert linear.endswith("| 1 distinct point for 2 parameters; 2000 of 2000 resamples failed |")
    tex = paths["latex"].read_text()
    assert "Flags" in tex and "2000 of 2000 resamples failed" in tex
    assert list(pd.read_csv(paths["csv"]).columns[-2:]) == ["resamples_failed", "flags"]
