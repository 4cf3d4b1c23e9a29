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

import argparse
import sys
from pathlib import Path

import nbformat
from nbconvert import NotebookExporter
from traitlets.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
import annotate_cells  # noqa: E402 - a sibling script

REPO_ROOT = Path(__file__).resolve().parents[1]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "_build" / "handouts")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in notebooks:
        nb = handout(path)
        nbformat.write(nb, args.out / path.name)
        print(f"handout: {args.out / path.name}")
    print(f"{len(notebooks)} handouts in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
