"""bench.data.batches: resizing, padding, slicing in-memory splits into device batches."""

import pytest
import torch
import torch.nn.functional as F

from bench.data import ImageSet
from bench.data.batches import (
    BatchSpec,
    DeviceBatches,
    Preprocess,
    Shard,
    _split_on_device,
    channel_stats,
    resize_uint8,
)

CPU = torch.device("cpu")


def images(n: int = 40, size: int = 24, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)


def test_resize_matches_the_float_kernel_within_one_level():
    x = images(size=48)
    y = resize_uint8(x, 20, CPU)
    ref = F.interpolate(x.float(), size=(20, 20), mode="bilinear", antialias=True)
    assert y.dtype == torch.uint8 and y.shape == (40, 3, 20, 20) and y.is_contiguous()
    assert (y.float() - ref.round().clamp(0, 255)).abs().max() <= 1


def test_resize_split_across_threads_is_the_same_bytes():
    x = images(n=778, size=32)  # not a multiple of the thread count
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        y = resize_uint8(x, 20, CPU)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(y, F.interpolate(x, size=(20, 20), mode="bilinear", antialias=True))


def test_resize_to_the_stored_size_is_the_images():
    x = images()
    assert torch.equal(resize_uint8(x, 24, CPU), x)


def test_reflect_pad_in_uint8_equals_float_padding():
    x = images(size=24)  # stored at the point's size: pad_crop pads by 24 // 8 = 3 px
    ref = F.pad(x.float(), (3,) * 4, mode="reflect").to(torch.uint8)
    padded = _split_on_device(ImageSet(x, torch.zeros(len(x))), 24, True, Preprocess(), CPU)
    assert padded.dtype == torch.uint8 and torch.equal(padded, ref)


def test_channel_stats_of_constant_channels():
    x = torch.zeros(8, 3, 4, 4, dtype=torch.uint8)
    x[:, 1] = 255
    x[:, 2, :, :2] = 255  # half the pixels
    mean, std = channel_stats(x)
    assert mean == pytest.approx((0.0, 1.0, 0.5))
    assert std[0] == pytest.approx(1e-3) and std[2] == pytest.approx(0.5, abs=0.01)


def batches(train: bool, **kwargs) -> DeviceBatches:
    split = ImageSet(images(), torch.arange(40) % 4)
    args = {"mean": (0.5,) * 3, "std": (0.25,) * 3, "seed": 3, "device": CPU}
    return DeviceBatches(split, BatchSpec(16, 8, train=train, **{**args, **kwargs}))


def unnormalise(x: torch.Tensor) -> torch.Tensor:
    return (x * 0.25 * 255 + 0.5 * 255).round().to(torch.uint8)


def test_eval_batches_cover_the_split_in_order_resized():
    b = batches(train=False, channels_last=True)
    out = list(b.epoch(0))
    assert len(b) == len(out) == 5
    xs = torch.cat([x for x, _ in out])
    ys = torch.cat([y for _, y in out])
    assert torch.equal(ys, torch.arange(40) % 4)
    assert out[0][0].is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(unnormalise(xs), resize_uint8(images(), 16, CPU))


def test_train_batches_are_flipped_crops_of_the_padded_image_and_reproducible():
    b = batches(train=True)
    first = list(b.epoch(0))
    assert len(first) == 5 and all(x.shape == (8, 3, 16, 16) for x, _ in first)
    again = list(b.epoch(0))
    assert all(torch.equal(x, y) for (x, _), (y, _) in zip(first, again, strict=True))
    other = torch.cat([x for x, _ in b.epoch(1)])
    assert not torch.equal(torch.cat([x for x, _ in first]), other)  # new order and crops

    padded = F.pad(resize_uint8(images(), 16, CPU).float(), (2,) * 4, mode="reflect")
    flips = 0
    for x, y in first:
        for img, label in zip(unnormalise(x), y, strict=True):
            matches = []
            for i in torch.nonzero(torch.arange(40) % 4 == label).flatten():
                for dy in range(5):
                    for dx in range(5):
                        window = padded[i, :, dy : dy + 16, dx : dx + 16].to(torch.uint8)
                        if torch.equal(img, window):
                            matches.append(False)
                        elif torch.equal(img, window.flip(2)):
                            matches.append(True)
            assert matches, "a training image is not a crop of its padded source"
            flips += matches[0]
    assert 0 < flips < 40  # some flipped, some not


def test_skip_resumes_mid_epoch_with_the_same_batches():
    b = batches(train=True)
    whole = list(b.epoch(2))
    rest = list(b.epoch(2, skip=3))
    assert len(rest) == 2
    assert all(torch.equal(x, y) for (x, _), (y, _) in zip(whole[3:], rest, strict=True))


def test_shards_split_each_global_batch():
    whole = [y for _, y in batches(train=True).epoch(0)]
    halves = [[y for _, y in batches(train=True, shard=Shard(r, 2)).epoch(0)] for r in (0, 1)]
    for y, a, b in zip(whole, *halves, strict=True):
        assert torch.equal(torch.cat([a, b]), y)
