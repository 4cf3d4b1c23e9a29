"""Shared by the tests of scripts/: write a small notebook."""

import nbformat


def write_notebook(path, *sources):
    """A notebook of code cells with ``sources``, on the ``python3`` kernel, written to ``path``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path
