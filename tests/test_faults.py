"""The fault table: each fault a shared cluster or a shared results folder brings, injected, and
what must hold after it: nothing lost, no foreign code run, one line saying what happened.

    fault                                  what survives
    planted checkpoint (a pickle)          no code runs; the file is set aside; the point ends ok
    truncated checkpoint                   set aside with one line; the point ends ok
    foreign result file naming a module    bench.plot imports nothing from it; figures drawn
    kill mid-epoch                         the rerun resumes mid-epoch from the last checkpoint
    USR2 before a time limit               tests/sweep/test_requeue.py: resumes from that step
    full disk                              the point fails with one line; the previous
                                           checkpoint is kept; the sweep reports it missing
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import results, sweep_of
from helpers.fake_results import write_sweep
from omegaconf import OmegaConf

from bench import store
from bench.plot import main as plot_main
from bench.sweep.finish import Checked, finish
from bench.train.point import run_point


class Planted:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def trained_folder(sweep: Path) -> Path:
    (folder,) = (sweep / "trained").iterdir()
    return folder


@pytest.mark.parametrize("fault", ["planted", "truncated"])
def test_a_bad_checkpoint_in_a_runs_folder_runs_no_code_and_the_point_ends_ok(
    compose, small, fault, caplog
):
    cfg = compose(*small, "strategy=depth", "phi=0")
    assert run_point(cfg)["status"] == "ok"
    folder, marker = trained_folder(sweep_of(cfg)), Path(small[-1].split("=", 1)[1]) / "PWNED"
    checkpoint = folder / "checkpoint.pt"
    if fault == "planted":
        checkpoint.write_bytes(pickle.dumps({"model": Planted(marker)}))
    else:
        checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    (folder / "outcome.json").unlink()  # as if the training had been killed before its end
    (sweep_of(cfg) / "depth_phi0_seed0" / "result.json").unlink()
    result = run_point(cfg)
    assert not marker.exists()
    assert result["status"] == "ok" and result["resumed_from_step"] == 0
    (aside,) = folder.glob("checkpoint.pt.corrupt-*")
    assert any("moved aside" in r.getMessage() and aside.name in r.getMessage()
               for r in caplog.records)  # fmt: skip


def test_an_unreadable_outcome_is_set_aside_and_the_training_runs_again(compose, small):
    cfg = compose(*small, "strategy=depth", "phi=0")
    first = run_point(cfg)
    folder = trained_folder(sweep_of(cfg))
    (folder / "outcome.json").write_text('{"status": "ok", "top1"')  # cut by a crash
    (folder / "checkpoint.pt").unlink()
    other = run_point(compose(*small, "strategy=width", "phi=0"))  # the same training
    assert other["status"] == "ok" and not other["shared"] and other["top1"] == first["top1"]
    assert len(list(folder.glob("outcome.json.corrupt-*"))) == 1


def test_plotting_a_foreign_results_folder_imports_nothing_it_names(tmp_path, monkeypatch,
                                                                    capsys):  # fmt: skip
    sweep = write_sweep(tmp_path / "theirs", strategies=("depth", "width"), phis=(0, 1), seeds=(0,))
    for path in sweep.glob("*/result.json"):
        result = json.loads(path.read_text())
        result["config"]["model"] = {"builder": "evilmod.build"}
        result["point_key"] = "k" + path.parent.name
        path.write_text(json.dumps(result))
        (sweep / "trained" / result["point_key"]).mkdir(parents=True)
        (sweep / "trained" / result["point_key"] / "checkpoint.pt").write_bytes(b"x")
    marker = tmp_path / "RAN"
    (tmp_path / "evilmod.py").write_text(f"open({str(marker)!r}, 'w').close()\ndef build(): 0\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    plot_main([str(sweep), "--formats", "png"])
    assert not marker.exists() and "evilmod" not in sys.modules
    assert (sweep / "figures" / "top1_vs_macs.png").stat().st_size > 0
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "class activation maps" in line]
    assert "evilmod" in line and "--trust-code" in line


@pytest.mark.slow
def test_a_point_killed_mid_epoch_resumes_from_the_step_it_had_reached(tmp_path):
    args = [f"runs_dir={tmp_path}", "sweep=s", "data.train_size=2048", "data.test_size=256",
            "train.batch_size=32", "train.epochs=1", "train.checkpoint_seconds=0.5",
            "logger.mode=disabled", "threads=1", "plot.cam_images=0"]  # fmt: skip
    command = [sys.executable, "-m", "bench.run", *args]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list((tmp_path / "s").glob("trained/*/checkpoint.pt")):
        assert proc.poll() is None and time.time() < deadline, "no checkpoint before the end"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    (r,) = results(tmp_path / "s").values()
    assert r["status"] == "ok"
    assert 0 < r["resumed_from_step"] < r["budget_detail"]["steps_per_epoch"]


def test_a_full_disk_fails_the_point_in_one_line_and_keeps_the_previous_checkpoint(
    compose, small, monkeypatch, capsys
):
    cfg = compose(*small, "strategy=depth", "phi=0", "train.checkpoint_seconds=1e-9")
    saves = []

    def save(obj, path, real=store.atomic_torch_save):
        saves.append(path)
        if len(saves) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(obj, path)

    def write_json(path, obj):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("bench.train.checkpoint.atomic_torch_save", save)
    monkeypatch.setattr("bench.record.atomic_write_json", write_json)
    with pytest.raises(SystemExit):
        run_point(cfg)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert "No space left on device" in line
    assert (trained_folder(sweep_of(cfg)) / "checkpoint.pt").stat().st_size > 0  # the first
    assert not list(sweep_of(cfg).rglob("result.json"))


def test_the_end_of_a_sweep_names_a_point_whose_result_was_never_written(tmp_path, capsys):
    sweep = write_sweep(tmp_path / "s", strategies=("depth",), phis=(0, 1), seeds=(0,))
    config = OmegaConf.create({"logger": {"mode": "disabled"}, "plot": {"formats": ["png"],
                               "cam_images": 0}})  # fmt: skip
    expected = ("depth_phi0_seed0", "depth_phi1_seed0", "depth_phi2_seed0")
    with pytest.raises(SystemExit):
        finish(sweep, config, Checked(points=tuple(sweep / name for name in expected)))
    assert (sweep / "figures" / "top1_vs_macs.png").exists()
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert "1 of 3 points did not finish ok (missing: depth_phi2_seed0)" in line
