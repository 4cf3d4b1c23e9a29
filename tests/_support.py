"""Shared by the tests of scripts/: write a small notebook (and load a script by its path)."""

import importlib.util
import sys

import nbformat

from utils import REPO_ROOT


# used by test_cli.py until it imports scripts.reproduce
def load_script(name: str):
    """``scripts/NAME.py`` imported as the module ``NAME`` (the other tests import ``from scripts``)."""
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = sys.modules[name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_notebook(path, *sources):
    """A notebook of code cells with ``sources``, on the ``python3`` kernel, written to ``path``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path
