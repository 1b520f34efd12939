"""Claims: one owner at a time, and a dead owner's claim is taken over."""

import json
import os
import subprocess
import sys
import time

from bench.sweep.claims import Claim


def test_second_claim_waits_while_the_first_is_live(tmp_path):
    a, b = Claim(tmp_path), Claim(tmp_path)
    b.owner = {**b.owner, "pid": os.getpid()}  # same process, as a second worker thread would be
    assert a.try_acquire()
    try:
        assert not b.try_acquire()
        assert a.holder() == a.owner
    finally:
        a.release()
    assert not (tmp_path / "claim.json").exists()
    assert b.try_acquire()
    b.release()


def test_claim_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    c = Claim(tmp_path)
    (tmp_path / "claim.json").write_text(
        json.dumps({"host": c.owner["host"], "pid": pid, "started": 0})
    )
    assert c.try_acquire()
    assert c.holder() == c.owner
    c.release()


def test_claim_from_another_host_is_stale_after_its_heartbeat_stops(tmp_path):
    c = Claim(tmp_path, stale_seconds=0.5)
    (tmp_path / "claim.json").write_text(json.dumps({"host": "elsewhere", "pid": 1}))
    assert not c.try_acquire()  # fresh heartbeat: live
    old = time.time() - 5
    os.utime(tmp_path / "claim.json", (old, old))
    assert c.try_acquire()
    c.release()


def test_heartbeat_keeps_the_claim_fresh(tmp_path):
    c = Claim(tmp_path, heartbeat_seconds=0.05)
    assert c.try_acquire()
    try:
        old = time.time() - 100
        os.utime(c.path, (old, old))
        time.sleep(0.3)
        assert time.time() - c.path.stat().st_mtime < 5
    finally:
        c.release()
