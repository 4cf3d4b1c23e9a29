#!/usr/bin/env python
"""Regenerate the README's results table from the notebooks' own outputs (``make results``).

The table (model, parameters, dev, test, notebook) goes between ``<!-- results:start -->`` and
``<!-- results:end -->`` in README.md. Its rows are read with :func:`utils.results.read_results`
from the stored, executed ``notebooks/NN_*.ipynb``: what each notebook published with
:func:`utils.results.publish`, in notebook order. A model that a later notebook shows again (for
example in a final comparison) is listed once, from the notebook that introduced it.

``--check`` changes nothing: it exits with status 1 and says what to do when README.md is stale.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path

import utils
from utils import REPO_ROOT
from utils.results import markdown_table, read_course_results

START = "<!-- results:start -->"
END = "<!-- results:end -->"
COLUMNS = ("model", "params", "dev", "test", "notebook")


def collect_rows(notebooks: list[Path], link_base: Path) -> list[dict]:
    """The rows of the README table, with each notebook as a Markdown link relative to ``link_base``."""
    paths = {nb.stem: nb for nb in notebooks}
    rows = []
    for row in read_course_results(notebooks):
        link = Path(os.path.relpath(Path(paths[row["notebook"]]).resolve(), link_base.resolve())).as_posix()
        rows.append({**row, "notebook": f"[{row['notebook']}]({link})"})
    return rows


def render_table(rows: list[dict]) -> str:
    if not rows:
        return "_No notebook has published results yet._"
    return markdown_table(rows, columns=COLUMNS)


def replace_block(text: str, table: str, name: str = "README.md") -> str:
    """``text`` with everything between the markers replaced by ``table``."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"{name} must contain the markers {START} and {END} once each, in that order.")
    head, rest = text.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if README.md is stale; change nothing")
    parser.add_argument("--readme", type=Path, default=REPO_ROOT / "README.md")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="executed notebooks (default: the tracked notebooks/NN_*.ipynb)")
    args = parser.parse_args(argv)

    notebooks = sorted(args.notebooks) or utils.notebooks()
    readme = args.readme
    text = readme.read_text(encoding="utf-8")
    try:
        new = replace_block(text, render_table(collect_rows(notebooks, readme.parent)), readme.name)
    except ValueError as exc:
        print(f"make_results: {exc}", file=sys.stderr)
        return 2
    if new == text:
        print(f"{readme.name}: the results table is up to date ({len(notebooks)} notebooks read).")
        return 0
    if args.check:
        diff = difflib.unified_diff(text.splitlines(), new.splitlines(), "README.md", "README.md (regenerated)",
                                    lineterm="", n=0)
        print("\n".join(diff))
        print(f"{readme.name}'s results table is stale: the notebooks publish other figures. "
              "Run `make results` and commit README.md.", file=sys.stderr)
        return 1
    readme.write_text(new, encoding="utf-8")
    print(f"{readme.name}: results table regenerated from {len(notebooks)} notebooks.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
