"""Provision the course's lists: ``python -m utils.provision [names] [subdivisions]`` (``make data``).

``data/names.txt`` (standard library only). In order (ARCHITECTURE.md §6):

1. keep an existing copy whose checksum verifies;
2. else copy from ``$NAMES_MIRROR`` (default ``../shared/data/names.txt``, beside the checkout);
3. else download from ``$NAMES_URL`` (default: the makemore repository's raw file);
4. verify the sha256 of what arrived; on any failure stop with a message that says what to do.

The other lists are built offline from data that pinned packages ship in their wheels (:data:`LISTS`):

- ``data/subdivisions.txt``: the names of the world's country subdivisions (ISO 3166-2), ``pycountry``;
- ``data/sympy_modules.txt``: the dotted names of the modules of ``sympy`` (``sympy.core.add``), its tests left out;
- ``data/territories_ru.txt``: the names of the world's countries and regions in Russian (CLDR, ``Babel``);
- ``data/languages_ja.txt``: the names of languages in Japanese, in kana and kanji (CLDR, ``Babel``).

An existing copy whose checksum verifies is kept; otherwise the list is written afresh (NFC, stripped,
deduplicated, sorted by code point, names with a line break left out), to a temporary file that
replaces the old one only once its checksum verifies. Each package is imported only for its list,
which ``make data`` builds with the virtual environment's Python.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import shutil
import sys
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

from . import DEFAULT_DATA, REPO_ROOT, SUBDIVISIONS_DATA

SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
URL = "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt"
DEFAULT_MIRROR = REPO_ROOT.parent / "shared" / "data" / "names.txt"

#: The second list, built from the pinned pycountry (requirements.txt) and checked against its checksum.
SUBDIVISIONS = SUBDIVISIONS_DATA
PYCOUNTRY_PIN = "26.2.16"
SUBDIVISIONS_SHA256 = "c7cbf5fef4736104930d80f1f6851c31e26326055fadc4b8c69f0bcb813a6cf4"
SUBDIVISIONS_LINES = 4891


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


def clean_names(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """The list as written: ``(kept, left_out)``.

    Each name is normalised to NFC; ISO 3166-2's editorial marks are dropped (a bracketed note, as in
    ``Blekinge län [SE-10]``, and a dagger, as in ``Aerodrom †``), since they are not part of the name
    and a model would learn to invent them; the name is stripped; blanks and duplicates go; a name with
    a line break cannot be one line of a list, so it is left out (returned in ``left_out``) rather than
    edited. Every other character stays: ``St. Helens`` keeps its dot. The rest is sorted by code
    point, which depends on no locale.
    """
    kept: set[str] = set()
    left_out: set[str] = set()
    for name in names:
        name = unicodedata.normalize("NFC", name)
        name = _EDITORIAL.sub("", name).strip()
        if not name:
            continue
        if len(name.splitlines()) != 1:
            left_out.add(name)
        else:
            kept.add(name)
    return sorted(kept), sorted(left_out)


#: The subdivisions' cleaning has this name in the tests and the notebooks' history.
subdivision_names = clean_names


def _import(package: str, module: str, pin: str, dest: Path):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ProvisionError(
            f"{package} is not installed in this Python, and {dest.name} is built from it.\n"
            f"What to do: run make data (it sets up .venv first), or pip install {package}=={pin}."
        ) from None


def _subdivisions(dest: Path) -> list[str]:
    return [s.name for s in _import("pycountry", "pycountry", PYCOUNTRY_PIN, dest).subdivisions]


def _sympy_modules(dest: Path) -> list[str]:
    """Every module of the installed sympy as a dotted name, read from its files (nothing is imported but sympy)."""
    root = Path(_import("sympy", "sympy", LISTS["sympy_modules"].pin, dest).__file__).parent
    names = []
    for path in root.rglob("*.py"):
        parts = ("sympy", *path.relative_to(root).with_suffix("").parts)
        if any(p in ("tests", "benchmarks") for p in parts):
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _cldr(locale: str, what: str) -> Callable[[Path], list[str]]:
    def names(dest: Path) -> list[str]:
        babel = _import("Babel", "babel", LISTS["territories_ru"].pin, dest)
        return list(getattr(babel.Locale.parse(locale), what).values())

    return names


@dataclass(frozen=True)
class BuiltList:
    """A list built from data a pinned package ships: where it goes, from what, and its checksum."""

    path: Path
    package: str
    pin: str
    sha256: str
    lines: int
    what: str
    source: Callable[[Path], list[str]]


DATA_DIR = SUBDIVISIONS.parent
LISTS: dict[str, BuiltList] = {
    "subdivisions": BuiltList(SUBDIVISIONS, "pycountry", PYCOUNTRY_PIN, SUBDIVISIONS_SHA256, SUBDIVISIONS_LINES,
                              "subdivision names", _subdivisions),
    "sympy_modules": BuiltList(DATA_DIR / "sympy_modules.txt", "sympy", "1.14.0", "8b6b1c4d84bace8d40198b2105f14f93320894822cebb12ec1322cde3e3b7990", 825,
                               "dotted module names", _sympy_modules),
    "territories_ru": BuiltList(DATA_DIR / "territories_ru.txt", "Babel", "2.19.0", "7fdb4cc26b261d8534d8d0de914279ceffc0243df4cc1d45412477244266ecc6", 295,
                                "names of countries and regions in Russian", _cldr("ru", "territories")),
    "languages_ja": BuiltList(DATA_DIR / "languages_ja.txt", "Babel", "2.19.0", "17c6b0032fae8ec073e34e20e0199f60a65b34a190c41179d9d9032c7b397f54", 647,
                              "names of languages in Japanese", _cldr("ja", "languages")),
}


def provision_list(
    name: str,
    dest: Path | None = None,
    names: Iterable[str] | None = None,
    version: str | None = None,
    expected: str | None = None,
    log=print,
) -> Path:
    """Make sure ``dest`` holds the verified list ``name`` of :data:`LISTS`; return its path or raise
    :class:`ProvisionError`. ``names`` (with its ``version``) stands in for the package's data, for tests."""
    spec = LISTS[name]
    dest = Path(dest or spec.path)
    expected = expected or spec.sha256
    if _verified(dest, expected):
        log(f"data: {dest} is present and its checksum verifies.")
        return dest
    if dest.exists():
        log(f"data: {dest} does not match the expected sha256; building it afresh.")
    if names is None:
        names = spec.source(dest)
        try:
            version = package_version(spec.package)
        except PackageNotFoundError:
            version = "(unknown version)"
    version = version or "(names given)"
    kept, left_out = clean_names(names)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes("".join(f"{n}\n" for n in kept).encode("utf-8"))
    got = sha256(tmp)
    if got != expected:
        tmp.unlink(missing_ok=True)
        raise ProvisionError(
            f"could not provision {dest}: the list built from {spec.package} {version} ({len(kept):,} lines) "
            f"has sha256 {got}, not the expected {expected} ({spec.lines:,} lines from "
            f"{spec.package} {spec.pin}).\n"
            f"What to do: install the pinned version (make setup, or pip install {spec.package}=={spec.pin}) "
            "and run make data again."
        )
    os.replace(tmp, dest)
    dropped = f"; left out, for a line break: {left_out}" if left_out else ""
    log(f"data: wrote {dest}: {len(kept):,} {spec.what} from {spec.package} {version} (checksum verified{dropped}).")
    return dest


def provision_subdivisions(dest: Path = SUBDIVISIONS, names: Iterable[str] | None = None, version: str | None = None,
                           expected: str = SUBDIVISIONS_SHA256, log=print) -> Path:
    """:func:`provision_list` of ``data/subdivisions.txt`` (pycountry)."""
    return provision_list("subdivisions", dest, names, version, expected, log)


STEPS = {"names": provision} | {name: (lambda name=name: provision_list(name)) for name in LISTS}


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
