"""Weights & Biases: offline runs per point and per sweep, what they hold, and never in the way.

Every test reads what the offline runs recorded (``wandb_offline``): keys,
media, artifact manifests, metric axes, exit codes, run folders.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import SMALL
from helpers import wandb_offline
from helpers.fake_results import make_result
from PIL import Image

from bench.errors import UserError
from bench.report.decide import decisions
from bench.report.verdicts import verdict_lines
from bench.schema import Logger
from bench.store import point_paths
from bench.track.offline import LOCKS, hold_lock, release_lock, remove_orphans
from bench.track.summary import log_sweep_summary
from bench.track.tracker import RunSpec, Tracker, artifact_name, resolve_mode, warm_up
from bench.train.point import run_id, run_point
from bench.train.provenance import git_commit
from bench.train.record import SUMMARY_KEYS, csv_row

WITH_WANDB = [o for o in SMALL if not o.startswith("logger.")]
SWEEP = ["strategy=depth,width", "phi=0,1", "sweep=wb", "train.epochs=2", "plot.cam_images=0",
         "plot.formats=[png,pdf,svg]"]  # fmt: skip
POINTS = {"depth_phi0_seed0", "depth_phi1_seed0", "width_phi0_seed0", "width_phi1_seed0"}


def only_run(sweep_dir: Path) -> Path:
    """The one offline run folder under ``<sweep_dir>/wandb``."""
    (folder,) = sorted((Path(sweep_dir) / "wandb").glob("offline-run-*"))
    return folder


def chart(run_dir: Path) -> tuple[dict, pd.DataFrame]:
    """The native chart's panel settings and the table it draws, as logged."""
    panel = wandb_offline.config(run_dir)["_wandb"]["visualize"]["top1_vs_macs"]
    (row,) = [r for r in wandb_offline.history(run_dir) if "top1_vs_macs_table" in r]
    data = json.loads((run_dir / "files" / row["top1_vs_macs_table"]["path"]).read_text())
    return panel["panel_config"], pd.DataFrame(data["data"], columns=data["columns"])


def fake_report(out: Path) -> SimpleNamespace:
    """A report as bench.report returns it: 2 strategies x 3 levels x 2 seeds, one point bad."""
    rows = [
        make_result(s, phi, seed, "diverged" if (s, phi, seed) == ("width", 2, 1) else "ok")
        for s in ("depth", "width") for phi in (0, 1, 2) for seed in (0, 1)
    ] + [make_result("depth", 3, 0, "failed")]  # fmt: skip
    table = pd.DataFrame([csv_row(r) | {"sweep": "fake-sweep"} for r in rows])
    (out / "figures").mkdir(parents=True)
    (out / "tables").mkdir()
    table.to_csv(out / "results.csv", index=False)
    figures = {}
    for name in ("top1_vs_macs", "pareto"):
        Image.new("RGB", (8, 8), (200, 30, 30)).save(out / "figures" / f"{name}.png")
        for fmt in ("pdf", "svg", "txt"):
            (out / "figures" / f"{name}.{fmt}").write_text(f"{name} {fmt}")
        figures[name] = [out / "figures" / f"{name}.{fmt}" for fmt in ("png", "pdf", "svg")]
    tables = {}
    for fmt in ("md", "tex"):
        tables[f"results_table_{fmt}"] = out / "tables" / f"results_table.{fmt}"
        tables[f"results_table_{fmt}"].write_text(fmt)
    return SimpleNamespace(table=table, figures=figures, tables=tables,
                           csv=out / "results.csv", out_dir=out)  # fmt: skip


def test_summary_run_logs_every_report_file_and_a_chart_of_means(tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    report = fake_report(tmp_path / "fake-sweep")
    report.decisions = decisions(report.table)
    report.verdicts = verdict_lines(report.table, report.decisions, 0.01, 0.95)
    out = report.out_dir
    expected = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    run_dir = log_sweep_summary(Logger(mode="offline"), out, report)
    assert run_dir == only_run(out)
    assert wandb_offline.summary(run_dir)["verdicts"] == "\n".join(report.verdicts)
    assert report.verdicts[1].startswith("phi=1: ")

    (artifact,) = wandb_offline.artifacts(run_dir, "results")
    assert artifact.name == "fake-sweep"
    files = wandb_offline.entries(artifact)
    assert len(expected) == 11 and set(files) == expected  # csv, 2 x (3 formats + caption), 2
    for entry, manifest in files.items():  # the run holds the bytes the report wrote
        staged = Path(manifest.local_path)
        assert staged.is_file() and staged.is_relative_to(run_dir)
        assert manifest.digest == wandb_offline.md5_b64(out / entry)

    settings, drawn = chart(run_dir)
    assert settings["fieldSettings"] == {"x": "log10_macs", "y": "top1", "stroke": "strategy"}
    assert "log10" in settings["stringSettings"]["title"]
    ok = report.table[report.table["status"] == "ok"]
    means = ok.groupby(["strategy", "phi"])[["top1", "macs"]].mean()
    assert len(drawn) == len(means) == 6  # one row per (strategy, phi) level, failed left out
    for row in drawn.itertuples():
        top1, macs = means.loc[(row.strategy, row.phi)]
        assert row.top1 == pytest.approx(top1) and row.log10_macs == pytest.approx(math.log10(macs))
    assert drawn.set_index(["strategy", "phi"]).loc[("width", 2), "seeds"] == 1  # one diverged
    assert wandb_offline.config(run_dir)["versions"]["git_commit"] == git_commit()


def test_a_point_run_has_its_axes_commit_and_checkpoint(compose, tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    extra = ("logger.log_checkpoints=true", "train.loss_check_every=2")
    cfg = compose(f"runs_dir={tmp_path}", *WITH_WANDB, "logger.mode=offline", *extra)
    result = run_point(cfg)
    assert result["status"] == "ok"
    sweep_dir = tmp_path / result["sweep"]
    run_dir = only_run(sweep_dir)
    paths = point_paths(tmp_path, result["sweep"], "compound", 0, 0)
    paths = replace(paths, key=result["point_key"])
    assert run_dir.name.endswith(f"-{run_id(paths)}")  # the id the pipeline gives the point
    axes = wandb_offline.metrics(run_dir)
    assert axes == {"step": "", "epoch": "", "train/*": "step", "eval/*": "epoch"}
    rows = wandb_offline.history(run_dir)
    train = [r for r in rows if "train/loss" in r]
    assert len(train) == 5 and all(r["step"] == r["_step"] for r in train)  # steps 2, 4, ... 10
    assert [(r["epoch"], r["step"]) for r in rows if "eval/top1" in r] == [(1.0, 10)]
    commit = wandb_offline.config(run_dir)["versions"]["git_commit"]
    assert commit == git_commit() == result["versions"]["git_commit"]
    assert commit is not None or not (Path(__file__).parents[1] / ".git").exists()

    assert len(wandb_offline.artifacts(run_dir)) == 1
    (artifact,) = wandb_offline.artifacts(run_dir, "model")
    assert artifact.name == artifact_name(result["sweep"], "compound_phi0_seed0")
    (entry,) = wandb_offline.entries(artifact).values()
    checkpoint = sweep_dir / "trained" / result["point_key"] / "checkpoint.pt"
    assert entry.path == "checkpoint.pt" and entry.digest == wandb_offline.md5_b64(checkpoint)
    assert Path(entry.local_path).is_relative_to(run_dir)
    assert wandb_offline.exit_code(run_dir) == 0
    assert not list((sweep_dir / "wandb" / LOCKS).iterdir())  # the run's lock is gone


def test_a_point_that_fails_before_training_gets_a_failed_run(compose, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setattr("bench.train.point.load_data", broken)
    with pytest.raises(SystemExit):
        run_point(compose(f"runs_dir={tmp_path}", *WITH_WANDB, "logger.mode=offline"))
    (sweep_dir,) = tmp_path.iterdir()
    run_dir = only_run(sweep_dir)
    untrained = run_id(point_paths(tmp_path, sweep_dir.name, "compound", 0, 0))
    assert run_dir.name.endswith(f"-{untrained}")
    summary = wandb_offline.summary(run_dir)
    assert summary["status"] == "failed" and "disk is on fire" in summary["reason"]
    assert wandb_offline.exit_code(run_dir) == 1


def test_a_diverged_point_run_exits_non_zero(compose, tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    cfg = compose(f"runs_dir={tmp_path}", *WITH_WANDB, "logger.mode=offline", "train.lr=1e6",
                  "train.loss_check_every=2")  # fmt: skip
    assert run_point(cfg)["status"] == "diverged"
    (sweep_dir,) = tmp_path.iterdir()
    run_dir = only_run(sweep_dir)
    assert wandb_offline.summary(run_dir)["status"] == "diverged"
    assert wandb_offline.exit_code(run_dir) == 1


def test_only_unowned_runs_with_nothing_to_upload_are_removed(tmp_path):
    wandb_dir, header = tmp_path / "wandb", b":W&B\xe1\xbe\x00"  # a .wandb file's header
    names = {"killed": 0, "live": 0, "recorded": 40, "older": 0, "mine": 0}
    for name, size in names.items():
        folder = wandb_dir / f"offline-run-20260101_000000-{name}"
        folder.mkdir(parents=True)
        (folder / f"run-{name}.wandb").write_bytes(header + b"x" * size)
    locks = wandb_dir / LOCKS
    dead = [hold_lock(locks, name) for name in ("killed", "recorded")]
    for fd, _ in dead:
        os.close(fd)  # their processes died: the files stay, the flocks are gone
    live, mine = hold_lock(locks, "live"), hold_lock(locks, "mine")
    try:
        removed = remove_orphans(wandb_dir, mine[1])  # "mine": the caller's own id
        assert held(live[1]) and held(mine[1])  # live runs' locks are left alone
    finally:
        release_lock(live)
        release_lock(mine)
    assert {p.name.rsplit("-", 1)[-1] for p in removed} == {"killed", "older", "mine"}
    left = sorted(p.name.rsplit("-", 1)[-1] for p in wandb_dir.glob("offline-*"))
    assert left == ["live", "recorded"]
    assert not any(path.exists() for _, path in dead)  # dead runs' lock files are swept


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """A sweep SIGKILLed while a point trains (after its first checkpoint), then run again.

    Returns (runs_dir, the killed run's folder, whether its ``.wandb`` log was only a header).
    """
    runs = tmp_path_factory.mktemp("runs")
    # WANDB_SERVICE: set by wandb in this process once a test used it; a child that inherits
    # it joins this process's wandb-core, which outlives the kill and later closes the
    # killed run as finished. The sweep must own its service, as from a shell.
    env = {k: v for k, v in os.environ.items() if k not in ("WANDB_MODE", "WANDB_SERVICE")}
    cmd = [sys.executable, "-m", "bench.run", "-m", f"runs_dir={runs}", *WITH_WANDB, *SWEEP]
    with open(runs / "killed.log", "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, env=env, start_new_session=True)
        try:
            checkpoint = wait_for(lambda: next((runs / "wb" / "trained").glob("*/checkpoint.pt")))
            assert not (checkpoint.parent / "outcome.json").exists(), "the kill came too late"
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait()
    (killed,) = (runs / "wb" / "wandb").glob("offline-run-*")
    (log,) = killed.glob("*.wandb")  # what wandb-core wrote: it stops when it sees its parent die
    settled(log)
    empty = log.stat().st_size == 7  # the file header only: its buffer never reached the disk
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    return runs, killed, empty


def settled(path: Path, timeout: float = 60.0) -> None:
    """Return once ``path``'s size has stayed the same over five reads 0.2 s apart: wandb-core
    writes until it notices its parent died, and no event tells us when that is."""
    deadline, sizes = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        sizes = [*sizes[-4:], path.stat().st_size]
        if len(sizes) == 5 and len(set(sizes)) == 1:
            return
        time.sleep(0.2)
    raise AssertionError(f"{path} kept growing for {timeout:.0f} s")


def wait_for(find, timeout: float = 300.0):
    """``find()``'s first value that does not raise StopIteration, polled every 20 ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return find()
        except StopIteration:
            time.sleep(0.02)
    raise AssertionError("the sweep never got to training")


@pytest.mark.slow
def test_a_killed_and_resumed_point_keeps_one_run(killed_and_resumed):
    runs, killed, empty = killed_and_resumed
    by_id = wandb_offline.runs_by_id(runs / "wb" / "wandb")
    points = {p.parent.name for p in (runs / "wb").glob("*/result.json")}
    assert points == POINTS and len(by_id) == len(points) + 1  # one per point, one summary
    killed_id = killed.name.split("-", 3)[-1]
    resumed = by_id[killed_id][-1]  # the folders of one id, oldest first: the re-run is last
    name = wandb_offline.run_info(resumed).display_name
    assert json.loads((runs / "wb" / name / "result.json").read_text())["resumed_from_step"] > 0
    # the killed run's folder is gone when it held nothing to upload, else kept as the
    # first fragment of the same run (wandb sync uploads a run's folders in start order)
    assert by_id[killed_id] == ([resumed] if empty else [killed, resumed])
    for rid, folders in by_id.items():
        assert len(folders) == 1 or rid == killed_id, by_id
        for folder in folders:  # every folder has a run record: wandb sync can read it
            assert wandb_offline.run_info(folder, wait=0).run_id == rid
        assert wandb_offline.exit_code(folders[-1]) == 0
    assert not any(held(p) for p in (runs / "wb" / "wandb" / LOCKS).iterdir())


def held(lock: Path) -> bool:
    """Whether a live process holds ``lock``'s flock."""
    import fcntl

    with open(lock, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
    return False


@pytest.mark.slow
def test_offline_runs_for_every_point_and_the_summary(killed_and_resumed):
    runs, killed, _ = killed_and_resumed
    folders = sorted((runs / "wb" / "wandb").glob("offline-run-*"))
    infos = {wandb_offline.run_info(r).display_name: r for r in folders if r != killed}
    assert POINTS | {"wb-summary"} == set(infos)

    trained = infos["depth_phi1_seed0"]
    info = wandb_offline.run_info(trained)
    assert info.run_group == "wb" and info.job_type == "depth"
    assert {"vgg_tiny", "shapes", "phi=1"} <= set(info.tags)
    config = wandb_offline.config(trained)
    assert config["strategy"]["name"] == "depth" and config["phi"] == 1
    assert config["versions"]["git_commit"] == git_commit()
    summary = wandb_offline.summary(trained)
    assert set(SUMMARY_KEYS) <= set(summary) and summary["status"] == "ok"
    assert {"train/loss", "train/lr", "train/images_per_sec", "eval/top1", "step", "epoch"} <= (
        wandb_offline.history_keys(trained)
    )
    assert not wandb_offline.artifacts(trained, "model")  # checkpoints are logged only when asked
    shared = wandb_offline.summary(infos["width_phi0_seed0"])  # reused baseline still logged
    assert shared["shared"] is True and "top1" in shared

    summary_run = infos["wb-summary"]
    assert wandb_offline.run_info(summary_run).job_type == "summary"
    assert {"figures/top1_vs_macs/_type", "results/_type"} <= wandb_offline.history_keys(
        summary_run
    )
    assert list(summary_run.glob("files/media/images/**/*.png"))
    (artifact,) = wandb_offline.artifacts(summary_run, "results")
    assert artifact.name == "wb"
    sweep = runs / "wb"
    made = [p for d in ("figures", "tables") for p in (sweep / d).rglob("*") if p.is_file()]
    written = {"results.csv"} | {p.relative_to(sweep).as_posix() for p in made}
    assert set(wandb_offline.entries(artifact)) == written
    assert {"figures/top1_vs_macs.png", "figures/top1_vs_macs.pdf", "figures/top1_vs_macs.svg",
            "tables/results_table.md", "tables/results_table.tex"} <= written  # fmt: skip
    _, drawn = chart(summary_run)
    assert sorted(zip(drawn["strategy"], drawn["phi"], strict=True)) == [
        ("depth", 0), ("depth", 1), ("width", 0), ("width", 1)
    ]  # fmt: skip


def test_an_explicit_logger_mode_wins_over_wandb_mode(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "online")
    assert resolve_mode(Logger(mode="disabled")) == "disabled"
    assert resolve_mode(Logger(mode="offline")) == "offline"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert resolve_mode(Logger(mode="online")) == "online"
    assert resolve_mode(Logger()) == "disabled"  # auto follows the environment
    monkeypatch.setenv("WANDB_MODE", "dryrun")
    assert resolve_mode(Logger(mode="auto")) == "offline"
    monkeypatch.delenv("WANDB_MODE")
    assert resolve_mode(Logger()) == "offline"
    monkeypatch.setenv("WANDB_MODE", "sometimes")
    assert resolve_mode(Logger(mode="offline")) == "offline"  # not consulted
    with pytest.raises(UserError, match="WANDB_MODE='sometimes' must be one of"):
        resolve_mode(Logger())


def test_a_wandb_failure_warns_once_and_training_goes_on(compose, tmp_path, monkeypatch, caplog):
    import wandb

    def broken(*args, **kwargs):
        raise RuntimeError("the W&B service is down")

    monkeypatch.setattr(wandb, "init", broken)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    with caplog.at_level(logging.WARNING):
        result = run_point(compose(f"runs_dir={tmp_path}", *WITH_WANDB, "logger.mode=offline",
                                   "logger.log_checkpoints=true"))  # fmt: skip
    assert result["status"] == "ok"
    warnings = [r for r in caplog.records if "W&B logging is off" in r.getMessage()]
    assert len(warnings) == 1 and "service is down" in warnings[0].getMessage()


def test_online_without_network_or_key_falls_back(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("WANDB_API_KEY", "0" * 40)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    with caplog.at_level(logging.WARNING):
        t = Tracker(Logger(mode="online", init_timeout=5), RunSpec(tmp_path, "x", "g", "j"))
        t.log({"a": 1}, step=1)
        t.summary({"b": 2})
        t.log_checkpoint(tmp_path / "missing.pt")
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
    t = Tracker(Logger(mode="offline"), RunSpec(tmp_path, "x", "g", "j"))
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
    t = Tracker(Logger(mode="disabled"), RunSpec(tmp_path, "x", "g", "j"))
    t.log({"a": 1})
    t.log_checkpoint(tmp_path / "x.pt")
    t.finish()
    assert not t.active and not (tmp_path / "wandb").exists()


@pytest.mark.parametrize("env", ["online", "offline"])
def test_disabled_beats_wandb_mode_for_a_point_and_the_summary(env, compose, tmp_path, monkeypatch):
    import socket

    import wandb

    monkeypatch.setenv("WANDB_MODE", env)
    called, connects = [], []
    monkeypatch.setattr(wandb, "init", lambda *a, **k: called.append("init"))
    monkeypatch.setattr(wandb, "setup", lambda *a, **k: called.append("setup"))
    real = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", lambda s, a: connects.append(a) or real(s, a))
    result = run_point(compose(f"runs_dir={tmp_path}", *SMALL, "data.train_size=128",
                               "data.test_size=64", "sweep=quiet"))  # fmt: skip
    log_sweep_summary(Logger(mode="disabled"), tmp_path / "quiet", fake_report(tmp_path / "r"))
    assert result["status"] == "ok"
    assert not list(tmp_path.rglob("wandb")) and not called and not connects
