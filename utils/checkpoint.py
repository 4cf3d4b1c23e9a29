"""The run folder of ``sequentia train``: what it holds, written atomically, read back safely.

``RUN_DIR`` holds two files:

- ``checkpoint.pt`` (:data:`CHECKPOINT`): a dict of plain data and tensors — ``format`` and
  ``version`` (:data:`FORMAT_NAME`, :data:`FORMAT_VERSION`), the model ``type``, its ``recipe``
  (:meth:`utils.recipes.Recipe.to_dict`), the ``vocab`` characters, ``block_size`` and ``max_len``,
  the ``model`` state dict, the ``optimizer`` state, the random generators' states (``rng``), the
  ``step`` reached, whether it is ``finished``, the ``history`` of losses, and the list it trained on
  (``input``, ``input_sha256``, ``train_words``). Read with ``torch.load(..., weights_only=True)``,
  which runs no pickled code.
- ``metrics.json`` (:data:`METRICS`): the figures of that checkpoint, for people and scripts.

Both are written by :func:`atomic_write`: into a temporary file beside the target, flushed to disk,
then renamed over it, so a crash or a full disk leaves the previous file whole.
"""

from __future__ import annotations

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


def header(recipe: Recipe, path: Path, digest: str, vocab: Vocab, block_size: int, max_len: int,
           train_words: list[str]) -> dict:
    """The part of a checkpoint that says what was trained, on what."""
    return {
        "format": FORMAT_NAME, "version": FORMAT_VERSION, "type": recipe.type, "recipe": recipe.to_dict(),
        "vocab": list(vocab.chars), "block_size": block_size, "max_len": max_len,
        "input": str(path.resolve()), "input_sha256": digest, "train_words": list(train_words),
    }


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
    """The trained model of a loaded checkpoint, its vocabulary and its recipe."""
    recipe = recipe_from_dict(ckpt["recipe"])
    vocab = Vocab(tuple(ckpt["vocab"]))
    model = build(recipe, len(vocab), ckpt["block_size"])
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, KeyError) as err:
        raise UsageError(f"the checkpoint's weights do not fit a {recipe.type} model ({str(err)[:80]}…); retrain with --force") from None
    return model.to(device), vocab, recipe
