"""The training run of ``sequentia train``: a list made into examples, a model fitted, a run folder written.

:func:`prepare` reads the list once and returns a :class:`Prepared` (the recipe, the vocabulary,
the three splits and their examples); :func:`fit` builds the recipe's model and trains it on that
(the command, ``make sweep-transformer`` and ``make bench-transformer`` all train through it, so
they train exactly the same model); :func:`train_run` does a whole command run: fit, or resume,
with Ctrl-C and ``--max-seconds`` handled, then the checkpoint and ``metrics.json``
(:mod:`utils.checkpoint`). Which model, which examples and which batches come from the type's spec
(:mod:`utils.models.registry`); nothing here names a type.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn

from . import checkpoint
from .checkpoint import METRICS, UsageError
from .data import IGNORE_INDEX, Vocab, split_words
from .device import make_generator
from .models import ModelSpec, get, n_params
from .recipes import Recipe
from .train import History, evaluate, lr_schedule, make_optimizer, make_sampler, train

#: The fewest items a list may have: 80/10/10 must leave at least one item in dev and in test.
MIN_ITEMS = 10
SPLITS = ("train", "dev", "test")


@dataclass
class Prepared:
    """One list made ready for one recipe: its splits as words and as the type's ``X, Y`` examples."""

    recipe: Recipe
    vocab: Vocab
    words: dict[str, list[str]]
    block_size: int
    max_len: int
    data: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    path: Path | None = None
    digest: str = ""

    @property
    def spec(self) -> ModelSpec:
        return get(self.recipe.type)


def prepare(recipe: Recipe, words: list[str], *, path: Path | None = None, digest: str = "",
            splits: tuple[str, ...] = SPLITS, notes: Callable[[str], None] | None = None) -> Prepared:
    """Split ``words`` 80/10/10 as the course does and make the examples of ``splits`` for ``recipe``'s type.

    A packed row must hold the longest item and its end token: a recipe whose ``row_len`` is shorter
    gets wider rows, and ``notes`` is told so.
    """
    if len(words) < MIN_ITEMS:
        raise UsageError(f"{path or 'the list'} has {len(words)} item(s), too few to split 80/10/10; "
                         f"give at least {MIN_ITEMS} lines")
    spec = get(recipe.type)
    max_len = max(len(w) for w in words)
    row_len = getattr(recipe.model, "row_len", None)
    if row_len and row_len < max_len + 1:
        if notes:
            notes(f"rows widened from {row_len} to {max_len + 1} positions to hold the longest item "
                  f"({max_len} characters)")
        recipe = recipe.replace(row_len=max_len + 1)
    block_size = spec.block_size(recipe.model, max_len)
    split = dict(zip(SPLITS, split_words(words), strict=True))
    prepared = Prepared(recipe, Vocab.from_words(words), split, block_size, max_len, path=path, digest=digest)
    prepared.data = {name: spec.examples(split[name], prepared.vocab, block_size, max_len) for name in splits}
    return prepared


def fit(p: Prepared, *, device: torch.device | str = "cpu", progress: bool = True, history: History | None = None,
        state: dict | None = None, stop: Callable[[], bool] | None = None,
        announce: Callable[[nn.Module], None] | None = None) -> tuple[nn.Module, History, dict]:
    """Build ``p.recipe``'s model and train it on ``p.data["train"]``, watching ``p.data["dev"]``.

    The weights are drawn from a generator seeded with the recipe's seed, the batches from a second
    one seeded the same way (or walked in shuffled passes), and dropout's masks from PyTorch's global
    generator, seeded the same way just before training. ``state`` (a checkpoint's ``model``,
    ``optimizer`` and ``rng``) continues an interrupted run exactly; ``stop()`` ends it early;
    ``announce(model)`` is called once the model is built. Returns the model, the history and the
    state to save.
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
    if announce:
        announce(model)
    X, Y = p.data["train"]
    train(net, X, Y, optimizer=optimizer, steps=r.steps - len(history.step_loss), generator=batches,
          batch_size=r.batch, lr_schedule=lr_schedule(r), dev=p.data.get("dev"), eval_every=r.eval_every,
          grad_clip=r.grad_clip, device=device, progress=progress, history=history,
          batch_fn=spec.batches(r.model), stop=stop, sampler=make_sampler(r, X.shape[0]))
    rng = {"batches": batches.get_state(), "torch": torch.get_rng_state()}
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return model, history, {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": rng}


def metrics(p: Prepared, model: nn.Module, history: History, step: int, finished: bool, dev, test) -> dict:
    """What ``metrics.json`` says of a run."""
    r = p.recipe
    targets = {k: int((Y != IGNORE_INDEX).sum()) for k, (_, Y) in p.data.items()}
    per_example = targets["train"] / p.data["train"][0].shape[0]
    return {
        "type": r.type, "input": str(p.path), "finished": finished, "step": step, "steps": r.steps,
        "dev": dev, "test": test, "params": n_params(model), "vocab_size": len(p.vocab),
        "examples": {k: X.shape[0] for k, (X, _) in p.data.items()}, "targets": targets,
        "dev_history": [[s, loss] for s, loss in zip(history.dev_steps, history.dev_loss, strict=True)],
        "last_train_loss": history.step_loss[-1] if history.step_loss else None,
        "train_seconds": history.seconds,
        "train_tokens_per_second": (step * r.batch * per_example / history.seconds) if history.seconds else None,
        "recipe": r.to_dict(),
    }


def count_run(p: Prepared, run_dir: Path) -> int:
    """A type that is counted, not trained (the bigram): count, evaluate dev and test, save."""
    t0 = time.perf_counter()
    model = p.spec.count(p.recipe.model, *p.data["train"], len(p.vocab))
    history = History(seconds=time.perf_counter() - t0)
    dev = evaluate(model, *p.data["dev"])
    history.dev_steps, history.dev_loss = [0], [dev]
    test = evaluate(model, *p.data["test"])
    ckpt = _header(p) | {"model": model.state_dict(), "optimizer": None, "rng": {}, "step": 0, "finished": True,
                         "history": vars(history)}
    checkpoint.save(run_dir, ckpt)
    checkpoint.write_json(run_dir / METRICS, metrics(p, model, history, 0, True, dev, test))
    with_ = ", ".join(f"{k} {v}" for k, v in dataclasses.asdict(p.recipe.model).items())
    print(f"{p.recipe.type} counted with {with_}: dev {dev:.4f} · test {test:.4f} (nats per character)")
    print(f"saved {run_dir / checkpoint.CHECKPOINT} and {run_dir / METRICS}")
    return 0


def _header(p: Prepared) -> dict:
    return checkpoint.header(p.recipe, p.path, p.digest, p.vocab, p.block_size, p.max_len, p.words["train"])


def train_run(p: Prepared, run_dir: Path, ckpt: dict | None, *, device: torch.device, quiet: bool = False,
              max_seconds: float | None = None, stop_after: int | None = None) -> int:
    """Train (or resume) ``p`` into ``run_dir``; Ctrl-C, SIGTERM and ``max_seconds`` stop resumably."""
    r = p.recipe
    history = History(**ckpt["history"]) if ckpt else History()
    step = len(history.step_loss)
    if r.steps - step <= 0:
        print(f"{run_dir} is already finished ({step} steps); see {run_dir / METRICS}")
        return 0
    interrupted = {"signal": None}
    t_start = time.perf_counter()

    def on_signal(signum, _frame):
        interrupted["signal"] = signum

    def stop() -> bool:
        if stop_after is not None and len(history.step_loss) - step >= stop_after:
            interrupted["signal"] = "stop-after"
        if max_seconds is not None and time.perf_counter() - t_start >= max_seconds:
            interrupted["signal"] = interrupted["signal"] or "time"
        return interrupted["signal"] is not None

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        def announce(model):
            print(f"training {r.type} ({n_params(model):,} parameters) on {len(p.words['train']):,} items of "
                  f"{p.path}: steps {step + 1}–{r.steps}", flush=True)

        model, history, state = fit(p, device=device, progress=not quiet, history=history, state=ckpt, stop=stop,
                                    announce=announce)
        done = len(history.step_loss)
        finished = done >= r.steps
        test = evaluate(p.spec.trainable(model), *p.data["test"], device=device) if finished else None
        dev = history.dev_loss[-1] if history.dev_loss else None
        checkpoint.save(run_dir, _header(p) | state | {"step": done, "finished": finished, "history": vars(history)})
        checkpoint.write_json(run_dir / METRICS, metrics(p, model, history, done, finished, dev, test))
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    if finished:
        print(f"{r.type}: dev {dev:.4f} · test {test:.4f} nats per character after {done} steps "
              f"({history.seconds:.1f} s); saved {run_dir}")
        return 0
    why = f"--max-seconds {max_seconds:g} reached" if interrupted["signal"] == "time" else "interrupted"
    print(f"sequentia: {why} at step {done} of {r.steps}; checkpoint saved; continue with "
          f"`sequentia train -o {run_dir} --resume`", file=sys.stderr)
    return 0 if interrupted["signal"] == "time" else 130
