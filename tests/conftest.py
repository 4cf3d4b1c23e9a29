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
