"""``sequentia``: train the course's models on any list, one item per line, and make more of it.

::

    sequentia train -i FILE --type TYPE -o RUN_DIR       (TYPE: bigram, mlp, wavenet, rnn, gru, lstm, bow, transformer)
    sequentia sample RUN_DIR [-n 20] [--novel] [--unique] [--temperature T] [--top-k K] [--prefix TEXT] [--seed S]
    sequentia evaluate RUN_DIR [-i FILE]

(also ``python -m utils.cli ...``). ``train`` reads a UTF-8 file (``-i -``: standard input; one item
per line; every character, ``.`` included, is data), splits it 80/10/10 by line as the course does
(:func:`utils.data.split_words`, seed 42), and trains the packaged model of the type (the registry,
:mod:`utils.models`) with its notebook's recipe, sized to the list (:mod:`utils.sizing`) for every
setting no option gives. Dev is evaluated about 20 times along the run; the best weights on dev are
what ``sample`` and ``evaluate`` use; training stops once dev has not improved for ``--patience``
evaluations; test is read once, for the best weights; the report compares the best dev with the
counting bigram's and warns when it is not lower. The run folder's format is
:mod:`utils.checkpoint`'s (self-contained: it keeps the split); the run itself is :mod:`utils.run`'s.
This module parses the options, turns bad input into one line, and dispatches.

A checkpoint is saved every ``--save-every`` seconds (default 60), so ``kill -9`` loses at most that;
Ctrl-C (or SIGTERM, or ``--max-seconds``) stops after the current step and saves one;
``sequentia train -o RUN_DIR --resume`` then continues to exactly the weights and figures an
uninterrupted run gives. An existing run is never overwritten without ``--force``, and a second
process on the same folder is refused. ``--type bigram`` does not train by gradient descent: it
counts the training bigrams and smooths them with the recipe's α (notebook 01).

Bad input (a missing, empty or non-UTF-8 file, a line longer than 1,000 characters, a list too small,
an unknown type, an option the type does not have, a bad number, a missing GPU, a prefix with an
unseen character, an output folder that cannot be written, a folder in use, a checkpoint of another
type, a corrupt one or one from a newer version, an existing run, a full disk) gets one line on
stderr, ``sequentia: error: <what is wrong>; <what to do>``, and exit status 2; nothing is lost.
"""
from __future__ import annotations

import argparse
import dataclasses
import errno
import math
import sys
from pathlib import Path

import torch

from . import checkpoint
from .checkpoint import CHECKPOINT, FORMAT_VERSION, METRICS, UsageError, sha256
from .checkpoint import load as load_checkpoint
from .data import IGNORE_INDEX, DataError, load_words, split_words
from .device import get_device, make_generator
from .models import RECIPES, SettingError, get, recipe_from_dict, types
from .recipes import OPTIMIZERS, SAMPLINGS, Recipe
from .run import MIN_ITEMS, count_run, prepare, read_list, train_run
from .sampling import sample
from .sizing import examples_of, size_to
from .train import evaluate

__all__ = ["CHECKPOINT", "FORMAT_VERSION", "METRICS", "UsageError", "load_checkpoint", "main", "make_parser"]

PROG = "sequentia"

#: option -> (recipe setting, type, help). The first group is every type's; the second, a family's own
#: (a type refuses an option its settings lack).
RECIPE_OPTIONS = {
    "--steps": ("steps", int, "training steps"),
    "--batch-size": ("batch", int, "examples (items, or windows for the window models) per step"),
    "--lr": ("lr", float, "peak learning rate"),
    "--warmup": ("warmup", int, "steps of linear warmup"),
    "--floor": ("floor", float, "final learning rate as a fraction of the peak"),
    "--weight-decay": ("weight_decay", float, "AdamW's weight decay"),
    "--grad-clip": ("grad_clip", float, "clip the gradient norm to this (0: no clipping)"),
    "--optimizer": ("optimizer", str, "'sgd', 'adamw' (decay on every parameter), 'adamw-matrices' (decay on "
                    "the matrices only) or 'muon' (Muon on the hidden matrices, AdamW on the rest)"),
    "--momentum": ("momentum", float, "Muon's momentum (--optimizer muon)"),
    "--ns-steps": ("ns_steps", int, "Muon's Newton-Schulz steps (--optimizer muon)"),
    "--sampling": ("sampling", str, "how batches are drawn: 'random' (with replacement) or 'passes' "
                   "(shuffled passes over the items)"),
    "--eval-every": ("eval_every", int, "evaluate dev every this many steps"),
    "--dropout": ("dropout", float, "dropout rate (transformer; rounded to a multiple of 1/256)"),
    "--block-size": ("block_size", int, "context window (mlp, wavenet)"),
    "--n-embd": ("n_embd", int, "embedding width"),
    "--n-hidden": ("n_hidden", int, "hidden width (mlp, wavenet, rnn, gru, lstm, bow)"),
    "--n-head": ("n_head", int, "attention heads (transformer)"),
    "--n-layer": ("n_layer", int, "blocks (transformer)"),
    "--row-len": ("row_len", int, "pack each batch's items into rows of this length (transformer; 0: padded)"),
    "--alpha": ("alpha", float, "additive smoothing of the counts (bigram)"),
}
OPTION_OF = {name: opt for opt, (name, _, _) in RECIPE_OPTIONS.items()}
SHARED = {f.name for f in dataclasses.fields(Recipe)}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's usage errors, on one line like every other
        raise UsageError(f"{message}; see `{self.prog} --help`")


def _given(args) -> dict:
    return {name: getattr(args, name) for name in OPTION_OF if getattr(args, name) is not None}


def _recipe_from_args(args, base: Recipe) -> Recipe:
    """``base`` with the options given; each checked against what the type can take."""
    spec = get(base.type)
    changes = _given(args)
    for name in changes.keys() - SHARED - spec.options():
        raise UsageError(f"{OPTION_OF[name]} does not apply to --type {base.type}; leave it out")
    for name in ("grad_clip", "row_len"):
        if changes.get(name) == 0:
            changes[name] = None
    if args.seed is not None:
        changes["seed"] = args.seed
    r = base.replace(**changes)
    model = dataclasses.asdict(r.model)
    counted = spec.count is not None  # counted, not trained: no steps, batches or rates
    positive = {k: v for k, v in model.items() if isinstance(v, int) and not isinstance(v, bool)}
    if not counted:
        positive |= {"steps": r.steps, "batch": r.batch, "eval_every": r.eval_every}
    for name, value in positive.items():
        if value < 1:
            raise UsageError(f"{name.replace('_', '-')} must be a positive integer, got {value}; give one of 1 or more")
    if not counted and not (r.lr > 0 and math.isfinite(r.lr)):
        raise UsageError(f"--lr must be a positive number, got {r.lr}; try the recipe's {base.lr}")
    if not counted and r.optimizer not in OPTIMIZERS:
        raise UsageError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {r.optimizer!r}; "
                         f"try {base.optimizer!r}")
    if not counted and not (0 <= r.momentum < 1 and r.ns_steps >= 1):
        raise UsageError(f"--momentum must be in [0, 1) and --ns-steps 1 or more, got {r.momentum} and "
                         f"{r.ns_steps}; try {base.momentum} and {base.ns_steps}")
    if r.sampling not in SAMPLINGS:
        raise UsageError(f"--sampling must be 'random' or 'passes', got {r.sampling!r}; try {base.sampling!r}")
    try:
        spec.check(r.model)
    except SettingError as err:
        raise UsageError(f"{OPTION_OF.get(err.field, err.field)} {err.message}") from None
    return r


def _device(args) -> torch.device:
    try:
        device = get_device(args.device or "cpu", fix="leave out --device to run on the CPU")
    except (ValueError, RuntimeError) as err:
        raise UsageError(str(err).replace(". ", "; ", 1).rstrip(".")) from None
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be 1 or more, got {args.threads}; leave it out for one thread")
    if device.type == "cpu":
        torch.set_num_threads(args.threads or 1)
    return device


def cmd_train(args) -> int:
    run_dir = Path(args.output)
    device = _device(args)
    for name, value in (("--max-seconds", args.max_seconds), ("--save-every", args.save_every)):
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise UsageError(f"{name} must be a positive number of seconds, got {value}; leave it out for the default")
    if args.patience is not None and args.patience < 1:
        raise UsageError(f"--patience must be 1 or more evaluations, got {args.patience}; leave it out for 5")
    if run_dir.is_dir():
        checkpoint.lock(run_dir, create=False)  # only probes: a folder another process trains into is refused
    ckpt, splits = None, None
    if args.resume:
        ckpt = load_checkpoint(run_dir)
        if args.type is not None and args.type != ckpt["type"]:
            raise UsageError(
                f"{run_dir} holds a {ckpt['type']} checkpoint, not {args.type}; resume with --type {ckpt['type']} "
                "or train the new type into another folder"
            )
        given = [OPTION_OF[name] for name in _given(args)] + (["--seed"] if args.seed is not None else [])
        if given:
            raise UsageError(
                f"{', '.join(given)} cannot change when resuming (the run continues with its own recipe); "
                "leave them out, or start a new run with --force"
            )
        recipe = recipe_from_dict(ckpt["recipe"])
        source, digest, splits = ckpt["input"], ckpt.get("input_sha256", ""), checkpoint.splits(ckpt)
        if splits is None:  # a folder written before runs kept their split: read the list again
            words, source, digest = read_list(args.input or ckpt["input"])
            if ckpt.get("input_sha256") != digest:
                raise UsageError(f"{source} is not the file this run was trained on (it changed); resume with the same file")
            splits = dict(zip(("train", "dev", "test"), split_words(words), strict=True))
    else:
        if args.type is None:
            raise UsageError(f"--type is required; choose one of {', '.join(types())}")
        if args.input is None:
            raise UsageError("-i/--input is required; give a UTF-8 text file with one item per line (- reads standard input)")
        if run_dir.exists() and not run_dir.is_dir():
            raise UsageError(f"{run_dir} exists and is not a folder; choose another -o")
        if run_dir.is_dir() and any(p.name != ".lock" for p in run_dir.iterdir()) and not args.force:
            raise UsageError(
                f"{run_dir} already holds a run; continue it with --resume, replace it with --force, "
                "or choose another -o"
            )
        checkpoint.writable(run_dir)
        recipe = _recipe_from_args(args, RECIPES[args.type])
        words, source, digest = read_list(args.input)
        if len(words) < MIN_ITEMS:
            raise UsageError(f"{source} has {len(words)} item(s), too few to split 80/10/10; give at least {MIN_ITEMS} lines")
        splits = dict(zip(("train", "dev", "test"), split_words(words), strict=True))
        spec = get(recipe.type)
        if spec.count is None:
            n_examples, names_examples, n_chars = examples_of(splits["train"], spec.windowed)
            recipe = size_to(recipe, len(splits["train"]), n_examples, names_examples, keep=set(_given(args)),
                             n_chars=n_chars)
            try:
                spec.check(recipe.model)  # the sized widths must still fit the options given
            except SettingError as err:
                raise UsageError(f"{OPTION_OF.get(err.field, err.field)} {err.message} (after sizing to this list: "
                                 "give --n-embd too)") from None
        max_len = max(len(w) for w in words)
        row_len = getattr(recipe.model, "row_len", None)
        if args.row_len and row_len < max_len + 1 <= get(recipe.type).block_size(recipe.model, max_len):
            raise UsageError(f"--row-len {row_len} is shorter than the longest item ({max_len} characters "
                             f"and its end token); give at least {max_len + 1}, or 0 for padded rows")
    p = prepare(recipe, splits=splits, source=source, digest=digest,
                notes=lambda note: print(f"{PROG}: {note}", file=sys.stderr))
    if ckpt is not None and (list(ckpt["vocab"]) != list(p.vocab.chars) or ckpt["block_size"] != p.block_size):
        raise UsageError(f"{source} gives another vocabulary than the checkpoint's; resume with the run's own file")
    n_train = p.data["train"][0].shape[0]
    if p.spec.count is None and n_train < p.recipe.batch:
        unit = "windows" if p.spec.windowed else "items"
        raise UsageError(
            f"the training split has {n_train} {unit}, fewer than one batch of {p.recipe.batch}; "
            f"give a longer list or a smaller --batch-size (at most {n_train})"
        )

    # Everything is checked: from here on, RUN_DIR is written.
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = checkpoint.lock(run_dir, create=True)
    try:
        if ckpt is None:
            for name in (CHECKPOINT, METRICS):
                (run_dir / name).unlink(missing_ok=True)
        if p.spec.count is not None:
            return count_run(p, run_dir)
        return train_run(p, run_dir, ckpt, device=device, quiet=args.quiet, max_seconds=args.max_seconds,
                         stop_after=args.stop_after, patience=args.patience or 5, save_every=args.save_every or 60.0)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EIO, errno.EPERM):
            raise UsageError(f"could not write in {run_dir} ({err.strerror}); the previous checkpoint there is "
                             "intact: make room or fix the folder, then continue with --resume") from None
        raise
    finally:
        lock.close()


def _open_run(args):
    """The run folder's model (its best weights on dev, on the device asked for), vocabulary, recipe, spec
    and checkpoint; a note on stderr when the run is unfinished."""
    device = _device(args)
    run_dir = Path(args.run_dir)
    ckpt = load_checkpoint(run_dir)
    model, vocab, recipe = checkpoint.model_from(ckpt, device)
    if not ckpt.get("finished", True):
        best = ckpt.get("best") or {}
        which = f"its best weights on dev so far (step {best['step']})" if best.get("model") else "its last weights"
        print(f"{PROG}: note: {run_dir} is unfinished (step {ckpt['step']} of {recipe.steps}); using {which}; "
              f"finish it with `sequentia train -o {run_dir} --resume`", file=sys.stderr)
    return model, vocab, recipe, get(recipe.type), ckpt, device


def _unknown(item: str, vocab) -> str | None:
    return next((c for c in item if c not in vocab.index), None)


def cmd_sample(args) -> int:
    if args.n < 0:
        raise UsageError(f"-n must be 0 or more, got {args.n}; e.g. -n 20")
    if not (args.temperature > 0 and math.isfinite(args.temperature)):
        raise UsageError(f"--temperature must be a positive number, got {args.temperature}; 1 samples the model as it is")
    if args.max_len < 1:
        raise UsageError(f"--max-len must be 1 or more characters, got {args.max_len}; leave it out for 50")
    model, vocab, recipe, spec, ckpt, device = _open_run(args)
    if args.top_k is not None and not 1 <= args.top_k <= len(vocab):
        raise UsageError(f"--top-k must be between 1 and {len(vocab)}, got {args.top_k}; leave it out to keep all")
    bad = _unknown(args.prefix, vocab)
    if bad is not None:
        raise UsageError(
            f"--prefix {args.prefix!r}: character {bad!r} never occurs in the training list; "
            f"use characters of {''.join(vocab.chars)!r}"
        )
    if len(args.prefix) >= args.max_len:
        raise UsageError(f"--prefix has {len(args.prefix)} characters, not fewer than --max-len {args.max_len}; "
                         "raise --max-len or shorten the prefix")
    block_size = ckpt["block_size"]
    kw = {"window": block_size} if spec.windowed else {"window": None, "max_context": block_size}
    seed = args.seed if args.seed is not None else recipe.seed
    g = make_generator(seed)
    known = set(ckpt.get("train_words", []))
    items: list[str] = []
    draws, budget = 0, (50 * args.n if args.novel or args.unique else args.n)
    while len(items) < args.n and draws < budget:
        batch = sample(model, vocab, min(args.n, budget - draws), g, temperature=args.temperature,
                       top_k=args.top_k, device=device, prefix=args.prefix, max_len=args.max_len, **kw)
        draws += len(batch)
        for item in batch:
            if (args.novel and item in known) or (args.unique and item in items) or len(items) >= args.n:
                continue
            items.append(item)
    for item in items:
        print(f"{item}  (in the training list)" if item in known else item)
    new = sum(item not in known for item in items)
    what = "new" if not args.novel else "new, as --novel asks"
    print(f"{new} of {len(items)} are {what} (not in the training list), from {draws} draws", file=sys.stderr)
    if len(items) < args.n:
        print(f"{PROG}: note: only {len(items)} of the {args.n} items asked for in {draws} draws; the model rarely "
              "makes items that qualify (try a higher --temperature)", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    model, vocab, recipe, spec, ckpt, device = _open_run(args)
    if args.input:
        words, source, _ = read_list(args.input)
        splits = {Path(source).name: words}
    else:
        stored = checkpoint.splits(ckpt)
        if stored is None:  # a folder written before runs kept their split
            path = Path(ckpt["input"])
            if not path.is_file() or sha256(path) != ckpt.get("input_sha256"):
                raise UsageError(f"{path}, the run's list, is missing or changed; give a list with -i FILE")
            stored = dict(zip(("train", "dev", "test"), split_words(load_words(path)), strict=True))
        splits = {"dev": stored["dev"], "test": stored["test"]}
    block_size = ckpt["block_size"]
    best = (ckpt.get("best") or {}).get("step")
    for name, ws in splits.items():
        for i, w in enumerate(ws, start=1):
            bad = _unknown(w, vocab)
            if bad is not None:
                raise UsageError(f"{name}, item {i} ({w!r}): character {bad!r} never occurs in the run's "
                                 "training list; evaluate on items made of the run's characters")
        X, Y = spec.examples(ws, vocab, block_size, max(len(w) for w in ws))
        loss = evaluate(spec.trainable(model), X, Y, device=device)
        at = f"; the best weights on dev, step {best}" if best is not None and spec.count is None else ""
        print(f"{name}: {loss:.4f} nats per character ({len(ws):,} items, {int((Y != IGNORE_INDEX).sum()):,} "
              f"characters{at})")
    return 0


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Train the course's models on any list (one item per line) and make more of it.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    device_help, threads_help = "cpu (default), cuda or mps", "CPU threads (default 1: reproducible, see notebook 00)"

    t = sub.add_parser("train", help="train a model on a list", description=(
        "Train a model on a UTF-8 list (one item per line), split 80/10/10 as the course does, with its "
        "notebook's recipe. --type bigram trains by counting (with the recipe's alpha), not by gradient descent. "
        "Ctrl-C saves a checkpoint; --resume continues it exactly."))
    t.add_argument("-i", "--input", help="the list: a UTF-8 text file, one item per line (- reads standard input)")
    t.add_argument("--type", choices=types(), help="the model (its recipe: its module in utils/models/)")
    t.add_argument("-o", "--output", required=True, metavar="RUN_DIR", help="folder for the checkpoint and metrics.json")
    t.add_argument("--max-seconds", type=float, help="stop (resumably) after this many seconds")
    t.add_argument("--device", help=device_help)
    t.add_argument("--seed", type=int, help="seed of the initialisation, the batches and dropout (default 2147483647)")
    t.add_argument("--threads", type=int, help=threads_help)
    t.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR")
    t.add_argument("--force", action="store_true", help="replace the run in RUN_DIR")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--patience", type=int, help="stop once dev has not improved for this many evaluations (default 5)")
    t.add_argument("--save-every", type=float, help="seconds between checkpoints (default 60)")
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
    s.add_argument("--novel", action="store_true", help="only items that are not in the training list")
    s.add_argument("--unique", action="store_true", help="no item twice")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", help="the per-character loss of a trained model on a list")
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("-i", "--input", help="a list to evaluate on (default: the run's dev and test splits)")
    e.set_defaults(func=cmd_evaluate)
    for sp in (s, e):
        sp.add_argument("--device", help=device_help)
        sp.add_argument("--threads", type=int, help=threads_help)
    return p


def _what_then_todo(msg: str) -> str:
    """``"What is wrong. What to do"`` as ``"what is wrong; what to do"``, cut at the first sentence end
    outside a quoted item (``'Mt. Iraya Agta'`` keeps its dot)."""
    quote = None
    for i, c in enumerate(msg):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"" and (i == 0 or not msg[i - 1].isalnum()):
            quote = c
        elif msg.startswith(". ", i):
            todo = msg[i + 2 :]
            return f"{msg[:i]}; {todo[:1].lower() + todo[1:]}"
    return f"{msg}; fix the file and run the command again"


def main(argv: list[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
        return args.func(args)
    except (UsageError, DataError) as err:
        msg = " ".join(str(err).split()).rstrip(".")
        if isinstance(err, DataError) and ";" not in msg:  # "What is wrong. What to do." -> one line
            msg = _what_then_todo(msg)
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
