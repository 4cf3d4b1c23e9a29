#!/usr/bin/env python
"""Student handouts: every notebook without its worked solutions (``make handouts``).

Each ``notebooks/NN_name.ipynb`` becomes ``OUT/NN_name.ipynb`` (default ``_build/handouts``) through
nbconvert's ``TagRemovePreprocessor``, driven by the tags ``scripts/annotate_cells.py`` gives the
cells: a cell tagged ``solution`` (a worked solution, or a comment on one) is removed, and a cell
tagged ``exercise`` (where the learner writes the answer and runs the check) keeps its code but
loses its outputs and execution count. Every other cell keeps its stored outputs, so the handout
reads like the lecture up to the exercises. A notebook with exercises gets a short note after its title saying what was removed.

A notebook whose annotations are missing or stale is refused (run ``make annotate``): without them
its solutions would not be recognised. Nothing is executed; the handout's exercise cells run as
they are (``check`` reports "not attempted" until the learner replaces the ``...``).

    python scripts/make_handouts.py [--out DIR] [NOTEBOOK.ipynb ...]   # default: notebooks/NN_*.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbconvert import NotebookExporter
from traitlets.config import Config

from scripts import annotate_cells
from scripts._cli import notebooks_to_folder
from utils import REPO_ROOT

NOTE_TAG = "handout-note"
NOTE = ("**Handout.** This copy of the notebook has no worked solutions: write your answer in place of "
        "each `...` in the exercises and run the cell; the check tells you whether you are right.")


def handout_config() -> Config:
    """nbconvert's configuration for a handout: which tags remove a cell, which clear its outputs."""
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {annotate_cells.SOLUTION}
    c.TagRemovePreprocessor.remove_all_outputs_tags = {annotate_cells.EXERCISE}
    return c


def handout(path: Path) -> nbformat.NotebookNode:
    """The handout of the notebook at ``path`` (refused if its cells lack their annotations)."""
    nb = nbformat.read(path, as_version=4)
    problems = annotate_cells.problems(nb)
    if problems:
        raise SystemExit(f"make_handouts: {path.name} lacks its exercise/solution annotations "
                         f"({problems[0]}; {len(problems)} in all): run 'make annotate' first.")
    out, _ = NotebookExporter(config=handout_config()).from_notebook_node(nb)
    result = nbformat.reads(out, as_version=4)
    if any(annotate_cells.EXERCISE in c.metadata.get("tags", []) for c in result.cells):
        note = nbformat.v4.new_markdown_cell(NOTE, metadata={"tags": [NOTE_TAG]})
        note.id = NOTE_TAG  # a fixed id: the same notebook always gives the same handout
        result.cells.insert(1, note)
    nbformat.validate(result)
    return result


def build(notebooks: list[Path], out: Path) -> list[Path]:
    """Write the handout of each notebook to ``out`` under the notebook's own name."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nbformat.write(handout(path), out / path.name)
        print(f"handout: {out / path.name}")
        written.append(out / path.name)
    return written


def main(argv: list[str] | None = None) -> int:
    return notebooks_to_folder(argv, __doc__, REPO_ROOT / "_build" / "handouts", build, "{n} handouts in {out}")


if __name__ == "__main__":
    sys.exit(main())
