"""bench.analysis.text: counts, budgets and intervals as every caption and cell prints them."""

from __future__ import annotations

from bench.analysis.text import format_count


def test_formatting_helpers():
    assert [format_count(v) for v in (2_610_194, 41_800_000, 1.64e9, 950)] == [
        "2.61M",
        "41.8M",
        "1.64G",
        "950",
    ]
    assert format_count(float("nan")) == "—"
