"""Read an offline W&B run's ``.wandb`` file (a LevelDB-style record log of protobufs).

wandb 0.31 no longer ships a Python reader, so tests use this one to check
what an offline run really recorded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError
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


def records(run_dir: Path, wait: float = 60.0) -> list[pb.Record]:
    """Every record of the offline run in ``run_dir`` (``.../wandb/offline-run-*``).

    ``run.finish()`` returns before wandb-core has written the file, so this
    waits up to ``wait`` seconds for the run's exit record; a record caught half
    written is read again (a file still corrupt at the deadline raises).
    """
    (path,) = Path(run_dir).glob("run-*.wandb")
    deadline = time.monotonic() + wait
    while True:
        try:
            out = [_record(chunk) for chunk in _chunks(path.read_bytes())]
        except DecodeError:
            if time.monotonic() > deadline:
                raise
            out = []
        if any(r.WhichOneof("record_type") == "exit" for r in out) or time.monotonic() > deadline:
            return out
        time.sleep(0.05)


def _record(chunk: bytes) -> pb.Record:
    rec = pb.Record()
    rec.ParseFromString(chunk)
    return rec


def summary(run_dir: Path) -> dict[str, Any]:
    """The run's final summary, decoded."""
    out: dict[str, Any] = {}
    for rec in records(run_dir):
        if rec.WhichOneof("record_type") == "summary":
            for item in rec.summary.update:
                out[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return out


def run_info(run_dir: Path, wait: float = 60.0) -> pb.RunRecord:
    """The run record: name, group, job type, tags, config."""
    return next(r.run for r in records(run_dir, wait) if r.WhichOneof("record_type") == "run")


def history_keys(run_dir: Path) -> set[str]:
    """Every metric name logged with ``run.log``."""
    keys = set()
    for rec in records(run_dir):
        if rec.WhichOneof("record_type") == "history":
            keys.update(item.key or "/".join(item.nested_key) for item in rec.history.item)
    return keys


def _decode(items: Any, out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Items as a dict; a nested key (a media value's ``path``, ``_wandb.visualize``) nests."""
    out = {} if out is None else out
    for item in items:
        *parents, leaf = [item.key] if item.key else list(item.nested_key)
        node = out
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = json.loads(item.value_json)
    return out


def history(run_dir: Path) -> list[dict[str, Any]]:
    """Every row logged with ``run.log``, decoded (``_step`` included)."""
    return [
        _decode(rec.history.item)
        for rec in records(run_dir)
        if rec.WhichOneof("record_type") == "history"
    ]


def config(run_dir: Path) -> dict[str, Any]:
    """The run's config: the run record's, updated by later config records."""
    out: dict[str, Any] = {}
    for rec in records(run_dir):
        kind = rec.WhichOneof("record_type")
        if kind in ("run", "config"):
            _decode((rec.run.config if kind == "run" else rec.config).update, out)
    return out


def exit_code(run_dir: Path) -> int | None:
    """The exit code the run finished with (None: it never finished, e.g. killed)."""
    codes = [r.exit.exit_code for r in records(run_dir) if r.WhichOneof("record_type") == "exit"]
    return codes[-1] if codes else None


def metrics(run_dir: Path) -> dict[str, str]:
    """``define_metric`` declarations: metric name or glob -> its step metric ("" for none)."""
    out = {}
    for rec in records(run_dir):
        if rec.WhichOneof("record_type") == "metric":
            out[rec.metric.name or rec.metric.glob_name] = rec.metric.step_metric
    return out


def artifacts(run_dir: Path, kind: str | None = None) -> list[pb.ArtifactRecord]:
    """The artifacts the run logged (name, type, metadata, manifest), of type ``kind`` if given.

    W&B stores each logged ``wandb.Table`` as a ``run_table`` artifact of its own.
    """
    found = [r.artifact for r in records(run_dir) if r.WhichOneof("record_type") == "artifact"]
    return [a for a in found if kind is None or a.type == kind]


def entries(artifact: pb.ArtifactRecord) -> dict[str, pb.ArtifactManifestEntry]:
    """An artifact's manifest by entry path (each with digest, size and local_path)."""
    return {e.path: e for e in artifact.manifest.contents}


def md5_b64(path: Path) -> str:
    """A file's digest as W&B manifests write it (base64 of the MD5)."""
    return base64.b64encode(hashlib.md5(Path(path).read_bytes()).digest()).decode()


def runs_by_id(wandb_dir: Path) -> dict[str, list[Path]]:
    """Offline run folders (``offline-run-<time>-<id>``) grouped by run id."""
    out: dict[str, list[Path]] = {}
    for folder in sorted(Path(wandb_dir).glob("offline-run-*")):
        out.setdefault(folder.name.split("-", 3)[-1], []).append(folder)
    return out
