"""bench.analysis.flags: which ok points are still improving, not above chance or off the MAC
target, counted per level and said in words."""

from __future__ import annotations

import pytest

from bench.analysis.flags import COUNTS, FLAGS, count_flags, counted, flag_text, marks, table_note
from bench.analysis.results import load_results


@pytest.fixture(scope="module")
def table(flagged_sweep):
    return load_results([flagged_sweep])[0]


def test_flag_text_counts_the_ok_points_in_words(table):
    """What tables of points or fits say: phi 3 of both strategies (3 seeds each) still
    improving, one seed not above chance, one off target; only ok points count."""
    assert flag_text(table) == "6 still improving; 1 not above chance; 1 off MAC target"
    assert flag_text(table[table["strategy"] == "depth"]) == "3 still improving; 1 not above chance"
    assert flag_text(table.assign(status="diverged")) == ""
    assert counted({"n_off_target": 2, "n_improving": 0}) == "2 off MAC target"


def test_levels_count_their_flagged_ok_seeds_and_get_marks(table):
    counts = count_flags(table, ["strategy", "phi"])
    assert list(counts.columns) == list(COUNTS)
    assert counts.loc[("depth", 3)].tolist() == [3, 0, 0]
    assert counts.loc[("depth", 2)].tolist() == [0, 1, 0]
    assert counts.loc[("width", 1)].tolist() == [0, 0, 1]
    assert marks(counts.loc[("depth", 2)]) == "‡" and marks(counts.loc[("width", 0)]) == ""
    note = table_note(counts.loc[[("depth", 3), ("width", 1)]])
    assert note == f"{FLAGS[0].mark} {FLAGS[0].note}; {FLAGS[2].mark} {FLAGS[2].note}"
