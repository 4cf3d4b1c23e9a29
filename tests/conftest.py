import matplotlib
import pytest

matplotlib.use("Agg")  # tests draw off-screen

from utils import DEFAULT_DATA


@pytest.fixture(scope="session")
def names():
    """The course's names (provisioned by `make data`, which `make test` runs first)."""
    if not DEFAULT_DATA.exists():
        pytest.fail(f"{DEFAULT_DATA} is missing: run `make data` (make test does it for you).")
    from utils.data import load_words

    return load_words()


@pytest.fixture()
def write(tmp_path):
    """Write bytes to a file under tmp_path and return its path."""

    def _write(content: bytes, name: str = "words.txt"):
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return _write


@pytest.fixture()
def one_thread():
    """One intra-op thread for the test: tiny tensors, and no spin-waiting on a busy 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
