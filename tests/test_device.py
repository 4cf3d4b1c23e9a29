from types import SimpleNamespace

import pytest
import torch

from utils.device import SEED, check_cpu, get_device, make_generator, randn


def test_cpu_by_default(monkeypatch):
    monkeypatch.delenv("SEQUENTIA_DEVICE", raising=False)
    assert get_device() == torch.device("cpu")


def test_unknown_device_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SEQUENTIA_DEVICE", "tpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_says_what_to_do(monkeypatch):
    monkeypatch.setenv("SEQUENTIA_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="Unset SEQUENTIA_DEVICE"):
        get_device()


def test_generator_is_the_course_seed():
    assert SEED == 2147483647
    a = torch.rand(3, generator=make_generator())
    b = torch.rand(3, generator=torch.Generator().manual_seed(2147483647))
    assert torch.equal(a, b)


def test_random_helpers_draw_on_the_cpu_then_move():
    a = randn(2, 3, generator=make_generator(1))
    assert torch.equal(a, torch.randn(2, 3, generator=make_generator(1)))
    moved = randn(2, 3, generator=make_generator(1), device="meta")  # any device but the CPU
    assert moved.device.type == "meta" and moved.shape == (2, 3)


def test_random_helpers_refuse_a_generator_that_is_not_on_the_cpu():
    gpu_generator = SimpleNamespace(device=torch.device("cuda"))  # what a CUDA generator reports
    with pytest.raises(ValueError, match="expect a CPU generator"):
        randn(2, generator=gpu_generator)
    with pytest.raises(ValueError, match="expect a CPU generator"):
        check_cpu(gpu_generator)
    check_cpu(make_generator())  # a CPU generator passes
