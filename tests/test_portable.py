"""scripts/portable.py (`make portable`): nbval on another CPU code path catches non-portable prints."""

import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from utils import REPO_ROOT

NBVAL = ["--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "-q"]
# A sum of 100,000 float32 numbers: its last digits depend on how the CPU's kernels vectorise it.
SETUP = "import torch\ntorch.set_num_threads(1)\nx = torch.randn(100_000, generator=torch.Generator().manual_seed(0))"


def _stored(path, *sources):
    """A notebook executed on this machine's native code path and stored, as `make run` would."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    nbformat.write(nb, path)
    return path


def _pytest(*args, portable):
    cmd = [
        sys.executable,
        *([str(REPO_ROOT / "scripts" / "portable.py")] if portable else ["-m", "pytest"]),
        *args,
    ]
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("portable")
    planted = _stored(tmp / "planted.ipynb", SETUP, "print(f'sum {x.sum().item():.10f}')")
    claim = _stored(
        tmp / "claim.ipynb",
        SETUP,
        "s = x.sum().item()\nprint(f'sum {s:.0f}')\nassert abs(s - x.double().sum().item()) < 1e-2",
    )
    return planted, claim


def test_planted_rounding_noise_passes_natively_but_fails_on_the_portable_path(notebooks):
    planted, _ = notebooks
    native = _pytest(*NBVAL, str(planted), portable=False)
    assert native.returncode == 0, native.stdout[-2000:]  # the same path that stored it: deterministic
    portable = _pytest(*NBVAL, str(planted), portable=True)
    assert portable.returncode == 1, portable.stdout[-2000:]
    assert "ATEN_CPU_CAPABILITY=default" in portable.stdout and "1 failed" in portable.stdout


def test_a_rounded_claim_passes_on_the_portable_path(notebooks):
    _, claim = notebooks
    portable = _pytest(*NBVAL, str(claim), portable=True)
    assert portable.returncode == 0, portable.stdout[-2000:]
