"""``sequentia``: train the course's models on any list, one item per line, and make more of it.

::

    sequentia train -i FILE --type {bigram,mlp,rnn,gru,lstm,bow,transformer} -o RUN_DIR
    sequentia sample RUN_DIR [-n 20] [--temperature T] [--top-k K] [--prefix TEXT] [--seed S]
    sequentia evaluate RUN_DIR [-i FILE]

(also ``python -m utils.cli ...``). ``train`` reads a UTF-8 file (one item per line; the vocabulary is
the file's characters), splits it 80/10/10 by line as the course does (:func:`utils.data.split_words`,
seed 42), and trains the packaged model of the type (:mod:`utils.models`) with its notebook's recipe
(:mod:`utils.recipes`; every setting can be changed with an option, see ``sequentia train --help``).
A progress bar shows the latest train and dev loss; dev is evaluated every ``--eval-every`` steps,
test once at the end. ``RUN_DIR`` receives:

- ``checkpoint.pt``: the weights, the vocabulary, the recipe, the optimiser state, the random
  generators' states (batches, and PyTorch's global generator for dropout), the step and the
  history; written atomically (a temporary file in ``RUN_DIR``, flushed to disk, then renamed over
  the old one) and read with ``torch.load(..., weights_only=True)``, which runs no pickled code;
- ``metrics.json``: the dev and test losses (nats per character), the dev history, seconds, sizes.

Ctrl-C (or SIGTERM, or ``--max-seconds``) stops after the current step and saves a checkpoint;
``sequentia train -o RUN_DIR --resume`` then continues to exactly the weights and figures an
uninterrupted run gives. An existing run is never overwritten without ``--force``. ``--type bigram``
does not train by gradient descent: it counts the training bigrams and smooths them with the recipe's
α (notebook 01).

Bad input (a missing, empty or non-UTF-8 file, a line with the boundary glyph ``.``, a list too small,
an unknown type, a missing GPU, a prefix with an unseen character, a checkpoint of another type, a
corrupt one or one from a newer version, an existing run) gets one line on stderr,
``sequentia: error: <what is wrong>; <what to do>``, and exit status 2; nothing is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import signal
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
import torch.nn as nn

from .data import DataError, Vocab, bigram_pairs, context_windows, load_words, padded_sequences, split_words
from .device import make_generator
from .models import build, n_params
from .packing import PackRows
from .recipes import RECIPES, TYPES, Recipe
from .sampling import sample
from .train import History, evaluate, train

PROG = "sequentia"
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.json"
#: The checkpoint format this version writes; it reads this one and older.
FORMAT_VERSION = 1
FORMAT_NAME = "sequentia-checkpoint"
#: The fewest items a list may have: 80/10/10 must leave at least one item in dev and in test.
MIN_ITEMS = 10


class UsageError(Exception):
    """Bad input: the message says what is wrong and what to do (printed as one line, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's usage errors, on one line like every other
        raise UsageError(f"{message}; see `{self.prog} --help`")


# ---------------------------------------------------------------------------------------------- files


def _atomic_write(path: Path, write) -> None:
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


def _write_json(path: Path, data: dict) -> None:
    _atomic_write(path, lambda f: f.write((json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode()))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_checkpoint(run_dir: Path) -> dict:
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
    needed = ("type", "recipe", "vocab", "block_size", "max_len", "model", "step", "history")
    if any(k not in ckpt for k in needed) or ckpt["type"] not in TYPES:
        raise UsageError(f"{path} is incomplete; retrain with `sequentia train ... -o {run_dir} --force`")
    return ckpt


def _model_from(ckpt: dict, device: torch.device | str = "cpu") -> tuple[nn.Module, Vocab, Recipe]:
    recipe = Recipe.from_dict(ckpt["recipe"])
    vocab = Vocab(tuple(ckpt["vocab"]))
    model = build(recipe, len(vocab), ckpt["block_size"])
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, KeyError) as err:
        raise UsageError(f"the checkpoint's weights do not fit a {recipe.type} model ({str(err)[:80]}…); retrain with --force") from None
    return model.to(device), vocab, recipe


# ----------------------------------------------------------------------------------------------- data


def _load_list(path: Path) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        words = load_words(path)
    for w in caught:
        print(f"{PROG}: note: {w.message}", file=sys.stderr)
    return words


class _Windows(nn.Module):
    """The MLP trained as ``03_mlp`` trains it: on windows ``(B, k)`` → next-character logits ``(B, V)``."""

    def __init__(self, mlp: nn.Module):
        super().__init__()
        self.mlp = mlp

    def forward(self, X):
        return self.mlp.window_logits(X)


def _examples(recipe: Recipe, words: list[str], vocab: Vocab, block_size: int, max_len: int):
    """``X, Y`` of ``words`` in the form the type trains and is evaluated on."""
    if recipe.type == "bigram":
        xs, ys = bigram_pairs(words, vocab)
        return xs[:, None], ys[:, None]
    if recipe.type == "mlp":
        return context_windows(words, vocab, block_size)
    return padded_sequences(words, vocab, max_len)


def _trainable(recipe: Recipe, model: nn.Module) -> nn.Module:
    return _Windows(model) if recipe.type == "mlp" else model


def _encode_check(words: list[str], vocab: Vocab, what: str) -> None:
    for i, w in enumerate(words, start=1):
        bad = [c for c in w if c not in vocab.stoi]
        if bad:
            raise UsageError(
                f"{what}, item {i} ({w!r}): character {bad[0]!r} never occurs in the run's training list; "
                "evaluate on items made of the run's characters"
            )


# ---------------------------------------------------------------------------------------------- train

RECIPE_OPTIONS = {  # option -> (recipe field, type, help)
    "--steps": ("steps", int, "training steps"),
    "--batch-size": ("batch", int, "examples (words, or windows for the MLP) per step"),
    "--lr": ("lr", float, "peak learning rate"),
    "--warmup": ("warmup", int, "steps of linear warmup"),
    "--floor": ("floor", float, "final learning rate as a fraction of the peak"),
    "--weight-decay": ("weight_decay", float, "AdamW's weight decay"),
    "--grad-clip": ("grad_clip", float, "clip the gradient norm to this (0: no clipping)"),
    "--dropout": ("dropout", float, "dropout rate (transformer; rounded to a multiple of 1/256)"),
    "--block-size": ("block_size", int, "context window (mlp)"),
    "--n-embd": ("n_embd", int, "embedding width"),
    "--n-hidden": ("n_hidden", int, "hidden width (mlp, rnn, gru, lstm, bow)"),
    "--n-head": ("n_head", int, "attention heads (transformer)"),
    "--n-layer": ("n_layer", int, "blocks (transformer)"),
    "--row-len": ("row_len", int, "pack each batch's words into rows of this length (transformer; 0: padded)"),
    "--sampling": ("sampling", str, "how batches are drawn: 'random' (with replacement) or 'passes' "
                   "(shuffled passes over the items)"),
    "--alpha": ("alpha", float, "additive smoothing of the counts (bigram)"),
    "--eval-every": ("eval_every", int, "evaluate dev every this many steps"),
}


def _recipe_from_args(args, base: Recipe) -> Recipe:
    changes = {}
    for name, _typ, _h in RECIPE_OPTIONS.values():
        value = getattr(args, name)
        if value is None:
            continue
        if name in ("grad_clip", "row_len") and value == 0:
            value = None
        changes[name] = value
    if args.seed is not None:
        changes["seed"] = args.seed
    r = base.replace(**changes)
    positive = {}
    if r.type != "bigram":  # the bigram counts: no steps, batches or widths
        positive = {"steps": r.steps, "batch": r.batch, "eval_every": r.eval_every, "n_embd": r.n_embd}
    if r.type == "mlp":
        positive |= {"block_size": r.block_size}
    for name, value in positive.items():
        if value < 1:
            raise UsageError(f"{name.replace('_', '-')} must be a positive integer, got {value}; give one of 1 or more")
    if r.type != "bigram" and not (r.lr > 0 and math.isfinite(r.lr)):
        raise UsageError(f"--lr must be a positive number, got {r.lr}; try the recipe's {base.lr}")
    if not 0 <= r.dropout < 1:
        raise UsageError(f"--dropout must be in [0, 1), got {r.dropout}; try {base.dropout}")
    if r.sampling not in ("random", "passes"):
        raise UsageError(f"--sampling must be 'random' or 'passes', got {r.sampling!r}; try {base.sampling!r}")
    if r.type == "bigram" and not r.alpha >= 0:
        raise UsageError(f"--alpha must be 0 or more, got {r.alpha}; try {base.alpha}")
    if r.type == "transformer" and (r.n_head < 1 or r.n_embd % r.n_head):
        raise UsageError(f"--n-embd ({r.n_embd}) must be a multiple of --n-head ({r.n_head}); change one of them")
    return r


def _device(name: str | None) -> torch.device:
    name = (name or "cpu").strip().lower()
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name}: this PyTorch sees no CUDA GPU; leave out --device to run on the CPU")
    elif name == "mps":
        if not torch.backends.mps.is_available():
            raise UsageError("--device mps: MPS is not available here; leave out --device to run on the CPU")
    elif name != "cpu":
        raise UsageError(f"unknown device {name!r}; use cpu, cuda (or cuda:N) or mps")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UsageError(f"unknown device {name!r}; use cpu, cuda (or cuda:N) or mps") from None


def _set_threads(args, device: torch.device) -> None:
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be 1 or more, got {args.threads}; leave it out for one thread")
    if device.type == "cpu":
        torch.set_num_threads(args.threads or 1)


def cmd_train(args) -> int:
    run_dir = Path(args.output)
    device = _device(args.device)
    _set_threads(args, device)
    if args.max_seconds is not None and not args.max_seconds > 0:
        raise UsageError(f"--max-seconds must be positive, got {args.max_seconds}; leave it out to train to the end")
    ckpt = None
    if args.resume:
        ckpt = load_checkpoint(run_dir)
        if args.type is not None and args.type != ckpt["type"]:
            raise UsageError(
                f"{run_dir} holds a {ckpt['type']} checkpoint, not {args.type}; resume with --type {ckpt['type']} "
                "or train the new type into another folder"
            )
        given = [opt for opt, (name, _, _) in RECIPE_OPTIONS.items() if getattr(args, name) is not None]
        given += ["--seed"] if args.seed is not None else []
        if given:
            raise UsageError(
                f"{', '.join(given)} cannot change when resuming (the run continues with its own recipe); "
                "leave them out, or start a new run with --force"
            )
        recipe = Recipe.from_dict(ckpt["recipe"])
        path = Path(args.input) if args.input else Path(ckpt["input"])
    else:
        if args.type is None:
            raise UsageError(f"--type is required; choose one of {', '.join(TYPES)}")
        if args.input is None:
            raise UsageError("-i/--input is required; give a UTF-8 text file with one item per line")
        if run_dir.exists() and not run_dir.is_dir():
            raise UsageError(f"{run_dir} exists and is not a folder; choose another -o")
        if run_dir.is_dir() and any(run_dir.iterdir()) and not args.force:
            raise UsageError(
                f"{run_dir} already holds a run; continue it with --resume, replace it with --force, "
                "or choose another -o"
            )
        recipe = _recipe_from_args(args, RECIPES[args.type])
        path = Path(args.input)

    words = _load_list(path)
    digest = _sha256(path)
    if ckpt is not None and ckpt.get("input_sha256") != digest:
        raise UsageError(f"{path} is not the file this run was trained on (it changed); resume with the same file")
    if len(words) < MIN_ITEMS:
        raise UsageError(
            f"{path} has {len(words)} item(s), too few to split 80/10/10; give at least {MIN_ITEMS} lines"
        )
    train_w, dev_w, test_w = split_words(words)
    vocab = Vocab.from_words(words)
    max_len = max(len(w) for w in words)
    if recipe.row_len and recipe.row_len < max_len + 1:  # a packed row must hold the longest item and its end
        if ckpt is None and getattr(args, "row_len", None):
            raise UsageError(f"--row-len {recipe.row_len} is shorter than the longest item ({max_len} characters "
                             f"and its end token); give at least {max_len + 1}, or 0 for padded rows")
        print(f"sequentia: rows widened from {recipe.row_len} to {max_len + 1} positions to hold the longest item "
              f"({max_len} characters)", file=sys.stderr)
        recipe = recipe.replace(row_len=max_len + 1)
    block_size = recipe.block_size if recipe.type in ("mlp", "bigram") else max_len + 1
    if ckpt is not None and (list(ckpt["vocab"]) != list(vocab.chars) or ckpt["block_size"] != block_size):
        raise UsageError(f"{path} gives another vocabulary than the checkpoint's; resume with the run's own file")
    data = {name: _examples(recipe, ws, vocab, block_size, max_len)
            for name, ws in (("train", train_w), ("dev", dev_w), ("test", test_w))}
    n_train = data["train"][0].shape[0]
    if recipe.type != "bigram" and n_train < recipe.batch:
        unit = "windows" if recipe.type == "mlp" else "items"
        raise UsageError(
            f"the training split has {n_train} {unit}, fewer than one batch of {recipe.batch}; "
            f"give a longer list or a smaller --batch-size (at most {n_train})"
        )

    # Everything is checked: from here on, RUN_DIR is written.
    run_dir.mkdir(parents=True, exist_ok=True)
    if ckpt is None:
        for name in (CHECKPOINT, METRICS):
            (run_dir / name).unlink(missing_ok=True)
    if recipe.type == "bigram":
        return _count_bigram(args, recipe, run_dir, path, digest, vocab, block_size, max_len, data, train_w)
    return _train_loop(args, recipe, ckpt, run_dir, path, digest, vocab, block_size, max_len, data, train_w, device)


def _base_ckpt(recipe, path, digest, vocab, block_size, max_len, train_w) -> dict:
    return {
        "format": FORMAT_NAME, "version": FORMAT_VERSION, "type": recipe.type, "recipe": recipe.to_dict(),
        "vocab": list(vocab.chars), "block_size": block_size, "max_len": max_len,
        "input": str(path.resolve()), "input_sha256": digest, "train_words": list(train_w),
    }


def _save(run_dir: Path, ckpt: dict) -> None:
    _atomic_write(run_dir / CHECKPOINT, lambda f: torch.save(ckpt, f))


def _metrics(recipe, model, vocab, data, history: History, step: int, finished: bool, dev, test, path) -> dict:
    targets = {k: int((Y != -1).sum()) for k, (_, Y) in data.items()}
    per_example = targets["train"] / data["train"][0].shape[0]
    return {
        "type": recipe.type, "input": str(path), "finished": finished, "step": step, "steps": recipe.steps,
        "dev": dev, "test": test, "params": n_params(model), "vocab_size": len(vocab),
        "examples": {k: X.shape[0] for k, (X, _) in data.items()}, "targets": targets,
        "dev_history": [[s, loss] for s, loss in zip(history.dev_steps, history.dev_loss, strict=True)],
        "last_train_loss": history.step_loss[-1] if history.step_loss else None,
        "train_seconds": history.seconds,
        "train_tokens_per_second": (step * recipe.batch * per_example / history.seconds) if history.seconds else None,
        "recipe": recipe.to_dict(),
    }


def _count_bigram(args, recipe, run_dir, path, digest, vocab, block_size, max_len, data, train_w) -> int:
    from .models import Bigram

    t0 = time.perf_counter()
    X, Y = data["train"]
    V = len(vocab)
    counts = torch.bincount(X[:, 0] * V + Y[:, 0], minlength=V * V).view(V, V)
    model = Bigram.from_counts(counts, recipe.alpha)
    history = History(seconds=time.perf_counter() - t0)
    dev = evaluate(model, *data["dev"])
    history.dev_steps, history.dev_loss = [0], [dev]
    test = evaluate(model, *data["test"])
    ckpt = _base_ckpt(recipe, path, digest, vocab, block_size, max_len, train_w) | {
        "model": model.state_dict(), "optimizer": None, "rng": {}, "step": 0, "finished": True,
        "history": vars(history),
    }
    _save(run_dir, ckpt)
    _write_json(run_dir / METRICS, _metrics(recipe, model, vocab, data, history, 0, True, dev, test, path))
    print(f"bigram counted with alpha {recipe.alpha}: dev {dev:.4f} · test {test:.4f} (nats per character)")
    print(f"saved {run_dir / CHECKPOINT} and {run_dir / METRICS}")
    return 0


def _train_loop(args, recipe, ckpt, run_dir, path, digest, vocab, block_size, max_len, data, train_w, device) -> int:
    V = len(vocab)
    if ckpt is None:
        model = build(recipe, V, block_size, make_generator(recipe.seed)).to(device)
    else:
        model = build(recipe, V, block_size).to(device)
        model.load_state_dict(ckpt["model"])
    net = _trainable(recipe, model)
    optimizer = recipe.make_optimizer(net)
    batches = make_generator(recipe.seed)
    if ckpt is None:
        history, step = History(), 0
        torch.manual_seed(recipe.seed)  # dropout draws from PyTorch's global generator
    else:
        try:
            optimizer.load_state_dict(ckpt["optimizer"])
            batches.set_state(ckpt["rng"]["batches"])
            torch.set_rng_state(ckpt["rng"]["torch"])
            if device.type == "cuda" and "cuda" in ckpt["rng"]:
                torch.cuda.set_rng_state_all(ckpt["rng"]["cuda"])
        except (KeyError, ValueError, RuntimeError, TypeError) as err:
            raise UsageError(f"the checkpoint's optimiser or random state is unusable ({err}); retrain with --force") from None
        history, step = History(**ckpt["history"]), ckpt["step"]
    remaining = recipe.steps - step
    if remaining <= 0:
        print(f"{run_dir} is already finished ({step} steps); see {run_dir / METRICS}")
        return 0

    interrupted = {"signal": None}
    t_start = time.perf_counter()
    stop_after = args.stop_after

    def on_signal(signum, _frame):
        interrupted["signal"] = signum

    def stop() -> bool:
        if stop_after is not None and len(history.step_loss) - step >= stop_after:
            interrupted["signal"] = "stop-after"
        if args.max_seconds is not None and time.perf_counter() - t_start >= args.max_seconds:
            interrupted["signal"] = interrupted["signal"] or "time"
        return interrupted["signal"] is not None

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"training {recipe.type} ({n_params(model):,} parameters) on {len(train_w):,} items of {path}: "
              f"steps {step + 1}–{recipe.steps}", flush=True)
        train(net, *data["train"], optimizer=optimizer, steps=remaining, generator=batches, batch_size=recipe.batch,
              lr_schedule=recipe.lr_schedule(), dev=data["dev"], eval_every=recipe.eval_every,
              grad_clip=recipe.grad_clip, device=device, progress=not args.quiet, history=history,
              batch_fn=PackRows(recipe.row_len) if recipe.row_len else None, stop=stop,
              sampler=recipe.sampler(len(data["train"][0])))
        done = len(history.step_loss)
        finished = done >= recipe.steps
        test = evaluate(net, *data["test"], device=device) if finished else None
        dev = history.dev_loss[-1] if history.dev_loss else None
        rng = {"batches": batches.get_state(), "torch": torch.get_rng_state()}
        if device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state_all()
        new = _base_ckpt(recipe, path, digest, vocab, block_size, max_len, train_w) | {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": rng, "step": done,
            "finished": finished, "history": vars(history),
        }
        _save(run_dir, new)
        metrics = _metrics(recipe, model, vocab, data, history, done, finished, dev, test, path)
        _write_json(run_dir / METRICS, metrics)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    if finished:
        print(f"{recipe.type}: dev {dev:.4f} · test {test:.4f} nats per character after {done} steps "
              f"({history.seconds:.1f} s); saved {run_dir}")
        return 0
    why = f"--max-seconds {args.max_seconds:g} reached" if interrupted["signal"] == "time" else "interrupted"
    print(f"{PROG}: {why} at step {done} of {recipe.steps}; checkpoint saved; continue with "
          f"`sequentia train -o {run_dir} --resume`", file=sys.stderr)
    return 0 if interrupted["signal"] == "time" else 130


# --------------------------------------------------------------------------------------- sample, evaluate


def cmd_sample(args) -> int:
    run_dir = Path(args.run_dir)
    device = _device(args.device)
    _set_threads(args, device)
    ckpt = load_checkpoint(run_dir)
    model, vocab, recipe = _model_from(ckpt, device)
    if args.n < 0:
        raise UsageError(f"-n must be 0 or more, got {args.n}; e.g. -n 20")
    if not args.temperature > 0:
        raise UsageError(f"--temperature must be positive, got {args.temperature}; 1 samples the model as it is")
    if args.top_k is not None and not 1 <= args.top_k <= len(vocab):
        raise UsageError(f"--top-k must be between 1 and {len(vocab)}, got {args.top_k}; leave it out to keep all")
    unseen = [c for c in args.prefix if c not in vocab.stoi]
    if unseen:
        raise UsageError(
            f"--prefix {args.prefix!r}: character {unseen[0]!r} never occurs in the training list; "
            f"use characters of {''.join(vocab.chars)!r}"
        )
    if recipe.type in ("bow", "transformer") and len(args.prefix) >= ckpt["block_size"] - 1:
        raise UsageError(f"--prefix is too long for this model (at most {ckpt['block_size'] - 2} characters); shorten it")
    if recipe.type in ("bigram", "mlp"):
        kw = {"window": ckpt["block_size"]}
    else:
        kw = {"window": None, "max_context": ckpt["block_size"]}
    seed = args.seed if args.seed is not None else recipe.seed
    items = sample(model, vocab, args.n, make_generator(seed), temperature=args.temperature, top_k=args.top_k,
                   device=device, prefix=args.prefix, max_len=max(args.max_len, len(args.prefix) + 1), **kw)
    known = set(ckpt.get("train_words", []))
    for item in items:
        print(f"{item}  (in the training list)" if item in known else item)
    new = sum(item not in known for item in items)
    print(f"{new} of {len(items)} are new (not in the training list)", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    run_dir = Path(args.run_dir)
    device = _device(args.device)
    _set_threads(args, device)
    ckpt = load_checkpoint(run_dir)
    model, vocab, recipe = _model_from(ckpt, device)
    net = _trainable(recipe, model)
    if args.input:
        path = Path(args.input)
        splits = {path.name: _load_list(path)}
    else:
        path = Path(ckpt["input"])
        if not path.is_file() or _sha256(path) != ckpt.get("input_sha256"):
            raise UsageError(f"{path}, the run's list, is missing or changed; give a list with -i FILE")
        _, dev_w, test_w = split_words(_load_list(path))
        splits = {"dev": dev_w, "test": test_w}
    for name, ws in splits.items():
        _encode_check(ws, vocab, name)
        longest = max(len(w) for w in ws)
        if recipe.type in ("bow", "transformer") and longest > ckpt["block_size"] - 1:
            raise UsageError(
                f"{name} has an item of {longest} characters, longer than this model reads "
                f"({ckpt['block_size'] - 1}); evaluate on shorter items"
            )
        X, Y = _examples(recipe, ws, vocab, ckpt["block_size"], max(longest, 1))
        loss = evaluate(net, X, Y, device=device)
        print(f"{name}: {loss:.4f} nats per character ({len(ws):,} items, {int((Y != -1).sum()):,} characters)")
    return 0


# ----------------------------------------------------------------------------------------------- main


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Train the course's models on any list (one item per line) and make more of it.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train a model on a list", description=(
        "Train a model on a UTF-8 list (one item per line), split 80/10/10 as the course does, with its "
        "notebook's recipe. --type bigram trains by counting (with the recipe's alpha), not by gradient descent. "
        "Ctrl-C saves a checkpoint; --resume continues it exactly."))
    t.add_argument("-i", "--input", help="the list: a UTF-8 text file, one item per line")
    t.add_argument("--type", choices=TYPES, help="the model (its recipe: utils/recipes.py)")
    t.add_argument("-o", "--output", required=True, metavar="RUN_DIR", help="folder for the checkpoint and metrics.json")
    t.add_argument("--max-seconds", type=float, help="stop (resumably) after this many seconds")
    t.add_argument("--device", help="cpu (default), cuda or mps")
    t.add_argument("--seed", type=int, help="seed of the initialisation, the batches and dropout (default 2147483647)")
    t.add_argument("--threads", type=int, help="CPU threads (default 1: reproducible, see notebook 00)")
    t.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR")
    t.add_argument("--force", action="store_true", help="replace the run in RUN_DIR")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--stop-after", type=int, help=argparse.SUPPRESS)  # tests: stop as if interrupted
    for opt, (name, typ, help_) in RECIPE_OPTIONS.items():
        t.add_argument(opt, dest=name, type=typ, help=help_ + " (default: the recipe's)")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="print new items from a trained model")
    s.add_argument("run_dir", metavar="RUN_DIR")
    s.add_argument("-n", type=int, default=20, help="how many (default 20)")
    s.add_argument("--temperature", type=float, default=1.0, help="below 1 sharper, above 1 flatter (default 1)")
    s.add_argument("--top-k", type=int, help="draw only among the k likeliest characters")
    s.add_argument("--prefix", default="", help="every item starts with this text")
    s.add_argument("--seed", type=int, help="the sampling seed (default: the run's)")
    s.add_argument("--max-len", type=int, default=50, help="the longest item (default 50)")
    s.add_argument("--device", help="cpu (default), cuda or mps")
    s.add_argument("--threads", type=int, help="CPU threads (default 1)")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", help="the per-character loss of a trained model on a list")
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("-i", "--input", help="a list to evaluate on (default: the run's dev and test splits)")
    e.add_argument("--device", help="cpu (default), cuda or mps")
    e.add_argument("--threads", type=int, help="CPU threads (default 1)")
    e.set_defaults(func=cmd_evaluate)
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
        return args.func(args)
    except (UsageError, DataError) as err:
        msg = " ".join(str(err).split()).rstrip(".")
        if isinstance(err, DataError) and ";" not in msg:  # "What is wrong. What to do." -> one line
            what, _, todo = msg.partition(". ")
            msg = f"{what}; {todo[:1].lower() + todo[1:]}" if todo else f"{what}; fix the file and run the command again"
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
