"""The augmentation protocol in both storages: streamed from disk and held in memory."""

from __future__ import annotations

import pytest
import torch
from conftest import data_config, write_tree

from bench.data import ImageSet, StreamSet, decoded, load_data
from bench.data.batches import BatchSpec, DeviceBatches, Preprocess, Shard
from bench.data.inputs import make_batches
from bench.data.stream import StreamBatches

CPU = torch.device("cpu")
RRC = Preprocess("random_resized_crop", 0.875, 32)


@pytest.fixture(autouse=True)
def fresh_memory_cache():
    decoded.clear_memory_cache()
    yield
    decoded.clear_memory_cache()


def tree_data(tmp_path, in_memory: bool, size=(32, 32), per_class=(24, 8), workers=0):
    root = tmp_path / "tree"
    if not root.exists():
        write_tree(root, per_class=per_class, size=size)
    node = {"name": "t", "kind": "imagefolder", "path": str(root), "resolution": 32,
            "decode_size": None, "in_memory": in_memory, "memory_limit_gb": 4,
            "workers": workers, "cache_dir": str(tmp_path / "cache")}  # fmt: skip
    return load_data(data_config(node))


def batches(data, preprocess=Preprocess(), shard=Shard(), seed=0, batch=12):
    spec = BatchSpec(32, batch, CPU, True, seed, preprocess=preprocess, shard=shard)
    return make_batches(data, spec, 16)


def first(b, epoch=0, skip=0):
    return next(iter(b.epoch(epoch, skip)))


def test_both_storages_give_the_same_held_out_images_and_statistics(tmp_path):
    memory, stream = tree_data(tmp_path, True), tree_data(tmp_path, False)
    assert isinstance(memory.train, ImageSet) and isinstance(stream.train, StreamSet)
    (_, m_test), (_, s_test) = batches(memory), batches(stream)
    mx, my = first(m_test)
    sx, sy = first(s_test)
    assert torch.equal(my, sy) and torch.allclose(mx, sx, atol=1e-5)
    assert torch.allclose(m_test.mean, s_test.mean, atol=1e-3)  # one normalisation policy
    assert torch.allclose(m_test.std, s_test.std, atol=1e-3)


@pytest.mark.parametrize("preprocess", [Preprocess(), RRC], ids=["pad_crop", "rrc"])
def test_streamed_batches_depend_only_on_seed_and_epoch(tmp_path, preprocess):
    data = tree_data(tmp_path, False, workers=2)
    train, _ = batches(data, preprocess)
    assert isinstance(train, StreamBatches) and train.loader.persistent_workers
    once = [x for x, _ in train.epoch(1)]
    again = [x for x, _ in train.epoch(1)]  # the same persistent workers, a second pass
    assert all(torch.equal(a, b) for a, b in zip(once, again, strict=True))
    other = first(train, epoch=2)[0]
    assert not torch.equal(once[0], other)
    resumed = [x for x, _ in train.epoch(1, skip=2)]
    assert all(torch.equal(a, b) for a, b in zip(once[2:], resumed, strict=True))


@pytest.mark.parametrize("preprocess", [Preprocess(), RRC], ids=["pad_crop", "rrc"])
@pytest.mark.parametrize("memory", [True, False], ids=["memory", "stream"])
def test_two_processes_see_the_halves_of_one_processes_batch(tmp_path, preprocess, memory):
    data = tree_data(tmp_path, memory)
    whole = first(batches(data, preprocess)[0])[0]
    halves = [first(batches(data, preprocess, Shard(r, 2))[0])[0] for r in (0, 1)]
    assert torch.allclose(torch.cat(halves), whole, atol=1e-5)


def test_random_resized_crop_in_memory(tmp_path):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (32, 3, 64, 64), dtype=torch.uint8, generator=g)
    split = ImageSet(images, torch.arange(32) % 3)
    stats = {"mean": (0.5,) * 3, "std": (0.25,) * 3, "device": CPU, "seed": 0, "preprocess": RRC}
    train = DeviceBatches(split, BatchSpec(32, 16, train=True, **stats))
    x, _ = first(train)
    assert x.shape == (16, 3, 32, 32)
    pixels = x * 0.25 * 255 + 0.5 * 255
    assert pixels.min() >= -1e-3 and pixels.max() <= 255 + 1e-3
    assert torch.equal(first(train)[0], x) and not torch.equal(first(train, epoch=1)[0], x)
    full = torch.nn.functional.interpolate(images[:16].float(), size=32, mode="bilinear")
    assert not torch.allclose(pixels, full, atol=5)  # crops, not the whole image resized
    test = DeviceBatches(split, BatchSpec(32, 16, train=False, **stats))
    ex, _ = first(test)
    side = round(32 / 0.875)
    big = torch.nn.functional.interpolate(images[:16].float(), size=side, mode="bilinear",
                                          antialias=True).round()  # fmt: skip
    top = (side - 32) // 2
    centre = big[..., top : top + 32, top : top + 32]
    assert torch.allclose(ex * 0.25 * 255 + 0.5 * 255, centre, atol=1.01)  # uint8 rounding


def test_streamed_evaluation_crop_is_timms(tmp_path):
    from PIL import Image
    from timm.data import create_transform

    data = tree_data(tmp_path, False, size=(48, 40))
    _, test = batches(data, RRC)
    x, _ = first(test)
    path, _ = data.test.dataset.samples[0]
    expected = create_transform(32, crop_pct=0.875, interpolation="bilinear", use_prefetcher=True)
    ref = expected(Image.open(path).convert("RGB")).float()
    assert torch.allclose(x[0] * test.std[0] + test.mean[0], ref, atol=1.01)  # uint8 rounding


def test_a_streamed_point_skips_and_counts_unreadable_images(compose, tmp_path):
    """3 unreadable training and 2 unreadable held-out files, read by 2 workers: the point
    ends ok, top-1 is over the 40 readable held-out images, and data_info counts all 5."""
    from bench.train.point import run_point

    root = write_tree(tmp_path / "tree", per_class=(8, 14), size=(32, 32))  # 24 / 42 files
    bad = [*sorted((root / "train").glob("*/*"))[:3], *sorted((root / "val").glob("*/*"))[:2]]
    for path in bad:
        path.write_bytes(b"not an image")
    cfg = compose(
        f"runs_dir={tmp_path / 'runs'}", "data=imagefolder", f"data.path={root}",
        "data.memory_limit_gb=0", "data.workers=2", f"data.cache_dir={tmp_path / 'cache'}",
        "train.epochs=1", "train.batch_size=8", "train.eval_batch_size=16",
        "logger.mode=disabled", "plot.cam_images=0",
    )  # fmt: skip
    result = run_point(cfg)
    assert result["status"] == "ok", result.get("reason")
    assert result["data_info"]["skipped"] == 5 and result["test_images"] == 40
    assert "streamed" in result["data_info"]["description"]
