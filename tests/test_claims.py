"""Claims: one owner at a time, told apart beyond host and PID; a dead owner's claim is taken
over, a live one never (whatever the clocks say), and an owner that lost its claim stops."""

import json
import logging
import os
import subprocess
import sys
import time

import pytest

from bench import claims
from bench.claims import Claim, ClaimLost, machine, reuse_or_claim, start_ticks
from bench.errors import UserError
from bench.hardware.distributed import Dist


def plant(folder, **owner):
    """A claim.json as another worker would have written it."""
    claim = {**machine(), "pid": os.getpid(), "start_ticks": start_ticks(os.getpid()),
             "token": "theirs", "beat": 0, **owner}  # fmt: skip
    (folder / "claim.json").write_text(json.dumps(claim))


def dead_pid():
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


def test_second_claim_waits_while_the_first_is_live(tmp_path):
    a, b = Claim(tmp_path), Claim(tmp_path)  # same process, as a second worker thread would be
    assert a.try_acquire()
    try:
        assert not b.try_acquire()
        assert a.ours(a.holder()) and not b.ours(a.holder())
    finally:
        a.release()
    assert not (tmp_path / "claim.json").exists()
    assert b.try_acquire()
    b.release()


def test_claim_of_a_dead_process_is_taken_over(tmp_path):
    plant(tmp_path, pid=dead_pid())
    c = Claim(tmp_path)
    assert c.try_acquire() and c.ours(c.holder())
    c.release()


def test_a_reused_pid_does_not_keep_a_dead_owners_claim(tmp_path):
    plant(tmp_path, start_ticks=start_ticks(os.getpid()) - 1)  # our PID, another process
    c = Claim(tmp_path)
    assert c.try_acquire()
    c.release()


class FakeClock:
    """The ``time`` module as :mod:`bench.claims` sees it, with a monotonic clock that
    only the test moves: staleness is decided by the clock, never by how fast this machine is."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name: str):
        return getattr(time, name)


def until(condition, seconds: float = 60.0) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("other", [{"pid_ns": "pid:[1]"}, {"boot": "another-boot"},
                                   {"host": "elsewhere"}])  # fmt: skip
def test_an_owner_elsewhere_lives_while_its_heartbeat_counts(tmp_path, other, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(claims, "time", clock)
    plant(tmp_path, pid=dead_pid(), **other)  # its PID means nothing here
    old = 0  # a skewed clock: the file's mtime and start time say 1970
    os.utime(tmp_path / "claim.json", (old, old))
    c = Claim(tmp_path, stale_seconds=60)
    assert not c.try_acquire()  # first look: live until its counter stalls
    clock.now += 59
    assert not c.try_acquire()  # the same beat for less than stale_seconds: still live
    plant(tmp_path, pid=dead_pid(), beat=1, **other)
    os.utime(tmp_path / "claim.json", (old, old))
    clock.now += 59
    assert not c.try_acquire()  # it beat since: live, whatever the mtime says
    clock.now += 59
    assert not c.try_acquire()  # 59 s since that beat was seen
    clock.now += 2
    assert c.try_acquire()  # no beat for longer than stale_seconds: taken over
    c.release()


def test_heartbeat_advances_the_claims_own_counter(tmp_path):
    c = Claim(tmp_path, heartbeat_seconds=0.05)
    assert c.try_acquire()
    try:
        assert until(lambda: (c.holder() or {}).get("beat", 0) >= 2)
        assert c.ours(c.holder())
    finally:
        c.release()


def test_an_owner_that_lost_its_claim_stops_and_leaves_the_new_one(tmp_path):
    a = Claim(tmp_path, heartbeat_seconds=0.05)
    assert a.try_acquire()
    a.assert_holds()
    plant(tmp_path, token="new-owner")  # a worker that took over (a's heartbeat looked dead)
    with pytest.raises(ClaimLost, match="another worker .* took over"):
        a.assert_holds()
    time.sleep(0.2)
    a.release()
    assert json.loads((tmp_path / "claim.json").read_text())["token"] == "new-owner"


def test_a_point_that_lost_its_claim_writes_no_checkpoint_outcome_or_result(
    compose, tmp_path, monkeypatch, capsys
):
    from bench.train.point import run_point

    def lost(self):
        raise ClaimLost(f"{self.folder}: another worker took over this training")

    monkeypatch.setattr(Claim, "assert_holds", lost)
    with pytest.raises(SystemExit):
        run_point(compose(f"runs_dir={tmp_path}", "sweep=s", "data.train_size=128",
                          "data.test_size=64", "train.batch_size=64", "train.epochs=1",
                          "logger.mode=disabled"))  # fmt: skip
    assert "took over this training" in capsys.readouterr().err
    written = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    assert not written & {"checkpoint.pt", "outcome.json", "result.json"}


def test_a_wait_for_a_live_owner_is_bounded_and_names_it(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(claims.time, "sleep", lambda s: None)
    plant(tmp_path)  # this live process, another claim
    caplog.set_level(logging.INFO)
    with pytest.raises(UserError, match=r"gave up after 0.05 s waiting for .* pid \d+"):
        reuse_or_claim(tmp_path, tmp_path / "outcome.json", lambda g: 1, Dist(), "[p]", 0.05)
    (line,) = [r.getMessage() for r in caplog.records if "waiting for" in r.getMessage()]
    assert f"pid {os.getpid()}" in line and "heartbeat stops" in line
