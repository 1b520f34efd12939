"""Validation top-1 against learning rate, from tuned points' lr_candidates."""

from __future__ import annotations

from helpers.fake_results import make_result

from bench.analysis.lr_sensitivity import lr_table
from bench.report.lr_sensitivity import write_lr_sensitivity
from bench.report.prepared import prepare
from bench.schema import Plot


def tuned(strategy, phi, chosen):
    r = make_result(strategy, phi, 0)
    r["lr"] = chosen
    r["lr_candidates"] = [{"lr": lr, "val_top1": 0.5 + lr, "status": "ok"} for lr in (0.1, 0.2)]
    return r


def test_a_row_per_point_and_rate_the_chosen_marked(tmp_path):
    results = {"s": [tuned("depth", 1, 0.2), tuned("width", 1, 0.2), make_result("depth", 0, 0)]}
    table = lr_table(results)
    assert len(table) == 4 and list(table["chosen"]) == [False, True, False, True]
    assert lr_table({"s": [make_result("depth", 0, 0)]}).empty
    prep = prepare(table.assign(status="ok", top1=0.5), options=Plot(formats=["png"]))
    tables, figures = write_lr_sensitivity(prep, results, tmp_path)
    assert tables["lr_sensitivity_csv"].is_file() and figures[0].name == "lr_sensitivity.png"
