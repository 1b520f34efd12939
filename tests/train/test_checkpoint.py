"""bench.train.checkpoint and the loop's checkpoints: on time between steps, on request, data
only, and a bad file set aside so the point trains from scratch."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from test_loop import Killed, net, no_times, trainer

from bench.train import stop


def same_weights(a, b) -> bool:
    sa, sb = a.model.state_dict(), b.model.state_dict()
    return all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture
def whole(config, tmp_path):
    """The same point trained without interruption (4 epochs of 4 steps)."""
    run = trainer(config, tmp_path / "whole", loss_check_every=1)
    run.outcome = run.fit()
    return run


def test_a_checkpoint_on_time_lets_a_point_killed_mid_epoch_resume_there(config, tmp_path, whole):
    first = trainer(config, tmp_path / "split", loss_check_every=1, checkpoint_every=100,
                    checkpoint_seconds=1e-9)  # fmt: skip

    def die_at_step_7(data, step):
        if step == 7:
            raise Killed

    first.setup.on_log = die_at_step_7
    with pytest.raises(Killed):
        first.fit()
    second = trainer(config, tmp_path / "split", loss_check_every=1, checkpoint_every=100)
    out = second.fit()
    assert out.resumed_from_step == 6  # the checkpoint between steps 6 and 7, mid-epoch 2
    assert out.resumed_from_step % second.budget.steps_per_epoch > 0
    assert [no_times(h) for h in out.history] == [no_times(h) for h in whole.outcome.history]
    assert same_weights(second, whole)


def test_a_stop_request_checkpoints_and_stops_and_the_rerun_resumes_there(config, tmp_path, whole):
    first = trainer(config, tmp_path / "split", loss_check_every=1)

    def request_at_step_6(data, step):
        if step == 6:
            stop.requested.set()

    first.setup.on_log = request_at_step_6
    try:
        with pytest.raises(stop.Stopped) as stopped:
            first.fit()
    finally:
        stop.requested.clear()
    assert stopped.value.step == 6
    second = trainer(config, tmp_path / "split", loss_check_every=1)
    out = second.fit()
    assert out.resumed_from_step == 6 and out.status == "ok"
    assert same_weights(second, whole)


class Planted:
    """A pickle that runs a command when loaded the old way (weights_only=False)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def planted(path, marker) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({"model": Planted(marker)}))


def truncated(path, config, tmp_path) -> None:
    donor = trainer(config, tmp_path / "donor")
    donor.fit()
    data = (tmp_path / "donor" / "checkpoint.pt").read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: len(data) // 2])


def other_network(path, config, tmp_path) -> None:
    wider = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2)
    )
    donor = trainer(config, tmp_path / "donor", model=wider)
    donor.fit()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp_path / "donor" / "checkpoint.pt", path)


@pytest.mark.parametrize("kind", ["planted", "truncated", "other network"])
def test_a_bad_checkpoint_is_set_aside_and_the_point_trains_from_scratch(config, tmp_path, caplog,
                                                                         kind):  # fmt: skip
    path, marker = tmp_path / "run" / "checkpoint.pt", tmp_path / "PWNED"
    if kind == "planted":
        planted(path, marker)
    elif kind == "truncated":
        truncated(path, config, tmp_path)
    else:
        other_network(path, config, tmp_path)
    run = trainer(config, tmp_path / "run")
    out = run.fit()
    assert not marker.exists()  # nothing in the file ran
    assert out.status == "ok" and out.resumed_from_step == 0 and out.steps == 16
    (aside,) = (tmp_path / "run").glob("checkpoint.pt.corrupt-*")
    assert aside.stat().st_size > 0
    (line,) = [r.getMessage() for r in caplog.records if "moved aside" in r.getMessage()]
    assert aside.name in line and "training from scratch" in line
    assert torch.load(path, weights_only=True)["step"] == 16  # a fresh, loadable checkpoint


def test_a_checkpoint_is_data_only(config, tmp_path):
    trainer(config, tmp_path).fit()
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert saved["step"] == 16 and set(saved) >= {"model", "optimizer", "scheduler", "history"}
    assert net().load_state_dict(saved["model"]) is not None


def test_a_checkpoint_of_other_versions_is_resumed_and_its_versions_kept(config, tmp_path):
    from bench.train.provenance import version_note

    trainer(config, tmp_path).fit()
    path = tmp_path / "checkpoint.pt"
    saved = torch.load(path, weights_only=True)
    assert trainer(config, tmp_path).fit().resumed_versions == saved["versions"]
    torch.save({**saved, "versions": {**saved["versions"], "torch": "2.0.1"}}, path)
    out = trainer(config, tmp_path).fit()
    assert out.resumed_from_step == 16 and out.resumed_versions["torch"] == "2.0.1"
    note = version_note(out.resumed_versions, "resumed from a checkpoint")
    assert note.startswith("resumed from a checkpoint made with torch 2.0.1 (this run: ")
    assert version_note(saved["versions"], "resumed from a checkpoint") is None
