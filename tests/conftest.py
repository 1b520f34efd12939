"""Shared fixtures: composed and validated configs, small settings, command lines, data trees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from bench.analysis import frontier_fits
from bench.config.checks import check_section
from bench.config.compose import compose_config
from bench.config.validate import validate
from bench.schema import Run
from bench.sweep.zygote import release

REPO = Path(__file__).resolve().parent.parent
SHARED_CIFAR = REPO.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"

# A point in a second or two on 2 CPU cores (the default tiny model on a small shapes task).
SMALL = (
    "data.train_size=640",
    "data.test_size=256",
    "train.batch_size=64",
    "train.eval_batch_size=256",
    "train.epochs=1",
    "logger.mode=disabled",
    "plot.cam_images=0",  # test_cam.py and test_finish.py's killed multirun draw the maps
    "plot.formats=[png]",  # tests/report/test_build.py writes every format; one is a third
    "eval.test_scales=[1]",  # tests/train/test_point.py's first test tests the other sides
    "eval.inference_seconds=0",  # the warm-ups and one timed pass: test_point's first times more
)

os.environ.setdefault("WANDB_SILENT", "true")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Test processes share the cores (pytest -n): one thread each, in this process and in the
    # sweeps it starts. Two threads on a busy core wait on each other for most of a step.
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with slow tests first: pytest -n hands out whole files in this order, so the
    long ones start at once and the short ones fill in around them at the end."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture
def compose() -> Callable[..., Any]:
    """Compose the real ``conf/`` with overrides, as a job of ``bench.run`` would see it."""
    return lambda *overrides: compose_config(list(overrides))


@pytest.fixture
def config() -> Callable[..., Run]:
    """The validated config of the real ``conf/`` with overrides (what the pipeline reads)."""
    return lambda *overrides: validate(compose_config(list(overrides)))


@pytest.fixture(scope="module")
def few_resamples() -> Iterator[None]:
    """Frontier fits bootstrap 20 resamples, not 200: for reports tested for what they draw
    and combine (tests/analysis/test_frontier_fits.py tests the bootstrap itself)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frontier_fits, "BOOTSTRAP", 20)
        yield


@pytest.fixture
def small(tmp_path: Path) -> tuple[str, ...]:
    """SMALL plus a private runs_dir: a real point trains in a second or two."""
    return (*SMALL, f"runs_dir={tmp_path / 'runs'}")


def bench(
    module: str, *args: str, timeout: float = 600, **kwargs: Any
) -> subprocess.CompletedProcess:
    """``python -m bench.<module> ARGS`` in a fresh process; output captured as text."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0", **kwargs.pop("env", {})}
    return subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kwargs,
    )


HEAVY = ("torch", "timm", "torchvision")  # what checking a config must not load


def heavy_imports(code: str, cwd: Path) -> tuple[str, list[str]]:
    """Run ``code`` in a fresh interpreter in ``cwd``: (what it printed, which of
    :data:`HEAVY` it had loaded by the end)."""
    tail = f"\nimport json, sys\nprint(json.dumps(sorted(set({HEAVY!r}) & sys.modules.keys())))"
    proc = subprocess.run([sys.executable, "-c", code + tail], capture_output=True, text=True,
                          timeout=300, cwd=cwd)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    *printed, loaded = proc.stdout.strip().splitlines()
    return "\n".join(printed), json.loads(loaded)


def sweep_of(cfg: Any) -> Path:
    """The sweep folder of a composed config: ``<runs_dir>/<sweep>``."""
    return Path(str(cfg.runs_dir)) / str(cfg.sweep)


def results(sweep_dir: Path) -> dict[str, dict[str, Any]]:
    """Every point's result.json under a sweep folder, by point folder name."""
    return {p.parent.name: json.loads(p.read_text()) for p in Path(sweep_dir).glob("*/result.json")}


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    """The command's single ``error:`` line; fails the test on a traceback or several errors."""
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text, text[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-3000:]
    return errors[0]


def data_config(node: Mapping[str, Any]) -> Any:
    """A ``data`` section checked by its kind's schema, as validation would give it."""
    from bench.data import data_schema

    return check_section(data_schema(node), dict(node), "data")


CLASSES = ["ant", "bee", "cow"]


def colour(label: int) -> tuple[int, int, int]:
    """Class ``label``'s solid colour in :func:`write_tree`."""
    return (40 + 80 * label, 100, 200 - 60 * label)


def write_tree(
    root: Path, test_split: str = "val", per_class: tuple[int, int] = (3, 2), size=(40, 30)
) -> Path:
    """A tiny class-folder tree: class i's images are filled with colour(i); PNG and JPEG mixed."""
    for split, count in (("train", per_class[0]), (test_split, per_class[1])):
        for label, name in enumerate(CLASSES):
            folder = Path(root) / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                ext = "png" if i % 2 == 0 else "JPEG"
                Image.new("RGB", size, colour(label)).save(folder / f"{i}.{ext}")
    return Path(root)


NOT_LEARNED = ("depth", 2, 0)  # (strategy, phi, seed) of flagged_sweep's point at chance
OFF_TARGET = ("width", 1, 0)  # and of its point off its MAC target


@pytest.fixture(scope="module")
def zygote_released() -> Iterator[None]:
    """The jobs of one test file share this process's zygote; it goes with the file, and
    orphans of later tests' sweeps are no longer this process's to reap."""
    yield
    release()


@pytest.fixture
def job(tmp_path: Path, zygote_released: None) -> Iterator[Path]:
    """This process as job 3 of a multirun, logging under tmp_path (Hydra's state restored)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import open_dict

    cfg = compose_config([f"runs_dir={tmp_path}"], return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.output_dir = str(tmp_path)
        cfg.hydra.job.name = "job"
        cfg.hydra.mode = RunMode.MULTIRUN
        cfg.hydra.job.num = 3
    HydraConfig.instance().set_config(cfg)
    yield tmp_path
    HydraConfig.instance().cfg = None


@pytest.fixture(scope="module")
def flagged_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fake sweep with every flag: two strategies, phi 0-3; phi 3 still improving (the
    fakes' rule), one seed of depth at phi 2 not above chance, one of width at phi 1 off its
    MAC target."""
    from helpers.fake_results import write_sweep

    extra = {NOT_LEARNED: {"above_chance": False}, OFF_TARGET: {"within_tolerance": False}}
    return write_sweep(tmp_path_factory.mktemp("runs") / "s", strategies=("depth", "width"),
                       extra=extra, diverged=(), failed=(), pending=())  # fmt: skip
