"""Weights & Biases: offline runs per point and per sweep, and never in the way."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading

import pytest
import wandb_offline
from conftest import SMALL

from bench.errors import UserError
from bench.point import run_point
from bench.record import SUMMARY_KEYS
from bench.schema import Logger
from bench.tracking import Tracker, resolve_mode, warm_up

WITH_WANDB = [o for o in SMALL if not o.startswith("logger.")]


@pytest.mark.slow
def test_offline_runs_for_every_point_and_the_summary(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "-m", f"runs_dir={tmp_path}", *WITH_WANDB,
         "strategy=depth,width", "phi=0,1", "sweep=wb"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = sorted((tmp_path / "wb" / "wandb").glob("offline-run-*"))
    infos = {wandb_offline.run_info(r).display_name: r for r in runs}
    points = {"depth_phi0_seed0", "depth_phi1_seed0", "width_phi0_seed0", "width_phi1_seed0"}
    assert points | {"wb-summary"} == set(infos)

    trained = infos["depth_phi1_seed0"]
    info = wandb_offline.run_info(trained)
    assert info.run_group == "wb" and info.job_type == "depth"
    assert {"tiny", "shapes", "phi=1"} <= set(info.tags)
    config = {u.key: json.loads(u.value_json) for u in info.config.update}
    assert config["strategy"]["name"] == "depth" and config["phi"] == 1
    summary = wandb_offline.summary(trained)
    for key in ("top1", "top5", "macs", "params", "activations", "depth_mult", "width_mult"):
        assert key in summary  # the keys earlier work promised...
    assert set(SUMMARY_KEYS) <= set(summary)  # ...and every summary key of the record
    assert summary["status"] == "ok"
    assert {"train/loss", "train/lr", "train/images_per_sec", "eval/top1"} <= (
        wandb_offline.history_keys(trained)
    )
    shared = wandb_offline.summary(infos["width_phi0_seed0"])  # reused baseline still logged
    assert shared["shared"] is True and "top1" in shared

    summary_run = infos["wb-summary"]
    assert wandb_offline.run_info(summary_run).job_type == "summary"
    keys = wandb_offline.history_keys(summary_run)
    # W&B flattens media into <key>/_type, <key>/path, ...
    assert {"figures/top1_vs_macs/_type", "results/_type", "top1_vs_macs_table/_type"} <= keys
    images = list(summary_run.glob("files/media/images/**/*.png"))
    tables = list(summary_run.glob("files/media/table/**/*.table.json"))
    assert images and tables
    table = json.loads(tables[0].read_text())
    assert "top1" in table["columns"] and len(table["data"]) >= 4


def test_wandb_mode_env_overrides_config(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert resolve_mode(Logger(mode="online")) == "disabled"
    monkeypatch.setenv("WANDB_MODE", "dryrun")
    assert resolve_mode(Logger(mode="online")) == "offline"
    monkeypatch.delenv("WANDB_MODE")
    assert resolve_mode(Logger(mode="offline")) == "offline"
    monkeypatch.setenv("WANDB_MODE", "sometimes")
    with pytest.raises(UserError, match="WANDB_MODE='sometimes' must be one of"):
        resolve_mode(Logger())


def test_a_wandb_failure_warns_once_and_training_goes_on(compose, tmp_path, monkeypatch, caplog):
    import wandb

    def broken(*args, **kwargs):
        raise RuntimeError("the W&B service is down")

    monkeypatch.setattr(wandb, "init", broken)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    with caplog.at_level(logging.WARNING):
        result = run_point(compose(f"runs_dir={tmp_path}", *WITH_WANDB, "logger.mode=offline"))
    assert result["status"] == "ok"
    warnings = [r for r in caplog.records if "W&B logging is off" in r.getMessage()]
    assert len(warnings) == 1 and "service is down" in warnings[0].getMessage()


def test_online_without_network_or_key_falls_back(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("WANDB_API_KEY", "0" * 40)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    with caplog.at_level(logging.WARNING):
        t = Tracker(
            Logger(mode="online", init_timeout=5),
            directory=tmp_path, name="x", group="g", job_type="j", tags=[], config={},
        )  # fmt: skip
        t.log({"a": 1}, step=1)
        t.summary({"b": 2})
        t.finish()
    assert not t.active
    assert any("W&B logging is off" in r.getMessage() for r in caplog.records)


def test_warm_up_starts_wandb_in_the_background_and_never_raises(tmp_path, monkeypatch):
    import wandb

    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert warm_up(Logger(mode="disabled")) is None
    thread = warm_up(Logger(mode="offline"))
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert "wandb.sdk.launch.inputs.internal" in sys.modules
    t = Tracker(Logger(mode="offline"), directory=tmp_path, name="x", group="g", job_type="j",
                tags=[], config={})  # fmt: skip
    assert t.active
    t.finish()

    def broken(*args, **kwargs):
        raise RuntimeError("no service")

    escaped = []
    monkeypatch.setattr(wandb, "setup", broken)
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    thread = warm_up(Logger(mode="offline"))
    thread.join(timeout=60)
    assert not thread.is_alive() and not escaped  # swallowed: wandb.init reports real failures


def test_disabled_mode_writes_nothing(tmp_path):
    t = Tracker(Logger(mode="disabled"), directory=tmp_path, name="x", group="g", job_type="j",
                tags=[], config={})  # fmt: skip
    t.log({"a": 1})
    t.finish()
    assert not t.active and not (tmp_path / "wandb").exists()
