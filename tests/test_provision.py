import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from utils import REPO_ROOT
from utils.provision import (
    PYCOUNTRY_PIN,
    SHA256,
    SUBDIVISIONS_LINES,
    SUBDIVISIONS_SHA256,
    ProvisionError,
    main,
    provision,
    provision_subdivisions,
    sha256,
    subdivision_names,
)

GOOD = b"ann\nbob\n"
GOOD_SHA = hashlib.sha256(GOOD).hexdigest()
NOWHERE = "http://127.0.0.1:9/names.txt"  # loopback, closed port: refused at once, no traffic leaves


def quiet(*_):
    pass


def test_keeps_an_existing_verified_copy(tmp_path):
    dest = tmp_path / "names.txt"
    dest.write_bytes(GOOD)
    assert provision(dest, mirror=tmp_path / "none", url=NOWHERE, expected=GOOD_SHA, log=quiet) == dest
    assert dest.read_bytes() == GOOD


def test_copies_from_the_mirror(tmp_path):
    mirror = tmp_path / "mirror.txt"
    mirror.write_bytes(GOOD)
    dest = tmp_path / "data" / "names.txt"
    provision(dest, mirror=mirror, url=NOWHERE, expected=GOOD_SHA, log=quiet)
    assert dest.read_bytes() == GOOD


def test_corrupt_copy_is_detected_and_replaced(tmp_path):
    dest = tmp_path / "names.txt"
    dest.write_bytes(b"ann\nbo")  # truncated
    mirror = tmp_path / "mirror.txt"
    mirror.write_bytes(GOOD)
    logs = []
    provision(dest, mirror=mirror, url=NOWHERE, expected=GOOD_SHA, log=logs.append)
    assert dest.read_bytes() == GOOD
    assert any("does not match the expected sha256" in line for line in logs)


def test_corrupt_mirror_and_no_network_is_a_clear_error(tmp_path):
    mirror = tmp_path / "mirror.txt"
    mirror.write_bytes(b"something else\n")
    dest = tmp_path / "names.txt"
    with pytest.raises(ProvisionError, match="the mirror .* has the wrong checksum") as err:
        provision(dest, mirror=mirror, url=NOWHERE, expected=GOOD_SHA, log=quiet)
    assert "download from http://127.0.0.1:9/names.txt failed" in str(err.value)
    assert "NAMES_MIRROR" in str(err.value)
    assert not dest.exists() and not (tmp_path / "names.txt.tmp").exists()


def test_make_data_without_mirror_or_network_prints_the_message(tmp_path):
    """`python -m utils.provision` (what `make data` runs): a message and exit 1, not a traceback."""
    env = {"PATH": "/usr/bin:/bin", "NAMES_MIRROR": str(tmp_path / "absent.txt"), "NAMES_URL": NOWHERE}
    work = tmp_path / "checkout"
    (work / "utils").mkdir(parents=True)
    for name in ("__init__.py", "provision.py"):
        (work / "utils" / name).write_text((REPO_ROOT / "utils" / name).read_text())
    proc = subprocess.run(
        [sys.executable, "-m", "utils.provision"], cwd=work, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "error: could not provision" in proc.stderr
    assert f"no mirror at {tmp_path / 'absent.txt'}" in proc.stderr
    assert "What to do" in proc.stderr
    assert not (work / "data" / "names.txt").exists()
    # The other list does not depend on the names: it is still built (from the installed pycountry).
    assert sha256(work / "data" / "subdivisions.txt") == SUBDIVISIONS_SHA256


def test_the_course_file_verifies(names):
    assert sha256(REPO_ROOT / "data" / "names.txt") == SHA256


# ---------------------------------------------------------------- data/subdivisions.txt (pycountry)

# A pycountry-like source: decomposed and composed forms of one name, a duplicate, surrounding spaces,
# a blank, names with the boundary glyph and a line break, names of several scripts, and ISO 3166-2
# editorial marks (a bracketed note, a dagger) that are dropped.
FAKE = ["Ha\u0308me", "H\u00e4me", "  Ordino ", "", "St. Helens", "Two\nlines", "Ḩaḑramawt", "Ordino", "Āz̄ār",
        "Ordino [AD-05]", "Häme †"]
FAKE_FILE = "Häme\nOrdino\nSt. Helens\nĀz̄ār\nḨaḑramawt\n".encode()
FAKE_SHA = hashlib.sha256(FAKE_FILE).hexdigest()


def test_subdivision_names_are_nfc_deduplicated_sorted_and_unusable_ones_left_out():
    kept, left_out = subdivision_names(FAKE)
    assert kept == ["H\u00e4me", "Ordino", "St. Helens", "Āz̄ār", "Ḩaḑramawt"]  # by code point, not by locale
    assert left_out == ["Two\nlines"]  # a dot is data; only a line break cannot be one line


def test_subdivisions_are_written_and_load_as_words(tmp_path):
    from utils.data import load_words

    dest = tmp_path / "data" / "subdivisions.txt"
    logs = []
    assert provision_subdivisions(dest, names=FAKE, version="0-fake", expected=FAKE_SHA, log=logs.append) == dest
    assert dest.read_bytes() == FAKE_FILE
    assert load_words(dest) == ["H\u00e4me", "Ordino", "St. Helens", "Āz̄ār", "Ḩaḑramawt"]
    assert "5 subdivision names from pycountry 0-fake" in logs[-1] and "for a line break: ['Two\\nlines']" in logs[-1]
    assert list(dest.parent.iterdir()) == [dest], "no temporary file is left behind"


def test_a_verified_subdivisions_file_is_kept_without_rebuilding(tmp_path):
    dest = tmp_path / "subdivisions.txt"
    dest.write_bytes(FAKE_FILE)
    logs = []
    provision_subdivisions(dest, names=["Something", "else"], expected=FAKE_SHA, log=logs.append)
    assert dest.read_bytes() == FAKE_FILE
    assert logs == [f"data: {dest} is present and its checksum verifies."]


def test_a_corrupt_subdivisions_file_is_rebuilt(tmp_path):
    dest = tmp_path / "subdivisions.txt"
    dest.write_bytes(FAKE_FILE[:-5])  # truncated
    logs = []
    provision_subdivisions(dest, names=FAKE, expected=FAKE_SHA, log=logs.append)
    assert dest.read_bytes() == FAKE_FILE
    assert "does not match the expected sha256; building it afresh" in logs[0]


def test_subdivisions_checksum_mismatch_is_a_clear_error_and_keeps_the_old_file(tmp_path):
    dest = tmp_path / "subdivisions.txt"
    dest.write_bytes(b"an older list\n")
    with pytest.raises(ProvisionError) as err:
        provision_subdivisions(dest, names=FAKE[:3], version="1.0", expected=FAKE_SHA, log=quiet)
    message = str(err.value)
    built = hashlib.sha256("Häme\nOrdino\n".encode()).hexdigest()
    assert f"the list built from pycountry 1.0 (2 lines) has sha256 {built}" in message
    assert f"not the expected {FAKE_SHA} ({SUBDIVISIONS_LINES:,} lines from pycountry {PYCOUNTRY_PIN})" in message
    assert f"What to do: install the pinned version (make setup, or pip install pycountry=={PYCOUNTRY_PIN})" in message
    assert dest.read_bytes() == b"an older list\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["subdivisions.txt"]


def test_subdivisions_are_written_atomically(tmp_path, monkeypatch):
    """The list is written to a temporary file that replaces the old one in one step (os.replace):
    a failure (or a kill) before that step leaves the old file whole."""
    import utils.provision as prov

    dest = tmp_path / "subdivisions.txt"
    dest.write_bytes(b"an older list\n")
    calls = []

    def interrupted(src, dst):
        calls.append((Path(src), Path(dst), Path(src).read_bytes()))
        raise KeyboardInterrupt

    monkeypatch.setattr(prov.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        provision_subdivisions(dest, names=FAKE, expected=FAKE_SHA, log=quiet)
    assert calls == [(tmp_path / "subdivisions.txt.tmp", dest, FAKE_FILE)]
    assert dest.read_bytes() == b"an older list\n"


def test_without_pycountry_the_message_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pycountry", None)  # `import pycountry` raises ImportError
    with pytest.raises(ProvisionError, match=r"pycountry is not installed .*\nWhat to do: run make data"):
        provision_subdivisions(tmp_path / "subdivisions.txt", log=quiet)
    assert not (tmp_path / "subdivisions.txt").exists()


@pytest.mark.parametrize("name", ["subdivisions", "sympy_modules", "territories_ru", "languages_ja"])
def test_each_pinned_package_gives_the_recorded_list(name, tmp_path):
    """Reproducible: the pinned package (requirements.txt) builds the file data/README.md records."""
    from importlib.metadata import version

    from utils.data import load_words
    from utils.provision import LISTS, provision_list

    spec = LISTS[name]
    assert version(spec.package) == spec.pin
    assert f"{spec.package}=={spec.pin}\n" in (REPO_ROOT / "requirements.txt").read_text()
    dest = provision_list(name, tmp_path / spec.path.name, log=quiet)
    assert sha256(dest) == spec.sha256
    words = load_words(dest)
    assert len(words) == spec.lines and 100 <= len(words) <= 10_000
    readme = (REPO_ROOT / "data" / "README.md").read_text()
    assert spec.sha256 in readme and f"{spec.lines:,} lines" in readme and spec.path.name in readme


def test_the_lists_are_what_the_command_is_tried_on():
    from utils.data import load_words
    from utils.provision import LISTS

    if not all(spec.path.exists() for spec in LISTS.values()):
        pytest.fail("run `make data` (make test does it for you)")
    words = {name: load_words(spec.path) for name, spec in LISTS.items()}
    assert "St. Helens" in words["subdivisions"] and "Virgin Islands, U.S." in words["subdivisions"]
    assert all("." in w for w in words["sympy_modules"][1:])  # sympy.core.add, ...
    assert all(any("\u0400" <= c <= "\u04ff" for c in w) for w in words["territories_ru"])  # Cyrillic
    assert sum(any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in w)
               for w in words["languages_ja"]) > 600  # kana and kanji


def test_unknown_list_is_exit_status_2(capsys):
    assert main(["planets"]) == 2
    assert "unknown list 'planets': choose from names, subdivisions" in capsys.readouterr().err
