import pytest
import torch

from utils.device import SEED, get_device, make_generator, randint, randn


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
    assert torch.equal(randn(2, 3, generator=make_generator(1)), torch.randn(2, 3, generator=make_generator(1)))
    assert randint(5, (4,), generator=make_generator(1)).max() < 5
