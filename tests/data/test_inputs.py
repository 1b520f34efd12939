"""bench.data.inputs: the held-out share a learning curve evaluates."""

import torch

from bench.data import ImageSet
from bench.data.batches import BatchSpec, DeviceBatches
from bench.data.inputs import FirstImages

CPU = torch.device("cpu")


def held_out(n: int, batch: int) -> DeviceBatches:
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 3, 4, 4).contiguous()
    spec = BatchSpec(4, batch, CPU, train=False, seed=0, mean=(0.0,) * 3, std=(1 / 255,) * 3)
    return DeviceBatches(ImageSet(images, torch.arange(n)), spec)


def test_first_images_are_the_first_ones_in_order_with_the_last_batch_cut():
    batches = held_out(50, 16)
    seen = [y for _, y in FirstImages(batches, 20).epoch(0)]
    assert [len(y) for y in seen] == [16, 4]
    assert torch.equal(torch.cat(seen), torch.arange(20))
    x, _ = next(iter(FirstImages(batches, 20).epoch(0)))
    assert torch.equal(x[:, 0, 0, 0].round().long(), torch.arange(16))  # the images go along


def test_no_limit_or_a_limit_beyond_the_split_gives_every_image():
    batches = held_out(50, 16)
    for limit in (None, 50, 500):
        labels = torch.cat([y for _, y in FirstImages(batches, limit).epoch(0)])
        assert torch.equal(labels, torch.arange(50))
    assert FirstImages(batches, 5).device == CPU
