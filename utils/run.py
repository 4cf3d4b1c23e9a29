"""The training run of ``sequentia train``: a list made into examples, a model fitted, a run folder written.

:func:`prepare` reads the list once and returns a :class:`Prepared` (the recipe, the vocabulary,
the three splits and their examples); :func:`fit` builds the recipe's model and trains it on that
(the command and ``make sweep-transformer`` train through it, so they train exactly the same
model), watching dev: it keeps the best weights on dev and can stop once dev has not improved for
``patience`` evaluations; :func:`train_run` does a whole command run: fit, or resume, with Ctrl-C,
``--max-seconds`` and a checkpoint every ``save_every`` seconds, then the checkpoint and
``metrics.json`` (:mod:`utils.checkpoint`). Which model, which examples and which batches come from
the type's spec (:mod:`utils.models.registry`); nothing here names a type. How a recipe is sized to a
list is :mod:`utils.sizing`'s.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import signal
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn

from . import checkpoint
from .checkpoint import METRICS, UsageError
from .data import IGNORE_INDEX, Vocab, load_words, parse_words, split_words
from .device import make_generator
from .models import RECIPES, ModelSpec, get, n_params
from .recipes import Recipe
from .train import History, evaluate, lr_schedule, make_optimizer, make_sampler, train

#: The fewest items a list may have: 80/10/10 must leave at least one item in dev and in test.
MIN_ITEMS = 10
SPLITS = ("train", "dev", "test")


#: The longest item the command takes; a longer line is refused with its line number.
MAX_ITEM = 1000


def read_list(name: str) -> tuple[list[str], str, str]:
    """The items of ``name`` (``-``: standard input), where they came from, and their bytes' sha256."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if name == "-":
            raw = sys.stdin.buffer.read()
            words, source, digest = parse_words(raw, "<stdin>"), "<stdin>", hashlib.sha256(raw).hexdigest()
        else:
            path = Path(name)
            words, source = load_words(path), str(path)
            digest = checkpoint.sha256(path)
    for w in caught:
        print(f"sequentia: note: {w.message}", file=sys.stderr)
    for word, line in zip(words, words.lines, strict=True):
        if len(word) > MAX_ITEM:
            raise UsageError(f"{source}, line {line}: an item of {len(word):,} characters, longer than the "
                             f"{MAX_ITEM:,} the command takes; shorten or split that line")
    return words, source, digest


@dataclass
class Prepared:
    """One list made ready for one recipe: its splits as words and as the type's ``X, Y`` examples."""

    recipe: Recipe
    vocab: Vocab
    words: dict[str, list[str]]
    block_size: int
    max_len: int
    data: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    source: str = ""
    digest: str = ""

    @property
    def spec(self) -> ModelSpec:
        return get(self.recipe.type)


def prepare(recipe: Recipe, words: list[str] | None = None, *, splits: dict[str, list[str]] | None = None,
            source: str = "", digest: str = "", only: tuple[str, ...] = SPLITS,
            notes: Callable[[str], None] | None = None) -> Prepared:
    """Split ``words`` 80/10/10 as the course does (or take ``splits`` as they are) and make the examples
    of the splits ``only`` names for ``recipe``'s type.

    A packed row must hold the longest item and its end token: a recipe whose ``row_len`` is shorter
    gets wider rows, up to the model's context; items longer than that are read in windows, in padded
    rows. ``notes`` is told of either.
    """
    if splits is None:
        if len(words) < MIN_ITEMS:
            raise UsageError(f"{source or 'the list'} has {len(words)} item(s), too few to split 80/10/10; "
                             f"give at least {MIN_ITEMS} lines")
        splits = dict(zip(SPLITS, split_words(words), strict=True))
    every = [w for name in SPLITS for w in splits[name]]
    spec = get(recipe.type)
    max_len = max(len(w) for w in every)
    block_size = spec.block_size(recipe.model, max_len)
    row_len = getattr(recipe.model, "row_len", None)
    if row_len and max_len + 1 > block_size:
        if notes:
            notes(f"items up to {max_len} characters are read in windows of {block_size} positions, in padded rows")
        recipe = recipe.replace(row_len=None)
    elif row_len and row_len < max_len + 1:
        if notes:
            notes(f"rows widened from {row_len} to {max_len + 1} positions to hold the longest item "
                  f"({max_len} characters)")
        recipe = recipe.replace(row_len=max_len + 1)
    p = Prepared(recipe, Vocab.from_words(every), splits, block_size, max_len, source=source, digest=digest)
    p.data = {name: spec.examples(splits[name], p.vocab, block_size, max_len) for name in only}
    return p


def bigram_dev(p: Prepared) -> float:
    """The counting bigram's dev loss on ``p``'s split (01's model, with its recipe's smoothing)."""
    bigram = RECIPES["bigram"]
    spec = get("bigram")
    data = {k: spec.examples(p.words[k], p.vocab, 1, p.max_len) for k in ("train", "dev")}
    return evaluate(spec.count(bigram.model, *data["train"], len(p.vocab)), *data["dev"])


@dataclass
class Best:
    """The best weights on dev so far: the step, the dev loss and the model's state (on the CPU)."""

    step: int = 0
    dev: float = float("inf")
    model: dict | None = None


def fit(p: Prepared, *, device: torch.device | str = "cpu", progress: bool = True, history: History | None = None,
        state: dict | None = None, best: Best | None = None, patience: int | None = None,
        stop: Callable[[], bool] | None = None, save: Callable[[dict], None] | None = None,
        save_every: float | None = None, announce: Callable[[nn.Module], None] | None = None,
        ) -> tuple[nn.Module, History, dict, Best]:
    """Build ``p.recipe``'s model and train it on ``p.data["train"]``, watching ``p.data["dev"]``.

    The weights are drawn from a generator seeded with the recipe's seed, the batches from a second
    one seeded the same way (or walked in shuffled passes), and dropout's masks from PyTorch's global
    generator, seeded the same way just before training. ``state`` (a checkpoint's ``model``,
    ``optimizer`` and ``rng``) and ``best`` continue an interrupted run exactly. After every dev
    evaluation the best weights so far are kept; with ``patience``, training stops once that many
    evaluations in a row have not improved on the best. ``stop()`` ends it early too; ``save(state)``
    is called every ``save_every`` seconds with everything needed to resume. Returns the model (with
    its last weights), the history, the state to save and the best.
    """
    r, spec = p.recipe, p.spec
    device = torch.device(device)
    model = spec.build(r.model, len(p.vocab), p.block_size, None if state else make_generator(r.seed)).to(device)
    net = spec.trainable(model)
    optimizer = make_optimizer(r, net)
    batches = make_generator(r.seed)
    if state is None:
        torch.manual_seed(r.seed)  # dropout draws from PyTorch's global generator
    else:
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            batches.set_state(state["rng"]["batches"])
            torch.set_rng_state(state["rng"]["torch"])
            if device.type == "cuda" and "cuda" in state["rng"]:
                torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        except (KeyError, ValueError, RuntimeError, TypeError) as err:
            raise UsageError(f"the checkpoint's weights, optimiser or random state is unusable ({err}); "
                             "retrain with --force") from None
    history = history or History()
    best = best or Best()
    if announce:
        announce(model)

    def current() -> dict:
        rng = {"batches": batches.get_state(), "torch": torch.get_rng_state()}
        if device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": rng}

    seen = {"evals": len(history.dev_loss), "saved": time.perf_counter()}
    early = {"stopped": False}

    def watch() -> bool:
        """After every step: keep the best, stop on patience, save on time, ask ``stop``."""
        if len(history.dev_loss) > seen["evals"]:
            seen["evals"] = len(history.dev_loss)
            if history.dev_loss[-1] < best.dev:
                best.step, best.dev = history.dev_steps[-1], history.dev_loss[-1]
                best.model = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            elif patience is not None and evals_since_best(history, best) >= patience:
                early["stopped"] = True
        if save and save_every is not None and time.perf_counter() - seen["saved"] >= save_every:
            save(current() | {"step": len(history.step_loss), "best": best})
            seen["saved"] = time.perf_counter()
        return early["stopped"] or (stop is not None and stop())

    X, Y = p.data["train"]
    train(net, X, Y, optimizer=optimizer, steps=r.steps - len(history.step_loss), generator=batches,
          batch_size=r.batch, lr_schedule=lr_schedule(r), dev=p.data.get("dev"), eval_every=r.eval_every,
          grad_clip=r.grad_clip, device=device, progress=progress, history=history,
          batch_fn=spec.batches(r.model), stop=watch, sampler=make_sampler(r, X.shape[0]))
    watch()  # the evaluation after the last step
    state = current()
    state["stopped_early"] = early["stopped"] and len(history.step_loss) < r.steps
    return model, history, state, best


def evals_since_best(history: History, best: Best) -> int:
    """How many dev evaluations came after the best one."""
    return sum(1 for s in history.dev_steps if s > best.step)


def best_model(p: Prepared, best: Best, device: torch.device | str = "cpu") -> nn.Module:
    """The model with the best weights on dev, ready to evaluate or sample."""
    model = p.spec.build(p.recipe.model, len(p.vocab), p.block_size, None)
    model.load_state_dict(best.model)
    return model.to(device)


def metrics(p: Prepared, params: int, history: History, step: int, finished: bool, best: Best, test,
            bigram: float | None, stopped_early: bool = False) -> dict:
    """What ``metrics.json`` says of a run: the figures of the best checkpoint, and how the run went."""
    r = p.recipe
    targets = {k: int((Y != IGNORE_INDEX).sum()) for k, (_, Y) in p.data.items()}
    per_example = targets["train"] / p.data["train"][0].shape[0]
    return {
        "type": r.type, "input": p.source, "finished": finished, "stopped_early": stopped_early,
        "step": step, "steps": r.steps, "best_step": best.step,
        "dev": best.dev if best.model is not None else None, "test": test,
        "last_dev": history.dev_loss[-1] if history.dev_loss else None, "bigram_dev": bigram,
        "params": params, "vocab_size": len(p.vocab), "block_size": p.block_size,
        "examples": {k: X.shape[0] for k, (X, _) in p.data.items()}, "targets": targets,
        "dev_history": [[s, loss] for s, loss in zip(history.dev_steps, history.dev_loss, strict=True)],
        "last_train_loss": history.step_loss[-1] if history.step_loss else None,
        "train_seconds": history.seconds,
        "train_tokens_per_second": (step * r.batch * per_example / history.seconds) if history.seconds else None,
        "recipe": r.to_dict(),
    }


def _header(p: Prepared) -> dict:
    return checkpoint.header(p.recipe, p.source, p.digest, p.vocab, p.block_size, p.max_len, p.words)


def count_run(p: Prepared, run_dir: Path) -> int:
    """A type that is counted, not trained (the bigram): count, evaluate dev and test, save."""
    t0 = time.perf_counter()
    model = p.spec.count(p.recipe.model, *p.data["train"], len(p.vocab))
    history = History(seconds=time.perf_counter() - t0)
    dev = evaluate(model, *p.data["dev"])
    history.dev_steps, history.dev_loss = [0], [dev]
    test = evaluate(model, *p.data["test"])
    best = Best(0, dev, model.state_dict())
    ckpt = _header(p) | {"model": model.state_dict(), "optimizer": None, "rng": {}, "step": 0, "finished": True,
                         "history": vars(history), "best": vars(best)}
    checkpoint.save(run_dir, ckpt)
    checkpoint.write_json(run_dir / METRICS, metrics(p, n_params(model), history, 0, True, best, test, dev))
    with_ = ", ".join(f"{k} {v}" for k, v in dataclasses.asdict(p.recipe.model).items())
    print(f"{p.recipe.type} counted with {with_}: dev {dev:.4f} · test {test:.4f} (nats per character)")
    print(f"saved {run_dir / checkpoint.CHECKPOINT} and {run_dir / METRICS}")
    return 0


def train_run(p: Prepared, run_dir: Path, ckpt: dict | None, *, device: torch.device, quiet: bool = False,
              max_seconds: float | None = None, stop_after: int | None = None, patience: int | None = None,
              save_every: float | None = 60.0) -> int:
    """Train (or resume) ``p`` into ``run_dir``; Ctrl-C, SIGTERM and ``max_seconds`` stop resumably.

    A checkpoint is written every ``save_every`` seconds and at the end; test is read once, for the
    best weights on dev, when the run is over. The report names the best step, compares the best dev
    with the counting bigram's on the same split, and warns when it is not below it.
    """
    r = p.recipe
    history = History(**ckpt["history"]) if ckpt else History()
    best = Best(**ckpt["best"]) if ckpt and ckpt.get("best") else Best()
    step = len(history.step_loss)
    if ckpt and ckpt.get("finished"):
        print(f"{run_dir} is already finished ({step} steps); see {run_dir / METRICS}")
        return 0
    interrupted = {"signal": None}
    t_start = time.perf_counter()
    bigram = bigram_dev(p)

    def on_signal(signum, _frame):
        interrupted["signal"] = signum

    def stop() -> bool:
        if stop_after is not None and len(history.step_loss) - step >= stop_after:
            interrupted["signal"] = "stop-after"
        if max_seconds is not None and time.perf_counter() - t_start >= max_seconds:
            interrupted["signal"] = interrupted["signal"] or "time"
        return interrupted["signal"] is not None

    def save(state: dict, finished: bool = False, stopped_early: bool = False, test: float | None = None) -> None:
        """The checkpoint, then metrics.json, which describes it (an unfinished run says so)."""
        done = state.pop("step", len(history.step_loss))
        b = state.pop("best")
        checkpoint.save(run_dir, _header(p) | state | {"step": done, "finished": finished, "stopped_early": stopped_early,
                                                       "history": copy.deepcopy(vars(history)), "best": vars(b)})
        checkpoint.write_json(run_dir / METRICS, metrics(p, info["params"], history, done, finished, b, test, bigram,
                                                         stopped_early))

    info = {}

    def announce(model):
        info["params"] = n_params(model)
        print(f"training {r.type} ({n_params(model):,} parameters) on {len(p.words['train']):,} items of "
              f"{p.source}: steps {step + 1}–{r.steps}, dev every {r.eval_every}", flush=True)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        model, history, state, best = fit(p, device=device, progress=not quiet, history=history, state=ckpt,
                                          best=best, patience=patience, stop=stop, save=save,
                                          save_every=save_every, announce=announce)
        stopped_early = state.pop("stopped_early")
        done = len(history.step_loss)
        finished = done >= r.steps or stopped_early
        test = None
        if finished:
            test = evaluate(p.spec.trainable(best_model(p, best, device)), *p.data["test"], device=device)
        save(state | {"step": done, "best": best}, finished, stopped_early, test)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    if not finished:
        why = f"--max-seconds {max_seconds:g} reached" if interrupted["signal"] == "time" else "interrupted"
        print(f"sequentia: {why} at step {done} of {r.steps}; checkpoint saved; continue with "
              f"`sequentia train -o {run_dir} --resume`", file=sys.stderr)
        return 0 if interrupted["signal"] == "time" else 130
    how = (f"stopped early at step {done} of {r.steps} (dev had not improved for {patience} evaluations)"
           if stopped_early else f"after {done} steps")
    print(f"{r.type}: dev {best.dev:.4f} · test {test:.4f} nats per character, best on dev at step {best.step}, "
          f"{how} ({history.seconds:.1f} s); saved {run_dir}")
    print(f"the counting bigram's dev on the same split: {bigram:.4f}")
    if not best.dev < bigram:
        print(f"sequentia: warning: the best dev ({best.dev:.4f}) is not below the counting bigram's ({bigram:.4f}): "
              "this model learned less than pairs of characters; try --type bigram, a smaller model or a longer list",
              file=sys.stderr)
    return 0
