#!/usr/bin/env python
"""Give every notebook's cells the metadata that slides and handouts need (``make annotate``).

The annotations are derived from each notebook's own structure, so running this again changes
nothing, and a cell added later gets its annotation on the next run (``make sync`` runs it too;
``tests/test_annotations.py`` fails when a notebook is missing one):

- ``slideshow.slide_type`` (read by ``make slides`` and by RISE in JupyterLab):
  ``"slide"`` for the title and every ``#``/``##`` heading; ``"subslide"`` for a ``###`` (or
  deeper) heading, an exercise statement (``**Exercise N ...`` or ``### Exercise N``), a worked
  solution, and a Markdown cell that follows a code cell (a new step after a result). Every other
  cell continues the slide above it, the default, so it carries no ``slideshow`` key.
- ``tags`` (read by ``make handouts``): in the ``## Exercises`` section (up to the next ``#`` or ``##``
  heading, wherever it stands in a cell), ``"exercise"`` on the code
  cell where the learner answers (it calls ``check(``), and ``"solution"`` on each worked solution
  (a code cell whose first line, after any ``# NBVAL_...`` marker, starts with ``# Solution``; the
  older marker, a ``hide-input`` tag, is still recognised) and on a Markdown cell right after a
  solution that discusses it (one that does not state a new exercise). Existing tags are kept.
- worked solutions are hidden wherever the course is read: a solution code cell gets the
  ``jupyter`` metadata ``{"source_hidden": true, "outputs_hidden": true}`` (JupyterLab opens it with
  its input **and** its outputs collapsed) and the tag ``hide-cell`` (the HTML course shows it as a
  closed "Show code cell content" toggle, input and outputs inside; its ``hide-input`` tag, which
  would leave the outputs in view, is dropped). A Markdown solution cell cannot be a toggle in the
  HTML course, so it gets ``source_hidden`` and ``remove-cell``: put discussion a reader of the
  HTML course should be able to open in the solution code cell's comments instead.

The notebook's jupytext ``cell_metadata_filter`` is set to ``pyproject.toml``'s, so the ``.py``
pair keeps the new metadata. Each pair is synced before (so edits to the ``.py`` are not lost) and
after (so the ``.py`` shows the annotations) annotating the ``.ipynb``. Outputs are not touched.

    python scripts/annotate_cells.py [NOTEBOOK.ipynb ...]   # default: notebooks/NN_*.ipynb
    python scripts/annotate_cells.py --check                 # list missing annotations, exit 1
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import nbformat

import utils
from utils import REPO_ROOT

SOLUTION, EXERCISE = "solution", "exercise"
HIDE_CELL, REMOVE_CELL = "hide-cell", "remove-cell"  # Jupyter Book: a closed toggle; not on the page
LEGACY_HIDE = {"hide-input", "hide_input"}  # the old solution marker: outputs stayed in view
COLLAPSED_CODE = {"source_hidden": True, "outputs_hidden": True}
COLLAPSED_MARKDOWN = {"source_hidden": True}
_HEADING = re.compile(r"^(#{1,6})\s")
_EXERCISE = re.compile(r"^\s*(\*\*|#{1,6}\s+)Exercise\b", re.MULTILINE)


def cell_metadata_filter() -> str:
    """The jupytext cell metadata filter of ``pyproject.toml`` (it must keep ``slideshow``)."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["jupytext"]["cell_metadata_filter"]


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _first_line(cell) -> str:
    return next((line for line in _source(cell).splitlines() if line.strip()), "")


def heading_level(cell) -> int:
    """1-6 for a Markdown cell that opens with a heading, else 0."""
    if cell.get("cell_type") != "markdown":
        return 0
    m = _HEADING.match(_first_line(cell))
    return len(m.group(1)) if m else 0


def is_worked_solution(cell) -> bool:
    """A code cell that opens with ``# Solution`` (after any ``# NBVAL_`` marker), or the old ``hide-input`` tag."""
    if cell.get("cell_type") != "code":
        return False
    if set(cell.get("metadata", {}).get("tags", [])) & (LEGACY_HIDE | {HIDE_CELL}):
        return True
    lines = [line.strip() for line in _source(cell).splitlines() if line.strip()]
    first = next((line for line in lines if not line.startswith("# NBVAL_")), "")
    return first.startswith("# Solution")


def annotations(cells) -> list[dict]:
    """For each cell, ``{"slide_type": str, "tags": set, "jupyter": dict}``: the slide type, the tags it
    must carry, and the ``jupyter`` metadata it must hold (empty when the script requires none)."""
    out = []
    in_exercises = False
    previous = None  # the previous cell's (cell, annotation)
    for k, cell in enumerate(cells):
        kind, src = cell.get("cell_type"), _source(cell)
        level = heading_level(cell)
        if kind == "markdown":  # a `#`/`##` heading anywhere in the cell opens a section
            for line in src.splitlines():
                if re.match(r"#{1,2}\s", line):
                    in_exercises = line.lstrip("#").strip().lower().startswith("exercises")
        wanted: set[str] = set()
        if in_exercises and kind == "code":
            if is_worked_solution(cell):
                wanted.add(SOLUTION)
            elif "check(" in src:
                wanted.add(EXERCISE)
        elif (in_exercises and kind == "markdown" and level == 0 and previous is not None
              and SOLUTION in previous[1]["tags"] and not _EXERCISE.search(src)):
            wanted.add(SOLUTION)  # a comment on the solution above it

        if k == 0 or level in (1, 2):
            slide_type = "slide"
        elif level >= 3 or (kind == "markdown" and _EXERCISE.match(src)):
            slide_type = "subslide"
        elif kind == "code" and SOLUTION in wanted:
            slide_type = "subslide"
        elif kind == "markdown" and SOLUTION not in wanted and previous is not None \
                and previous[0].get("cell_type") == "code":
            slide_type = "subslide"
        else:
            slide_type = "-"
        jupyter: dict = {}
        if SOLUTION in wanted:
            wanted.add(HIDE_CELL if kind == "code" else REMOVE_CELL)
            jupyter = COLLAPSED_CODE if kind == "code" else COLLAPSED_MARKDOWN
        annotation = {"slide_type": slide_type, "tags": wanted, "jupyter": jupyter}
        out.append(annotation)
        previous = (cell, annotation)
    return out


def _current_slide_type(cell) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def problems(nb) -> list[str]:
    """What is missing or stale in a notebook's annotations (empty when it is up to date)."""
    found = []
    filt = nb.metadata.get("jupytext", {}).get("cell_metadata_filter")
    if filt is not None and filt != cell_metadata_filter():
        found.append(f"the notebook's jupytext cell_metadata_filter is {filt!r}, not {cell_metadata_filter()!r}")
    for k, (cell, want) in enumerate(zip(nb.cells, annotations(nb.cells), strict=True)):
        first = _first_line(cell)[:50]
        if _current_slide_type(cell) != want["slide_type"]:
            found.append(f"cell {k} ({first!r}): slide_type {_current_slide_type(cell)!r}, expected "
                         f"{want['slide_type']!r}")
        tags = set(cell.get("metadata", {}).get("tags", []))
        for tag in (SOLUTION, EXERCISE):
            if (tag in tags) != (tag in want["tags"]):
                found.append(f"cell {k} ({first!r}): should {'' if tag in want['tags'] else 'not '}be tagged {tag!r}")
        if SOLUTION in want["tags"]:
            for tag in want["tags"] - tags - {SOLUTION}:
                found.append(f"cell {k} ({first!r}): a worked solution should be tagged {tag!r}")
            for tag in tags & LEGACY_HIDE:
                found.append(f"cell {k} ({first!r}): a worked solution should not be tagged {tag!r}")
        jupyter = cell.get("metadata", {}).get("jupyter", {})
        for key, value in want["jupyter"].items():
            if jupyter.get(key) != value:
                found.append(f"cell {k} ({first!r}): a worked solution should have jupyter.{key} = {value}")
    return found


def annotate(nb) -> bool:
    """Set the annotations in place; True if anything changed."""
    changed = False
    meta = nb.metadata.setdefault("jupytext", {})
    if meta.get("cell_metadata_filter") != cell_metadata_filter():
        meta["cell_metadata_filter"] = cell_metadata_filter()
        changed = True
    for cell, want in zip(nb.cells, annotations(nb.cells), strict=True):
        md = cell.setdefault("metadata", {})
        if _current_slide_type(cell) != want["slide_type"]:
            changed = True
            if want["slide_type"] == "-":
                md["slideshow"].pop("slide_type")
                if not md["slideshow"]:
                    del md["slideshow"]
            else:
                md.setdefault("slideshow", {})["slide_type"] = want["slide_type"]
        tags = list(md.get("tags", []))
        new = [t for t in tags if t not in (SOLUTION, EXERCISE) or t in want["tags"]]
        if SOLUTION in want["tags"]:
            new = [t for t in new if t not in LEGACY_HIDE]
        elif SOLUTION in tags:  # no longer a solution: it is shown again
            new = [t for t in new if t not in (HIDE_CELL, REMOVE_CELL)]
            for key in COLLAPSED_CODE:
                md.get("jupyter", {}).pop(key, None)
            if md.get("jupyter") == {}:
                del md["jupyter"]
        new += sorted(want["tags"] - set(new))
        if new != tags:
            changed = True
            if new:
                md["tags"] = new
            else:
                md.pop("tags", None)
        if any(md.get("jupyter", {}).get(key) != value for key, value in want["jupyter"].items()):
            changed = True
            md["jupyter"] = {**md.get("jupyter", {}), **want["jupyter"]}
    return changed


def _sync(path: Path) -> None:
    from jupytext.cli import jupytext

    jupytext(["--sync", "--quiet", str(path)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--check", action="store_true", help="only report what is missing (exit 1 if anything)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or utils.notebooks()
    status = 0
    for path in notebooks:
        if args.check:
            found = problems(nbformat.read(path, as_version=4))
            for p in found:
                print(f"{path.name}: {p}")
            status |= bool(found)
            continue
        paired = path.with_suffix(".py").exists()
        if paired:
            _sync(path)
        nb = nbformat.read(path, as_version=4)
        if annotate(nb):
            nbformat.write(nb, path)
            print(f"{path.name}: annotated")
        if paired:
            _sync(path)
    if args.check and status:
        print("Some notebooks lack their slide/exercise annotations: run 'make annotate' (or 'make sync').")
    return status


if __name__ == "__main__":
    sys.exit(main())
