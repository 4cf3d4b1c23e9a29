"""The command line that ``make slides`` and ``make handouts`` share.

Both scripts turn notebooks into files of one output folder: ``SCRIPT [--out DIR] [NOTEBOOK.ipynb ...]``,
every course notebook (:func:`utils.notebooks`) when none is named.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import utils


def notebooks_to_folder(argv: list[str] | None, doc: str, default_out: Path,
                        build: Callable[[list[Path], Path], object], summary: str) -> int:
    """Parse ``argv``, run ``build(notebooks, out)``, then print ``summary``.

    ``doc`` is the script's docstring (its first paragraph describes the command); ``summary`` is
    formatted with ``n`` (how many notebooks) and ``out`` (the folder).
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="the notebooks to convert (default: the course's notebooks/NN_*.ipynb)")
    parser.add_argument("--out", type=Path, default=default_out, help=f"the output folder (default: {default_out})")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or utils.notebooks()
    build(notebooks, args.out)
    print(summary.format(n=len(notebooks), out=args.out))
    return 0
