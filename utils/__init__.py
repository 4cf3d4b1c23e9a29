"""Small, tested helpers that the Sequentia notebooks import once a mechanism has been taught inline.

Each helper's docstring names the notebook that introduced it.
"""

from pathlib import Path

#: The repository root (this package is installed in editable mode, so it lives inside the checkout).
REPO_ROOT = Path(__file__).resolve().parents[1]

#: Where `make data` provisions the names; the loader's default path.
DEFAULT_DATA = REPO_ROOT / "data" / "names.txt"

#: The second list `make data` provisions: the world's country subdivisions, from pycountry (issue 12).
SUBDIVISIONS_DATA = REPO_ROOT / "data" / "subdivisions.txt"


def notebooks(suffix: str = ".ipynb") -> list[Path]:
    """The course's notebooks, ``notebooks/NN_name.ipynb``, in order (the one list scripts and tests use).

    ``suffix=".py"`` gives their jupytext pairs instead. Other files in ``notebooks/`` (a sweep's
    JSON, a scratch notebook without a two-digit number) are not part of the course.
    """
    return sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*" + suffix))


__all__ = ["REPO_ROOT", "DEFAULT_DATA", "SUBDIVISIONS_DATA", "notebooks"]
