"""The data layer on generated fixtures: shapes, CIFAR batches and class-folder trees."""

from __future__ import annotations

import hashlib
import logging
import pickle
import subprocess
import sys
import urllib.error

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import CLASSES, colour, data_config, write_tree
from PIL import Image
from torchvision.transforms import PILToTensor

from bench.data import Data, ImageSet, StreamSet, decoded, num_classes, shapes, shapes_classes
from bench.data import load_data as load_config
from bench.errors import UserError

SMALL_SHAPES = {
    "name": "shapes",
    "kind": "shapes",
    "num_classes": 10,
    "resolution": 32,
    "native_resolution": 96,
    "train_size": 300,
    "test_size": 200,
    "seed": 0,
    "cache_dir": None,
}


def load_data(node: dict) -> Data:
    """A data node checked by its kind's schema, then loaded, as a point does."""
    return load_config(data_config(node))


def digest(*tensors: torch.Tensor) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()


# -- shapes ---------------------------------------------------------------------------------
def test_shapes_tensors_labels_and_balance():
    data = load_data(SMALL_SHAPES)
    assert isinstance(data, Data) and data.num_classes == 10 and data.skipped == 0
    assert len(set(data.classes)) == 10
    for split, n in ((data.train, 300), (data.test, 200)):
        assert isinstance(split, ImageSet)
        assert split.images.shape == (n, 3, 96, 96) and split.images.dtype == torch.uint8
        assert split.images.is_contiguous() and split.images.device.type == "cpu"
        assert split.labels.shape == (n,) and split.labels.dtype == torch.int64
        counts = torch.bincount(split.labels, minlength=10)
        assert counts.min() >= n // 10 and counts.max() <= n // 10 + 1
    assert int(data.train.images.float().std()) > 20  # not blank


def test_shapes_disk_cache_is_written_once_and_read_back(tmp_path, monkeypatch):
    cfg = {**SMALL_SHAPES, "cache_dir": str(tmp_path / "shapes")}
    first = load_data(cfg)
    files = list((tmp_path / "shapes").glob("shapes-*.pt"))
    assert len(files) == 1 and not list((tmp_path / "shapes").glob("*.tmp"))
    shapes._cached.cache_clear()

    def no_generation(*args):
        raise AssertionError("generated although the disk cache holds the splits")

    monkeypatch.setattr(shapes, "_generate", no_generation)
    again = load_data(cfg)
    assert torch.equal(again.train.images, first.train.images)
    assert torch.equal(again.test.labels, first.test.labels)
    shapes._cached.cache_clear()


def test_shapes_is_deterministic_across_processes():
    first = load_data(SMALL_SHAPES)
    shapes._cached.cache_clear()
    again = load_data(SMALL_SHAPES)
    assert again.train.images is not first.train.images
    here = digest(again.train.images, again.train.labels, again.test.images, again.test.labels)
    assert here == digest(
        first.train.images, first.train.labels, first.test.images, first.test.labels
    )
    code = (  # a fresh process, and one thread instead of several
        "import hashlib, torch\n"
        "torch.set_num_threads(1)\n"
        "from bench.data import load_data, data_schema\n"
        "from bench.config.checks import check_section\n"
        f"node = {SMALL_SHAPES!r}\n"
        "d = load_data(check_section(data_schema(node), node, 'data'))\n"
        "h = hashlib.sha256()\n"
        "for t in (d.train.images, d.train.labels, d.test.images, d.test.labels):\n"
        "    h.update(t.contiguous().numpy().tobytes())\n"
        "print(h.hexdigest())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == here


def test_shapes_splits_and_seeds_differ():
    data = load_data(SMALL_SHAPES)
    train = {digest(x) for x in data.train.images}
    assert not train & {digest(x) for x in data.test.images}
    other = load_data({**SMALL_SHAPES, "seed": 1})
    assert not torch.equal(other.train.images, data.train.images)


@pytest.mark.parametrize(
    "override", [{"num_classes": 99}, {"train_size": 0}, {"native_resolution": 8}, {"seed": "x"}]
)
def test_shapes_bad_config_is_a_user_error(override):
    with pytest.raises(UserError, match=f"data.{next(iter(override))}"):
        load_data({**SMALL_SHAPES, **override})


def orientation(images: torch.Tensor, size: int) -> torch.Tensor:
    """log(energy of vertical / horizontal derivatives) per image, after resizing to ``size``."""
    x = F.interpolate(images.float(), size=size, mode="bilinear", antialias=True)
    x = x.round().mean(1)  # what a uint8 copy at that size keeps, in grey
    dy = (x[:, 1:, :] - x[:, :-1, :]).pow(2).mean((1, 2))
    dx = (x[:, :, 1:] - x[:, :, :-1]).pow(2).mean((1, 2))
    return (dy / dx).log()


def separation(images: torch.Tensor, labels: torch.Tensor, a: int, b: int, size: int) -> float:
    """Effect size (difference of means over pooled std) of the orientation statistic."""
    sa = orientation(images[labels == a], size)
    sb = orientation(images[labels == b], size)
    pooled = ((sa.var() + sb.var()) / 2).sqrt()
    return float((sa.mean() - sb.mean()).abs() / pooled)


def test_the_fine_factor_survives_downsampling_more_with_every_side_and_the_mid_one_always():
    """Pairs of classes that differ only in their fine grating separate more at every larger
    side from 32 to 80 px, and already partly at 40 px (gratings span periods from intact to
    gone at the baseline's side, so resolution pays smoothly, not all or nothing); the stripes
    separate at 32 px.

    If the graded design broke (one grating period, a range too narrow, clipping that leaks
    the grating into low frequencies), the steps would flatten or jump.
    """
    data = load_data({**SMALL_SHAPES, "train_size": 2000, "test_size": 10})
    x, y = data.train.images, data.train.labels
    fine_pairs = [
        (i, j)
        for i in range(10)
        for j in range(i + 1, 10)
        if shapes_classes.CLASSES[i][:2] == shapes_classes.CLASSES[j][:2]
    ]
    assert len(fine_pairs) == 3
    mean = {
        size: sum(separation(x, y, a, b, size) for a, b in fine_pairs) / 3
        for size in (32, 40, 56, 80)
    }  # measured: about 1.2, 1.7, 2.8 and 4.7
    assert mean[32] < mean[40] < mean[56] < mean[80], mean
    assert mean[40] > 1.0, mean  # partly legible at the baseline's side
    assert mean[80] > 2 * mean[40], mean  # and much more so at twice the side
    mid_pair = (0, 1)  # discs with horizontal vs vertical stripes, the same grating
    assert separation(x, y, *mid_pair, 32) > 2.0


# -- cifar ----------------------------------------------------------------------------------
def write_fake_cifar10(root, per_batch: int = 4) -> None:
    """torchvision's pickle format: data [N, 3072] uint8 (R, G, B planes), labels list."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"]
    for b, name in enumerate([*names, "test_batch"]):
        data = np.zeros((per_batch, 3, 32, 32), dtype=np.uint8)
        data[:, 0] = 200  # red plane
        data[:, 2] = np.arange(per_batch, dtype=np.uint8)[:, None, None] + 10 * b
        batch = {
            "data": data.reshape(per_batch, -1),
            "labels": [(b + i) % 10 for i in range(per_batch)],
        }
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)


def cifar(kind, root, **fields):
    node = {"name": kind, "kind": kind, "resolution": 32, "root": str(root), "download": False}
    return {**node, **fields}


@pytest.fixture
def no_md5(monkeypatch):
    """The fake batches cannot match torchvision's md5 sums of the real files."""
    import torchvision.datasets.cifar as tv_cifar

    monkeypatch.setattr(tv_cifar, "check_integrity", lambda *args, **kwargs: True)


def test_cifar10_from_torchvision_batches(tmp_path, no_md5):
    write_fake_cifar10(tmp_path)
    data = load_data(cifar("cifar10", tmp_path, num_classes=10))
    assert isinstance(data.train, ImageSet) and data.num_classes == 10
    assert data.train.images.shape == (20, 3, 32, 32) and data.test.images.shape == (4, 3, 32, 32)
    assert data.train.images.dtype == torch.uint8 and data.train.images.is_contiguous()
    assert data.train.labels.dtype == torch.int64
    assert data.train.labels[:4].tolist() == [0, 1, 2, 3]
    assert (data.train.images[:, 0] == 200).all() and (data.train.images[:, 1] == 0).all()
    assert data.test.images[3, 2].unique().tolist() == [53]  # image 3 of batch 5: blue plane
    assert data.classes == [f"class{i}" for i in range(10)]
    assert "20 train / 4 test" in data.description


@pytest.mark.parametrize(
    "kind,folder", [("cifar10", "cifar-10-batches-py"), ("cifar100", "cifar-100-python")]
)
def test_cifar_absent_offline_says_where_to_put_it(tmp_path, kind, folder):
    with pytest.raises(UserError) as err:
        load_data(cifar(kind, tmp_path / "nowhere"))
    message = str(err.value)
    assert folder in message and "data.download=true" in message and "\n" not in message


def test_cifar_failed_download_is_a_user_error(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as tv_cifar

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(tv_cifar, "download_and_extract_archive", offline)
    with pytest.raises(UserError, match="could not download CIFAR-10 .*name resolution"):
        load_data(cifar("cifar10", tmp_path, download=True))


def test_cifar_wrong_num_classes(tmp_path):
    with pytest.raises(UserError, match="data: num_classes=10 but CIFAR-100 has 100 classes"):
        load_data(cifar("cifar100", tmp_path, num_classes=10))


# -- imagefolder ----------------------------------------------------------------------------
def tree_cfg(root, tmp_path, **overrides):
    cfg = {
        "name": "tiny-tree",
        "kind": "imagefolder",
        "path": None if root is None else str(root),
        "num_classes": None,
        "resolution": 32,
        "decode_size": None,
        "in_memory": "auto",
        "memory_limit_gb": 4,
        "workers": 0,
        "cache_dir": str(tmp_path / "cache"),
    }
    return {**cfg, **overrides}


@pytest.fixture(autouse=True)
def fresh_memory_cache():
    decoded.clear_memory_cache()
    yield
    decoded.clear_memory_cache()


def labels_from_colour(images: torch.Tensor) -> list[int]:
    red = images[:, 0].float().mean((1, 2))
    return [round((float(r) - 40) / 80) for r in red]


@pytest.mark.parametrize("test_split", ["val", "test"])
def test_imagefolder_in_memory(tmp_path, test_split):
    root = tmp_path / "tree"
    write_tree(root, test_split)
    cfg = tree_cfg(root, tmp_path, workers=2 if test_split == "val" else 0)
    data = load_data(cfg)
    assert isinstance(data.train, ImageSet) and isinstance(data.test, ImageSet)
    assert data.classes == CLASSES and data.num_classes == 3 and data.skipped == 0
    assert num_classes(data_config(cfg)) == 3
    assert data.train.images.shape == (9, 3, 30, 30)  # shorter side of the first image
    assert data.test.images.shape == (6, 3, 30, 30) and data.train.images.dtype == torch.uint8
    for split in (data.train, data.test):
        assert split.labels.dtype == torch.int64
        assert labels_from_colour(split.images) == split.labels.tolist()
    assert data.train.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert f"9 train / 6 {test_split}" in data.description


def test_imagefolder_decode_size_resizes_and_crops(tmp_path):
    root = tmp_path / "tree"
    write_tree(root, size=(60, 24))
    data = load_data(tree_cfg(root, tmp_path, decode_size=12))
    assert data.train.images.shape[1:] == (3, 12, 12)
    assert labels_from_colour(data.train.images) == data.train.labels.tolist()


def test_imagefolder_decode_keeps_detail_centred(tmp_path):
    image = Image.new("RGB", (64, 32), (0, 0, 0))
    image.paste((255, 255, 255), (8, 0, 56, 32))  # white middle, black sides
    image.save(tmp_path / "wide.png")
    x = decoded.decode_image(str(tmp_path / "wide.png"), 16)
    assert x.shape == (3, 16, 16) and x.dtype == torch.uint8
    assert x.min() == 255  # the centre crop of the shorter-side resize is all white


@pytest.mark.parametrize(
    "path,match",
    [
        (None, "data.path is not set"),
        ("missing", "is not a folder"),
        ("no-train", "has no train/ folder"),
        ("no-val", "has no val/ or test/ folder"),
    ],
)
def test_imagefolder_bad_path(tmp_path, path, match):
    (tmp_path / "no-train" / "val" / "ant").mkdir(parents=True)
    (tmp_path / "no-val" / "train" / "ant").mkdir(parents=True)
    cfg = tree_cfg(None if path is None else tmp_path / path, tmp_path)
    with pytest.raises(UserError, match=match):
        load_data(cfg)


def test_imagefolder_empty_class_folder_is_named(tmp_path):
    root = tmp_path / "tree"
    write_tree(root)
    for f in (root / "val" / "bee").iterdir():
        f.unlink()
    (root / "val" / "bee" / "notes.txt").write_text("not an image")
    with pytest.raises(UserError) as err:
        load_data(tree_cfg(root, tmp_path))
    assert str(root / "val" / "bee") in str(err.value) and ".jpg" in str(err.value)


def test_imagefolder_class_lists_and_count_must_match(tmp_path):
    root = tmp_path / "tree"
    write_tree(root)
    with pytest.raises(UserError, match="data.num_classes=5 .* 3 class folders"):
        load_data(tree_cfg(root, tmp_path, num_classes=5))
    (root / "val" / "dog").mkdir()
    Image.new("RGB", (8, 8)).save(root / "val" / "dog" / "0.png")
    with pytest.raises(UserError, match=r"same class folders.*only in val/: \['dog'\]"):
        load_data(tree_cfg(root, tmp_path))


def corrupt(root) -> list[str]:
    """Two unreadable files: garbage with an image name, and a truncated JPEG."""
    bad = root / "train" / "bee" / "garbage.jpg"
    bad.write_bytes(b"this is not an image")
    Image.new("RGB", (40, 30)).save(root / "train" / "cow" / "big.jpg", quality=95)
    data = (root / "train" / "cow" / "big.jpg").read_bytes()
    (root / "train" / "cow" / "big.jpg").write_bytes(data[: len(data) // 3])
    return ["garbage.jpg", "big.jpg"]


def test_imagefolder_skips_and_counts_unreadable_files(tmp_path, caplog):
    root = tmp_path / "tree"
    write_tree(root)
    names = corrupt(root)
    with caplog.at_level(logging.WARNING, logger="bench.data.imagefolder"):
        data = load_data(tree_cfg(root, tmp_path))
    assert data.skipped == 2
    assert len(data.train.labels) == 9
    assert labels_from_colour(data.train.images) == data.train.labels.tolist()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "skipped 2 unreadable" in warnings[0]
    assert all(name in warnings[0] for name in names)


def test_imagefolder_cache_is_written_and_reused(tmp_path, monkeypatch):
    root = tmp_path / "tree"
    write_tree(root)
    cfg = tree_cfg(root, tmp_path)
    first = load_data(cfg)
    cached = list((tmp_path / "cache").glob("*.pt"))
    assert len(cached) == 1 and cached[0].name.startswith("tree-30px-")
    assert not list((tmp_path / "cache").glob("*.tmp"))

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded although the cache holds the tree")

    monkeypatch.setattr(decoded, "decode_image", no_decoding)
    decoded.clear_memory_cache()
    again = load_data(cfg)  # from disk
    assert torch.equal(again.train.images, first.train.images)
    assert torch.equal(again.test.labels, first.test.labels)
    cached[0].unlink()
    assert load_data(cfg).train.images is again.train.images  # from this process's memory
    monkeypatch.undo()

    Image.new("RGB", (40, 30), colour(0)).save(root / "train" / "ant" / "new.png")
    decoded.clear_memory_cache()
    changed = load_data(cfg)
    assert len(changed.train.labels) == 10
    (rewritten,) = (tmp_path / "cache").glob("*.pt")  # a new key for the changed tree
    assert rewritten.name != cached[0].name


def test_imagefolder_streams_and_skips_corrupt_files(tmp_path, caplog):
    root = tmp_path / "tree"
    write_tree(root)
    corrupt(root)
    data = load_data(tree_cfg(root, tmp_path, in_memory=False))
    assert isinstance(data.train, StreamSet) and isinstance(data.test, StreamSet)
    assert data.classes == CLASSES and len(data.train) == 11 and len(data.test) == 6
    dataset = data.train.dataset
    bad = next(i for i, (p, _) in enumerate(dataset.samples) if p.endswith("garbage.jpg"))
    with caplog.at_level(logging.WARNING, logger="bench.data.imagefolder"):
        assert dataset[bad] is None  # never replaced by another image
    assert dataset.skipped == 1 and "garbage.jpg" in caplog.text
    dataset.transform = PILToTensor()  # as the trainer does: it gets the undecoded image
    read = [dataset[i] for i in range(len(dataset))]
    assert sum(item is None for item in read) == 2  # garbage.jpg and the truncated big.jpg
    assert all(isinstance(item[0], torch.Tensor) for item in read if item is not None)
    assert not list((tmp_path / "cache").glob("*.pt"))


def test_imagefolder_auto_streams_when_too_big(tmp_path):
    root = tmp_path / "tree"
    write_tree(root)
    data = load_data(tree_cfg(root, tmp_path, memory_limit_gb=1e-6))
    assert isinstance(data.train, StreamSet)
    assert "streamed" in data.description


def test_imagefolder_bad_option(tmp_path):
    root = tmp_path / "tree"
    write_tree(root)
    with pytest.raises(UserError, match="data.in_memory='sometimes' must be auto, true or false"):
        load_data(tree_cfg(root, tmp_path, in_memory="sometimes"))


# -- dispatch -------------------------------------------------------------------------------
def test_unknown_kind_lists_the_kinds():
    with pytest.raises(UserError) as err:
        load_data({"kind": "mnist"})
    message = str(err.value)
    assert "mnist" in message
    assert all(kind in message for kind in ("shapes", "cifar10", "cifar100", "imagefolder"))


def test_real_configs_load(config):
    cfg = config("data=shapes", "data.train_size=20", "data.test_size=10")
    data = load_config(cfg.data)
    assert data.train.images.shape == (20, 3, 96, 96)
    assert num_classes(cfg.data) == 10
