"""Course-level checks: the pins and environment.yml agree, and every notebook is a stored, executed pair."""

import json
import re
import subprocess
from importlib.metadata import version

import pytest
from packaging.specifiers import SpecifierSet

from utils import REPO_ROOT, notebooks

PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([0-9][0-9A-Za-z.+\-]*)$")


def pins() -> dict[str, str]:
    out = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = PIN.match(line)
        assert m, f"requirements.txt: {line!r} is not an exact pin (name==version)"
        out[m.group(1).lower()] = m.group(2)
    return out


def test_every_requirement_is_pinned_and_installed():
    p = pins()
    for name in ("jupyterlab", "ipykernel", "matplotlib", "jupytext", "nbval", "pytest", "tqdm", "ruff"):
        assert name in p, f"{name} is not pinned in requirements.txt"
    for name, want in p.items():
        have = version(name)
        assert have.split("+")[0] == want, f"{name}: requirements.txt pins {want}, the environment has {have}"


def test_environment_yml_reuses_the_pins():
    body = _code((REPO_ROOT / "environment.yml").read_text())
    assert "- -r requirements.txt" in body, "environment.yml must install requirements.txt, the one source of truth"
    assert "- -e ." in body, "environment.yml must install the project (utils/) in editable mode"
    pinned_here = [ln for ln in body if "==" in ln]
    assert not pinned_here, f"environment.yml repeats pins instead of reusing requirements.txt: {pinned_here}"
    # The Python version is stated by pyproject.toml; environment.yml must pick a series it allows.
    requires = SpecifierSet(re.search(r'requires-python = "([^"]+)"', (REPO_ROOT / "pyproject.toml").read_text()).group(1))
    conda_python = [ln.removeprefix("- python=") for ln in body if ln.startswith("- python=")]
    assert len(conda_python) == 1, f"environment.yml must name one Python (- python=X.Y), got {conda_python}"
    series = conda_python[0]
    assert f"{series}.0" in requires and f"{series}.99" in requires, (
        f"environment.yml asks for Python {series}, which pyproject.toml's requires-python {requires} excludes"
    )


def test_ci_calls_make_test():
    commands = _code((REPO_ROOT / ".ci" / "run").read_text())
    assert "make test" in commands, f"the CI entry point must run `make test` (a comment does not count): {commands}"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout


def test_data_file_is_not_tracked_but_its_readme_is():
    tracked = _git("ls-files", "data").split()
    assert "data/README.md" in tracked, f"data/README.md must be committed (git ls-files data: {tracked})"
    for name in ("data/names.txt", "data/subdivisions.txt"):
        assert name not in tracked, f"{name} is provisioned by `make data`, never committed"
        assert _git("check-ignore", name).strip() == name, f"{name} must be git-ignored"


TORCH_WORK = re.compile(r"torch\.(?!cuda\.is_available|set_num_threads|get_num_threads|__version__)")


@pytest.mark.parametrize("nb", notebooks(".py"), ids=lambda p: p.name)
def test_notebook_runs_torch_on_one_thread_before_any_tensor_work(nb):
    """One thread makes a notebook's outputs identical run after run (see notebook 00 and ARCHITECTURE.md §6)."""
    lines = _code_lines(nb)
    first_work = next(i for i, ln in enumerate(lines) if TORCH_WORK.search(ln))
    threads = [i for i, ln in enumerate(lines) if "torch.set_num_threads(1)" in ln]
    assert threads and threads[0] < first_work, (
        f"{nb.name}: call torch.set_num_threads(1) before the first line that computes with torch "
        f"(first torch work: {lines[first_work]!r})"
    )


NOTEBOOKS = notebooks()


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebooks found"
    assert NOTEBOOKS[0].name == "00_start_here.ipynb"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_an_executed_pair(nb):
    assert nb.with_suffix(".py").exists(), f"{nb.name} has no paired {nb.stem}.py"
    data = json.loads(nb.read_text(encoding="utf-8"))
    assert data["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in data["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    unexecuted = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not unexecuted, f"{nb.name}: code cells {unexecuted} are stored without execution"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{nb.name} is stored with an error output"


def test_every_script_has_its_notebook():
    for py in notebooks(".py"):
        assert py.with_suffix(".ipynb").exists(), f"{py.name} has no paired notebook"


def _code(text: str) -> list[str]:
    """The lines of a shell or YAML file without comments and blanks."""
    lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
    return [ln for ln in lines if ln]


def _code_lines(nb) -> list[str]:
    """The code lines of a percent-format notebook, in order, without markdown cells, comments or imports."""
    cells = [c for c in nb.read_text(encoding="utf-8").split("# %%")[1:] if not c.startswith(" [markdown]")]
    lines = [ln.split("#", 1)[0].strip() for c in cells for ln in c.splitlines()[1:]]
    return [ln for ln in lines if ln and not ln.startswith(("import ", "from "))]
