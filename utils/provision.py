"""Provision ``data/names.txt``: ``python -m utils.provision`` (what ``make data`` runs).

Standard library only, so it runs before the virtual environment exists. In order (DESIGN §7):

1. keep an existing copy whose checksum verifies;
2. else copy from ``$NAMES_MIRROR`` (default ``../shared/data/names.txt``, beside the checkout);
3. else download from ``$NAMES_URL`` (default: the makemore repository's raw file);
4. verify the sha256 of what arrived; on any failure stop with a message that says what to do.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from . import DEFAULT_DATA, REPO_ROOT

SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
URL = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt"
DEFAULT_MIRROR = REPO_ROOT.parent / "shared" / "data" / "names.txt"


class ProvisionError(RuntimeError):
    """The data could not be provisioned; the message says what to do."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _verified(path: Path, expected: str) -> bool:
    return path.is_file() and sha256(path) == expected


def provision(
    dest: Path = DEFAULT_DATA,
    mirror: str | Path | None = None,
    url: str | None = None,
    expected: str = SHA256,
    timeout: float = 30.0,
    log=print,
) -> Path:
    """Make sure ``dest`` holds the verified names file; return its path or raise :class:`ProvisionError`."""
    dest = Path(dest)
    mirror = Path(mirror if mirror is not None else os.environ.get("NAMES_MIRROR") or DEFAULT_MIRROR)
    url = url if url is not None else os.environ.get("NAMES_URL") or URL
    problems: list[str] = []

    if dest.exists():
        if _verified(dest, expected):
            log(f"data: {dest} is present and its checksum verifies.")
            return dest
        problems.append(f"the existing {dest} has the wrong checksum (corrupt or a different file)")
        log(f"data: {dest} does not match the expected sha256; fetching a fresh copy.")

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")

    if mirror.is_file():
        shutil.copyfile(mirror, tmp)
        if _verified(tmp, expected):
            os.replace(tmp, dest)
            log(f"data: copied {dest} from the mirror {mirror} (checksum verified).")
            return dest
        problems.append(f"the mirror {mirror} has the wrong checksum")
    else:
        problems.append(f"no mirror at {mirror}")

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        problems.append(f"the download from {url} failed ({reason})")
    else:
        if _verified(tmp, expected):
            os.replace(tmp, dest)
            log(f"data: downloaded {dest} from {url} (checksum verified).")
            return dest
        problems.append(f"the download from {url} has the wrong checksum")
    tmp.unlink(missing_ok=True)

    raise ProvisionError(
        f"could not provision {dest}: " + "; ".join(problems) + ".\n"
        f"What to do: put the 32,033-line names.txt (sha256 {expected}) at {dest}, or point "
        "NAMES_MIRROR at a copy (NAMES_MIRROR=/path/to/names.txt make data), or run make data "
        f"where {url} can be reached."
    )


def main() -> int:
    try:
        provision()
    except ProvisionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
