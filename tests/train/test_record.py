"""bench.train.record: one definition of a result, from which every other form derives."""

from __future__ import annotations

from dataclasses import fields

from helpers.fake_results import make_result

from bench.train.record import (
    INTERFACE,
    NESTED,
    PLAN_COLUMNS,
    SUMMARY_KEYS,
    PointResult,
    csv_columns,
    csv_row,
    int_columns,
)

FIXED = [
    "status", "reason", "strategy", "phi", "seed", "top1", "top5", "macs", "params",
    "activations", "depth_mult", "width_mult", "resolution", "epochs", "train_flops",
    "wall_seconds",
]  # fmt: skip
PLAN_FIXED = [
    "strategy", "phi", "depth_mult", "width_mult", "resolution", "macs", "params",
    "activations", "target_macs",
]  # fmt: skip


def test_the_interface_keys_keep_their_names_and_places():
    assert list(INTERFACE) == FIXED
    assert list(PLAN_COLUMNS[: len(PLAN_FIXED)]) == PLAN_FIXED


def test_every_derived_list_names_fields_of_the_record():
    names = [f.name for f in fields(PointResult)]
    for derived in (PLAN_COLUMNS, SUMMARY_KEYS, NESTED):
        assert set(derived) <= set(names)
    columns = csv_columns()
    assert columns[:16] == FIXED and not NESTED & set(columns)
    assert "device" not in columns and {"device_type", "device_name"} <= set(columns)
    assert {"seed", "macs", "steps", "resumed_from_step", "device_threads"} <= set(int_columns())
    assert not {"top1", "phi", "status"} & set(int_columns())


def test_a_csv_row_is_the_flat_record():
    result = make_result("width", 1, 0)
    row = csv_row(result)
    assert set(row) == set(csv_columns())
    assert row["depths"] == "-".join(map(str, result["depths"]))
    assert row["device_type"] == "cpu" and row["device_threads"] == 2
    failed = csv_row(make_result("width", 1, 0, "failed"))
    assert set(failed) == set(csv_columns()) and failed["device_type"] is None


def test_results_round_trip_and_unknown_keys_from_other_versions_are_dropped():
    result = make_result("depth", 2, 1)
    assert PointResult.from_json(result).to_json() == result
    assert PointResult.from_json({**result, "future_key": 1}).to_json() == result
    assert set(PointResult(status="failed").to_json()) == {f.name for f in fields(PointResult)}
