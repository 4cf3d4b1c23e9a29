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

__all__ = ["REPO_ROOT", "DEFAULT_DATA", "SUBDIVISIONS_DATA"]
