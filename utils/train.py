"""The training loop, packaged once ``03_mlp`` has written it out by hand; reused by 04–06.

One loop for every model of the course: a model maps a batch of inputs ``X`` to logits, either
``(B, V)`` for one next character (the MLP) or ``(B, T, V)`` for every position of a sequence
(recurrent and attention models); :func:`lm_loss` flattens both to the same cross-entropy, skipping
targets equal to :data:`utils.data.IGNORE_INDEX`.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from tqdm import tqdm

from .data import IGNORE_INDEX
from .device import check_cpu
from .muon import muon_adamw
from .recipes import Recipe


def lm_loss(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy in nats per character; ``logits`` ``(..., V)``, ``targets`` of the leading shape."""
    if logits.shape[:-1] != targets.shape:
        raise ValueError(
            f"logits {tuple(logits.shape)} and targets {tuple(targets.shape)} do not match: "
            "targets must have the shape of logits without its last (vocabulary) dimension."
        )
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX, reduction=reduction
    )


def _check_data(X: torch.Tensor, Y: torch.Tensor) -> None:
    if X.shape[0] != Y.shape[0] or X.shape[0] == 0:
        raise ValueError(f"X and Y must hold the same, non-zero number of examples, got {X.shape[0]} and {Y.shape[0]}.")


def warmup_cosine(peak: float, warmup: int, total: int, floor: float) -> Callable[[int], float]:
    """The learning rate of each step: linear warmup to ``peak``, cosine decay to ``floor · peak``.

    The course's schedule: ``03_mlp`` (no warmup, floor 0.05), ``05_rnn_gru`` (no warmup, floor 0.1)
    and ``06_transformer`` (warmup 200, floor 0.02) use it with their recipes' settings
    (``schedule="cosine"``).
    """

    def lr(step: int) -> float:
        if step < warmup:
            return peak * (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))

    return lr


def ramped_cosine(peak: float, warmup: int, total: int, floor: float) -> Callable[[int], float]:
    """``04_training_dynamics``'s schedule: the cosine from ``peak`` to ``floor · peak`` over all ``total``
    steps, multiplied by a linear ramp from 0 to 1 over the first ``warmup`` (``schedule="ramped-cosine"``).

    It differs from :func:`warmup_cosine` only in where the cosine starts: at step 0 rather than at
    the end of the warmup.
    """

    def lr(step: int) -> float:
        warm = min(1.0, (step + 1) / warmup) if warmup else 1.0
        return peak * warm * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * step / total)))

    return lr


def lr_schedule(recipe: Recipe) -> Callable[[int], float]:
    """The learning rate of each step of ``recipe`` (its ``schedule``, ``lr``, ``warmup``, ``steps``, ``floor``)."""
    r = recipe
    if r.schedule == "cosine":
        return warmup_cosine(r.lr, r.warmup, r.steps, r.floor)
    if r.schedule == "ramped-cosine":
        return ramped_cosine(r.lr, r.warmup, r.steps, r.floor)
    if r.schedule == "step":  # 06's bag of words: lr for the first half of the steps, lr · floor after
        half, lr, low = r.steps // 2, r.lr, r.lr * r.floor
        return lambda step: lr if step < half else low
    raise ValueError(f"unknown schedule {r.schedule!r}: use 'cosine', 'ramped-cosine' or 'step'.")


def make_optimizer(recipe: Recipe, model: torch.nn.Module) -> torch.optim.Optimizer:
    """The optimiser of ``recipe`` over ``model``'s parameters.

    ``"sgd"``: plain SGD (``03_mlp``); ``"adamw"``: AdamW on every parameter with the recipe's weight
    decay (05, the bag of words); ``"adamw-matrices"``: the course's decay policy (04's WaveNet-style
    model, ``06_transformer``), weight decay on the matrices only (not on biases or normalisation gains
    and offsets), betas (0.9, 0.99), the fused update;
    ``"muon"``: Muon (``momentum``, ``ns_steps``) on the hidden matrices and that AdamW on the rest
    (:func:`utils.muon.muon_adamw`).
    """
    r = recipe
    if r.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=r.lr)
    if r.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=r.lr, weight_decay=r.weight_decay)
    if r.optimizer == "adamw-matrices":
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": r.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=r.lr, betas=(0.9, 0.99), fused=True)
    if r.optimizer == "muon":
        return muon_adamw(model, r.lr, r.weight_decay, momentum=r.momentum, ns_steps=r.ns_steps)
    raise ValueError(f"unknown optimizer {r.optimizer!r}: use 'sgd', 'adamw', 'adamw-matrices' or 'muon'.")


def make_sampler(recipe: Recipe, n: int) -> Callable[[int], torch.Tensor] | None:
    """What :func:`train` takes as ``sampler`` for ``n`` training examples (None: batches drawn at random)."""
    if recipe.sampling == "random":
        return None
    if recipe.sampling == "passes":
        return ShuffledPasses(n, recipe.batch, recipe.seed)
    raise ValueError(f"unknown sampling {recipe.sampling!r}: use 'random' or 'passes'.")


class ShuffledPasses:
    """Batches that walk through the data in shuffled passes, so every example is seen once per pass.

    ``train(..., sampler=ShuffledPasses(n, batch_size, seed))``. Pass ``e`` visits the ``n`` examples in
    the order ``torch.randperm(n)`` drawn from a generator seeded with ``seed + e``, ``batch_size`` at a
    time; the ``n mod batch_size`` examples left at the end of an order wait for a later pass. Step ``s``
    is batch ``s mod k`` of pass ``s // k`` (``k = n // batch_size``), so a step's batch follows from the
    step alone and a resumed run draws exactly the batches of an uninterrupted one.
    ``06_transformer`` writes it by hand first.
    """

    def __init__(self, n: int, batch_size: int, seed: int):
        for name, value in (("n", n), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if batch_size > n:
            raise ValueError(f"a batch of {batch_size} does not fit {n} examples: lower the batch size.")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.per_pass = n // batch_size
        self._pass, self._order = -1, torch.empty(0, dtype=torch.long)

    def __call__(self, step: int) -> torch.Tensor:
        e, k = divmod(step, self.per_pass)
        if e != self._pass:
            self._pass, self._order = e, torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed + e))
        return self._order[k * self.batch_size : (k + 1) * self.batch_size]

    def __repr__(self) -> str:
        return f"ShuffledPasses(n={self.n}, batch_size={self.batch_size}, seed={self.seed})"


@torch.no_grad()
def evaluate(
    model: Callable[[torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    Y: torch.Tensor,
    *,
    batch_size: int = 4096,
    device: torch.device | str | None = None,
) -> float:
    """Mean loss in nats per (non-ignored) target character over the whole of ``X, Y``.

    Puts an ``nn.Module`` in eval mode (no dropout) for the duration and restores its mode after.
    """
    _check_data(X, Y)
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    try:
        total, count = 0.0, 0
        for i in range(0, X.shape[0], batch_size):
            xb, yb = X[i : i + batch_size].to(device or "cpu"), Y[i : i + batch_size].to(device or "cpu")
            total += lm_loss(model(xb), yb, reduction="sum").item()
            count += int((yb != IGNORE_INDEX).sum())
    finally:
        if was_training:
            model.train()
    return total / count


@dataclass
class History:
    """What :func:`train` saw: the loss of every step, the learning rate, and periodic dev losses."""

    step_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    dev_steps: list[int] = field(default_factory=list)
    dev_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def smoothed(self, window: int = 100) -> torch.Tensor:
        """The step losses averaged over consecutive blocks of ``window`` steps (a partial block dropped)."""
        n = len(self.step_loss) // window * window
        if n == 0:
            return torch.tensor(self.step_loss)
        return torch.tensor(self.step_loss[:n]).view(-1, window).mean(1)


def train(
    model: torch.nn.Module,
    X: torch.Tensor,
    Y: torch.Tensor,
    *,
    optimizer: torch.optim.Optimizer,
    steps: int,
    generator: torch.Generator,
    batch_size: int = 32,
    lr_schedule: Callable[[int], float] | None = None,
    dev: tuple[torch.Tensor, torch.Tensor] | None = None,
    eval_every: int = 1000,
    grad_clip: float | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    history: History | None = None,
    batch_fn: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None,
    stop: Callable[[], bool] | None = None,
    sampler: Callable[[int], torch.Tensor] | None = None,
) -> History:
    """Minibatch gradient descent: sample a batch, forward, loss, backward, step; repeat ``steps`` times.

    Batches are drawn with ``torch.randint`` from the CPU ``generator`` (as the lectures do) and
    moved to ``device``. ``lr_schedule(step)`` sets the learning rate before each step. With
    ``dev=(X_dev, Y_dev)`` the whole dev split is evaluated every ``eval_every`` steps and at the
    end. Pass an existing ``history`` to continue it: steps (for ``lr_schedule`` and ``eval_every``)
    count on from where it stopped. A progress bar shows the running loss. ``batch_fn(xb, yb)``, if
    given, rearranges each drawn batch before the model sees it (``06_transformer`` packs the words
    into fewer rows with :class:`utils.packing.PackRows`); the batches drawn are the same either way.
    ``stop()``, if given, is asked after every completed step: when it returns True the loop ends
    there (``sequentia train`` stops this way on Ctrl-C, then saves a checkpoint to resume from).
    ``sampler(step)``, if given, returns the indices of each step's examples instead (``06_transformer``
    walks through shuffled passes with :class:`ShuffledPasses`); ``generator`` is then not drawn from.
    """
    check_cpu(generator)
    _check_data(X, Y)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}.")
    for name, value in (("batch_size", batch_size), ("eval_every", eval_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    h = history if history is not None else History()
    start_step = len(h.step_loss)
    t0 = time.perf_counter()
    model.train()
    bar = tqdm(range(steps), file=sys.stdout, mininterval=2.0, disable=not progress, ncols=90)
    for i in bar:
        if lr_schedule is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_schedule(start_step + i)
        if sampler is None:
            ix = torch.randint(0, X.shape[0], (batch_size,), generator=generator)
        else:
            ix = sampler(start_step + i)
        xb, yb = X[ix], Y[ix]
        if batch_fn is not None:
            xb, yb = batch_fn(xb, yb)
        xb, yb = xb.to(device or "cpu"), yb.to(device or "cpu")
        loss = lm_loss(model(xb), yb)
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f"the loss became {value} at step {start_step + i}: lower the learning rate.")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        h.step_loss.append(value)
        h.lr.append(optimizer.param_groups[0]["lr"])
        last = i == steps - 1
        if dev is not None and ((start_step + i + 1) % eval_every == 0 or last):
            h.dev_steps.append(start_step + i + 1)
            h.dev_loss.append(evaluate(model, *dev, device=device))
            model.train()
            bar.set_postfix(loss=f"{value:.3f}", dev=f"{h.dev_loss[-1]:.4f}", refresh=False)
        elif (i + 1) % 100 == 0:
            shown = {"dev": f"{h.dev_loss[-1]:.4f}"} if h.dev_loss else {}  # the latest dev loss stays in view
            bar.set_postfix(loss=f"{value:.3f}", **shown, refresh=False)  # shown at the next refresh (mininterval)
        if stop is not None and not last and stop():
            break
    bar.close()
    h.seconds += time.perf_counter() - t0
    return h
