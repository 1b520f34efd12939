"""The results store: where a sweep's files live, and the one way they are written.

    runs/<sweep>/sweep.json                  what was asked (written once per multirun)
    runs/<sweep>/<point>/result.json         one point: bench.record.PointResult
    runs/<sweep>/trained/<key>/              a training shared by identical points:
        claim.json  checkpoint.pt  outcome.json

Every file a reader may see is written to a temporary name in the same
folder and renamed into place, so a reader (or a resumed sweep) sees either
the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

POINT_FOLDER = "{strategy}_phi{phi:g}_seed{seed}"  # a point's folder name, defined once
NOT_POINTS = frozenset({"trained", "wandb", "figures", "tables", "combined", "logs"})
_POINT_RE = re.compile(
    "^"
    + re.escape(POINT_FOLDER)
    .replace(r"\{strategy\}", ".+")
    .replace(r"\{phi:g\}", r"-?[0-9.]+(?:e[+-]?\d+)?")
    .replace(r"\{seed\}", r"\d+")
    + "$"
)


def point_name(strategy: str, phi: float, seed: int) -> str:
    """A point's folder: ``depth_phi1_seed0`` (phi printed as the shortest number, 1.5, -1)."""
    return POINT_FOLDER.format(strategy=strategy, phi=float(phi), seed=int(seed))


def is_point_folder(name: str) -> bool:
    """Whether a sweep's sub-folder is named like a point (it may not hold a result yet)."""
    return name not in NOT_POINTS and bool(_POINT_RE.match(name))


@dataclass(frozen=True)
class PointPaths:
    """Every path one point reads or writes."""

    sweep_dir: Path
    name: str
    key: str | None = None

    @property
    def dir(self) -> Path:
        """The point's own folder (Hydra's job folder in a sweep)."""
        return self.sweep_dir / self.name

    @property
    def result(self) -> Path:
        """The point's result.json."""
        return self.dir / "result.json"

    @property
    def trained(self) -> Path:
        """The training folder shared by every point with this training key."""
        if self.key is None:
            raise ValueError("the training key is not known yet")
        return self.sweep_dir / "trained" / self.key

    @property
    def checkpoint(self) -> Path:
        """The shared training's checkpoint."""
        return self.trained / "checkpoint.pt"

    @property
    def outcome(self) -> Path:
        """What the shared training produced, once it finished."""
        return self.trained / "outcome.json"


def expand_runs_dir(runs_dir: str | Path) -> str:
    """``runs_dir`` with ``~`` and ``$VARS`` expanded: the one expansion that results, figures
    and Hydra's own folders (the ``${expand:...}`` resolver of ``conf/config.yaml``) share."""
    return os.path.expandvars(os.path.expanduser(str(runs_dir)))


def sweep_dir(runs_dir: str | Path, sweep: str) -> Path:
    """A sweep's folder: ``<runs_dir>/<sweep>``."""
    return Path(expand_runs_dir(runs_dir)) / sweep


def point_paths(
    runs_dir: str | Path, sweep: str, strategy: str, phi: float, seed: int
) -> PointPaths:
    """The paths of the point (strategy, phi, seed) of ``runs_dir/sweep``."""
    return PointPaths(sweep_dir(runs_dir, sweep), point_name(strategy, phi, seed))


# ----------------------------------------------------------------------------- atomic files
def _readable(tmp: str) -> None:
    """Give a temp file the permissions a plain ``open`` would (mkstemp makes them 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)


def atomic_write(path: Path, write: Callable[[IO[bytes]], Any]) -> None:
    """Write ``path`` atomically: ``write(file)`` into a temp file beside it, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _readable(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` to ``path`` atomically."""
    import torch

    atomic_write(path, lambda f: torch.save(obj, f))


def set_aside(path: Path) -> Path:
    """Rename a bad file to ``<name>.corrupt-<time>`` beside it (kept for a look, never read)."""
    path = Path(path)
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, aside)
    return aside


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete the temporary files a killed writer left in ``folder`` (call it as the folder's
    only writer: a point's own folder, or a training folder whose claim is held)."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def read_json(path: Path) -> Any:
    """Read a JSON file written by :func:`atomic_write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_json_or_none(path: Path) -> Any:
    """A JSON file's content, or None when it is absent or unreadable (being replaced)."""
    try:
        return read_json(path)
    except (FileNotFoundError, json.JSONDecodeError):
        return None
