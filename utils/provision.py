"""Provision the course's lists: ``python -m utils.provision [names] [subdivisions]`` (``make data``).

``data/names.txt`` (standard library only). In order (ARCHITECTURE.md §6):

1. keep an existing copy whose checksum verifies;
2. else copy from ``$NAMES_MIRROR`` (default ``../shared/data/names.txt``, beside the checkout);
3. else download from ``$NAMES_URL`` (default: the makemore repository's raw file);
4. verify the sha256 of what arrived; on any failure stop with a message that says what to do.

``data/subdivisions.txt``, the second list (issue 12): the names of the world's country subdivisions
(ISO 3166-2) that the pinned ``pycountry`` ships in its wheel, so it is built offline. An existing copy
whose checksum verifies is kept; otherwise the list is written afresh (NFC, stripped, deduplicated,
sorted by code point, names containing the boundary glyph ``.`` or a line break left out), to a
temporary file that replaces the old one only once its checksum verifies. ``pycountry`` is imported
only for this step, which ``make data`` runs with the virtual environment's Python.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from . import DEFAULT_DATA, REPO_ROOT, SUBDIVISIONS_DATA

SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
URL = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt"
DEFAULT_MIRROR = REPO_ROOT.parent / "shared" / "data" / "names.txt"

#: The second list, built from the pinned pycountry (requirements.txt) and checked against its checksum.
SUBDIVISIONS = SUBDIVISIONS_DATA
PYCOUNTRY_PIN = "26.2.16"
SUBDIVISIONS_SHA256 = "38c48141cadcf5207782800f10fad80bc3b9c1fe87e488c38fcb74a388a14be7"
SUBDIVISIONS_LINES = 4889
#: utils.data.BOUNDARY, repeated so that this module needs nothing but the standard library.
BOUNDARY = "."


#: ISO 3166-2's editorial marks in pycountry's names: a bracketed note, a dagger.
_EDITORIAL = re.compile(r"\s*\[[^\]]*\]|\s*\u2020")


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


def subdivision_names(names: Iterable[str], boundary: str = BOUNDARY) -> tuple[list[str], list[str]]:
    """The list as written: ``(kept, left_out)``.

    Each name is normalised to NFC; ISO 3166-2's editorial marks are dropped (a bracketed note, as in
    ``Blekinge län [SE-10]``, and a dagger, as in ``Aerodrom †``), since they are not part of the name
    and a model would learn to invent them; the name is stripped; blanks and duplicates go; a name containing the
    boundary glyph (``St. Helens``) or a line break cannot be one line of the course's lists, so it is
    left out (returned in ``left_out``) rather than edited. The rest is sorted by code point, which
    depends on no locale.
    """
    kept: set[str] = set()
    left_out: set[str] = set()
    for name in names:
        name = unicodedata.normalize("NFC", name)
        name = _EDITORIAL.sub("", name).strip()
        if not name:
            continue
        if boundary in name or len(name.splitlines()) != 1:
            left_out.add(name)
        else:
            kept.add(name)
    return sorted(kept), sorted(left_out)


def _pycountry_names() -> tuple[list[str], str]:
    """The subdivision names of the installed pycountry, and its version."""
    try:
        import pycountry
    except ImportError:
        raise ProvisionError(
            "pycountry is not installed in this Python, and data/subdivisions.txt is built from it.\n"
            f"What to do: run make data (it sets up .venv first), or pip install pycountry=={PYCOUNTRY_PIN}."
        ) from None
    from importlib.metadata import version

    return [s.name for s in pycountry.subdivisions], version("pycountry")


def provision_subdivisions(
    dest: Path = SUBDIVISIONS,
    names: Iterable[str] | None = None,
    version: str | None = None,
    expected: str = SUBDIVISIONS_SHA256,
    log=print,
) -> Path:
    """Make sure ``dest`` holds the verified subdivisions list; return its path or raise :class:`ProvisionError`.

    ``names`` (with its ``version``) stands in for pycountry's subdivisions, for tests.
    """
    dest = Path(dest)
    if _verified(dest, expected):
        log(f"data: {dest} is present and its checksum verifies.")
        return dest
    if dest.exists():
        log(f"data: {dest} does not match the expected sha256; building it afresh.")
    if names is None:
        names, version = _pycountry_names()
    version = version or "(names given)"
    kept, left_out = subdivision_names(names)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes("".join(f"{name}\n" for name in kept).encode("utf-8"))
    got = sha256(tmp)
    if got != expected:
        tmp.unlink(missing_ok=True)
        raise ProvisionError(
            f"could not provision {dest}: the list built from pycountry {version} ({len(kept):,} lines) "
            f"has sha256 {got}, not the expected {expected} ({SUBDIVISIONS_LINES:,} lines from "
            f"pycountry {PYCOUNTRY_PIN}).\n"
            f"What to do: install the pinned version (make setup, or pip install pycountry=={PYCOUNTRY_PIN}) "
            "and run make data again."
        )
    os.replace(tmp, dest)
    dropped = f"; left out, for the boundary glyph {BOUNDARY!r} or a line break: {left_out}" if left_out else ""
    log(
        f"data: wrote {dest}: {len(kept):,} subdivision names from pycountry {version} "
        f"(checksum verified{dropped})."
    )
    return dest


STEPS = {"names": provision, "subdivisions": provision_subdivisions}


def main(argv: list[str] | None = None) -> int:
    steps = sys.argv[1:] if argv is None else argv
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        print(f"error: unknown list {unknown[0]!r}: choose from {', '.join(STEPS)} (default: all).", file=sys.stderr)
        return 2
    status = 0
    for step in steps or STEPS:
        try:
            STEPS[step]()
        except ProvisionError as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
