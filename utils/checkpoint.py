"""The run folder of ``sequentia train``: what it holds, written atomically, read back safely.

``RUN_DIR`` holds:

- ``checkpoint.pt`` (:data:`CHECKPOINT`): a dict of plain data and tensors — ``format`` and
  ``version`` (:data:`FORMAT_NAME`, :data:`FORMAT_VERSION`), the model ``type``, its ``recipe``
  (:meth:`utils.recipes.Recipe.to_dict`), the ``vocab`` characters, ``block_size`` and ``max_len``,
  the ``model`` state dict, the ``optimizer`` state, the random generators' states (``rng``), the
  ``step`` reached, whether it is ``finished`` (or ``stopped_early``), the ``history`` of losses,
  the ``best`` weights on dev (``step``, ``dev``, ``model``: what ``sample`` and ``evaluate`` use), and
  the list it trained on, split as it was (``input``, ``input_sha256``, ``train_words``,
  ``dev_words``, ``test_words``), so the folder needs nothing outside it. Read with
  ``torch.load(..., weights_only=True)``, which runs no pickled code.
- ``metrics.json`` (:data:`METRICS`): the figures of the best checkpoint and how far the run got.
- ``.lock``: held by the process that trains into the folder, so that a second one is refused.

Both are written by :func:`atomic_write`: into a temporary file beside the target, flushed to disk,
then renamed over it, so a crash or a full disk leaves the previous file whole.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch
import torch.nn as nn

from .data import Vocab
from .models import build, recipe_from_dict, types
from .recipes import Recipe

CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.json"
#: The checkpoint format this version writes; it reads this one and older.
FORMAT_VERSION = 1
FORMAT_NAME = "sequentia-checkpoint"
#: What a checkpoint must hold to be used.
NEEDED = ("type", "recipe", "vocab", "block_size", "max_len", "model", "step", "history")


class UsageError(Exception):
    """Bad input: the message says what is wrong and what to do (printed as one line, exit status 2)."""


def atomic_write(path: Path, write) -> None:
    """``write(file)`` into a temporary file beside ``path``, flush and fsync it, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def write_json(path: Path, data: dict) -> None:
    atomic_write(path, lambda f: f.write((json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode()))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save(run_dir: Path, ckpt: dict) -> None:
    """Write ``ckpt`` as ``run_dir/checkpoint.pt``, atomically."""
    atomic_write(run_dir / CHECKPOINT, lambda f: torch.save(ckpt, f))


def header(recipe: Recipe, source: str, digest: str, vocab: Vocab, block_size: int, max_len: int,
           words: dict[str, list[str]]) -> dict:
    """The part of a checkpoint that says what was trained, on what: the list's splits included."""
    return {
        "format": FORMAT_NAME, "version": FORMAT_VERSION, "type": recipe.type, "recipe": recipe.to_dict(),
        "vocab": list(vocab.chars), "block_size": block_size, "max_len": max_len,
        "input": source, "input_sha256": digest,
    } | {f"{name}_words": list(ws) for name, ws in words.items()}


def splits(ckpt: dict) -> dict[str, list[str]] | None:
    """The train/dev/test items a checkpoint trained on (None for a folder written before they were kept)."""
    if not all(f"{k}_words" in ckpt for k in ("train", "dev", "test")):
        return None
    return {k: list(ckpt[f"{k}_words"]) for k in ("train", "dev", "test")}


def best_weights(ckpt: dict) -> dict:
    """The weights ``sample`` and ``evaluate`` use: the best on dev, or the last ones if no dev was read yet."""
    best = ckpt.get("best") or {}
    return best.get("model") or ckpt["model"]


def load(run_dir: Path) -> dict:
    """The checkpoint of ``run_dir``, read without running pickled code; :class:`UsageError` if unusable."""
    path = run_dir / CHECKPOINT
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir} is not a run folder; train one with `sequentia train -i FILE --type TYPE -o {run_dir}`")
    if not path.is_file():
        raise UsageError(f"{run_dir} holds no {CHECKPOINT}; train into it with `sequentia train ... -o {run_dir}`")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # zip, unpickling and EOF errors all mean the same to the user
        raise UsageError(
            f"{path} is corrupt or truncated ({type(err).__name__}); retrain with "
            f"`sequentia train ... -o {run_dir} --force`"
        ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT_NAME:
        raise UsageError(f"{path} is not a sequentia checkpoint; use a folder written by `sequentia train`")
    version = ckpt.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise UsageError(
            f"{path} has checkpoint format {version!r}, newer than this sequentia reads ({FORMAT_VERSION}); "
            "update sequentia (git pull, then make setup)"
        )
    if any(k not in ckpt for k in NEEDED) or ckpt["type"] not in types():
        raise UsageError(f"{path} is incomplete or of an unknown type; retrain with `sequentia train ... -o {run_dir} --force`")
    try:
        recipe_from_dict(ckpt["recipe"])
    except (TypeError, ValueError, KeyError) as err:
        raise UsageError(f"{path} holds an unreadable recipe ({err}); retrain with `sequentia train ... -o {run_dir} --force`") from None
    return ckpt


def model_from(ckpt: dict, device: torch.device | str = "cpu") -> tuple[nn.Module, Vocab, Recipe]:
    """The trained model of a loaded checkpoint (its best weights on dev), its vocabulary and its recipe."""
    recipe = recipe_from_dict(ckpt["recipe"])
    vocab = Vocab(tuple(ckpt["vocab"]))
    model = build(recipe, len(vocab), ckpt["block_size"])
    try:
        model.load_state_dict(best_weights(ckpt))
    except (RuntimeError, KeyError) as err:
        raise UsageError(f"the checkpoint's weights do not fit a {recipe.type} model ({str(err)[:80]}…); retrain with --force") from None
    return model.to(device), vocab, recipe


def writable(run_dir: Path) -> None:
    """Refuse, before any training, an ``-o`` that cannot be created or written in."""
    place = run_dir
    while not place.exists() and place != place.parent:
        place = place.parent
    if not place.is_dir():
        raise UsageError(f"-o {run_dir}: {place} is a file, not a folder; choose another -o")
    try:
        with tempfile.TemporaryFile(dir=place):
            pass
    except OSError as err:
        raise UsageError(f"-o {run_dir}: cannot write in {place} ({err.strerror or err}); choose a folder you can write to") from None


def lock(run_dir: Path, create: bool):
    """Hold ``run_dir/.lock`` for this process (returned, to keep it open); refuse when another holds it."""
    path = run_dir / ".lock"
    if not create and not path.exists():
        return None
    f = open(path, "a" if create else "r")  # noqa: SIM115 (held open for the whole run)
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        f.close()
        if err.errno in (errno.EAGAIN, errno.EACCES):
            raise UsageError(f"{run_dir} is in use by another sequentia process; wait for it to finish, "
                             "or choose another -o") from None
        raise
    if not create:
        f.close()
    return f
