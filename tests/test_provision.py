import hashlib
import subprocess
import sys

import pytest

from utils import REPO_ROOT
from utils.provision import SHA256, ProvisionError, provision, sha256

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


def test_the_course_file_verifies(names):
    assert sha256(REPO_ROOT / "data" / "names.txt") == SHA256
