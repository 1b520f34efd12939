"""Read an offline W&B run's ``.wandb`` file (a LevelDB-style record log of protobufs).

wandb 0.31 no longer ships a Python reader, so tests use this one to check
what an offline run really recorded.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2 as pb

HEADER = 7  # ":W&B" + 2-byte magic + 1-byte version
BLOCK = 32768
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def _chunks(data: bytes) -> Iterator[bytes]:
    pos, pending = HEADER, b""
    while pos + 7 <= len(data):
        room = BLOCK - pos % BLOCK
        if room < 7:
            pos += room
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if length == 0 and kind == 0:  # block padding
            pos += room
            continue
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == FULL:
            yield chunk
        elif kind == FIRST:
            pending = chunk
        elif kind == MIDDLE:
            pending += chunk
        elif kind == LAST:
            yield pending + chunk


def records(run_dir: Path) -> list[pb.Record]:
    """Every record of the offline run in ``run_dir`` (``.../wandb/offline-run-*``)."""
    (path,) = Path(run_dir).glob("run-*.wandb")
    out = []
    for chunk in _chunks(path.read_bytes()):
        rec = pb.Record()
        rec.ParseFromString(chunk)
        out.append(rec)
    return out


def summary(run_dir: Path) -> dict[str, Any]:
    """The run's final summary, decoded."""
    out: dict[str, Any] = {}
    for rec in records(run_dir):
        if rec.WhichOneof("record_type") == "summary":
            for item in rec.summary.update:
                out[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return out


def run_info(run_dir: Path) -> pb.RunRecord:
    """The run record: name, group, job type, tags, config."""
    return next(r.run for r in records(run_dir) if r.WhichOneof("record_type") == "run")


def history_keys(run_dir: Path) -> set[str]:
    """Every metric name logged with ``run.log``."""
    keys = set()
    for rec in records(run_dir):
        if rec.WhichOneof("record_type") == "history":
            keys.update(item.key or "/".join(item.nested_key) for item in rec.history.item)
    return keys
