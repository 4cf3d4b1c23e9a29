"""Shared by the tests: write a small notebook; run the command on bad input; fingerprint a run folder."""

import hashlib
from pathlib import Path

import nbformat


def write_notebook(path, *sources):
    """A notebook of code cells with ``sources``, on the ``python3`` kernel, written to ``path``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def one_error_line(capsys, argv) -> str:
    """``sequentia ARGV`` in this process must exit 2 with one line, ``sequentia: error: ...; ...``."""
    from utils.cli import main

    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sequentia: error: ") and ";" in lines[0], err
    return lines[0]


def digest(folder: Path) -> dict[str, str]:
    """Every file of ``folder`` by name, with its sha256: what must not change."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}
