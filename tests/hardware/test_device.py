"""bench.hardware.device: the one device check, its CPU branch here and its CUDA branch on a GPU."""

from __future__ import annotations

import pytest
import torch

from bench.errors import UserError
from bench.hardware.device import device_info, prepare, resolve_device, synchronize, traits

CUDA = torch.cuda.is_available()


def test_cpu_branch():
    t = traits(torch.device("cpu"))
    assert not t.cuda and not t.pin_memory and not t.non_blocking and not t.resize_on_device
    assert not t.cudnn_benchmark and t.dist_backend == "gloo"
    assert not t.bf16_by_default and not t.compile_by_default
    prepare(torch.device("cpu"))
    synchronize(torch.device("cpu"))  # nothing to wait for
    assert not torch.backends.cudnn.benchmark or CUDA
    info = device_info(torch.device("cpu"), 1)
    assert info["type"] == "cpu" and info["threads"] == torch.get_num_threads()


def test_auto_picks_what_exists():
    assert resolve_device("auto").type == ("cuda" if CUDA else "cpu")
    assert resolve_device("cpu").type == "cpu"


@pytest.mark.skipif(CUDA, reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_user_error():
    with pytest.raises(UserError, match="no CUDA device is available"):
        resolve_device("cuda")


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
def test_cuda_branch():
    device = resolve_device("cuda:0")
    t = traits(device)
    assert t.cuda and t.pin_memory and t.non_blocking and t.resize_on_device
    assert t.cudnn_benchmark and t.dist_backend == "nccl"
    assert t.bf16_by_default and t.compile_by_default
    prepare(device)
    assert torch.backends.cudnn.benchmark
    synchronize(device)
    assert device_info(device, 1)["name"] == torch.cuda.get_device_name(device)
    with pytest.raises(UserError, match="CUDA device"):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.skipif(not CUDA, reason="needs CUDA")
def test_a_point_trains_on_cuda_with_its_gpu_path(compose, small):
    from bench.train.point import run_point

    result = run_point(compose(*small, "device=cuda"))
    assert result["status"] == "ok" and result["device"]["type"] == "cuda"
    assert result["amp"] is True and result["channels_last"] is True
