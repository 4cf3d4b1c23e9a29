"""Checks for the exercises that end each notebook, with the answers kept out of the notebooks.

Introduced in ``01_bigram_counting``. Every exercise is registered here under a key
``"NN.k"`` (notebook ``NN``, exercise ``k``) with a *checker*: a function that receives the learner's
answer and, as keyword arguments, the objects of the notebook it needs to work out the right answer
itself (the count table, the trained weights, a model class ...). A learner's cell therefore reads

    answer = ...  # your code here
    check("01.1", answer, N=N)

and neither its source nor its output holds the expected value: :func:`check` prints ✅ correct,
❌ not yet (with the learner's own answer and a hint, never the expected value) or ⏳ not attempted
while the answer is still ``...``. Each worked solution sits in a collapsed cell that runs the same
check (``assert check(...)``), so CI proves every solution passes.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import torch


class NotAttempted(Exception):
    """Raised by a checker when the answer is still the placeholder (e.g. a function returning ``...``)."""


@dataclass(frozen=True)
class Exercise:
    key: str  # "NN.k"
    label: str  # what the verdict line calls it, e.g. "Exercise 1"
    checker: Callable[..., bool]  # checker(answer, **state) -> bool
    hint: str

    @property
    def needs(self) -> tuple[str, ...]:
        """The names of the notebook objects the checker must be given (its keyword-only parameters)."""
        params = inspect.signature(self.checker).parameters.values()
        return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


EXERCISES: dict[str, Exercise] = {}


def register(key: str, hint: str = "", label: str | None = None):
    """Decorator: register ``checker(answer, *, state...) -> bool`` as exercise ``key`` ("NN.k")."""
    notebook, _, number = key.partition(".")
    if not (len(notebook) == 2 and notebook.isdigit() and number.isdigit()):
        raise ValueError(f"an exercise key is 'NN.k' (notebook, exercise), not {key!r}")

    def decorate(checker: Callable[..., bool]) -> Callable[..., bool]:
        if key in EXERCISES:
            raise ValueError(f"exercise {key} is registered twice")
        EXERCISES[key] = Exercise(key, label or f"Exercise {number}", checker, hint)
        return checker

    return decorate


def close(answer: Any, expected: Any, atol: float = 1e-4, rtol: float = 0.0) -> bool:
    """``answer`` equals ``expected`` within ``atol + rtol·|expected|``: numbers, tensors (same shape), or ``==``."""
    if isinstance(expected, torch.Tensor) or isinstance(answer, torch.Tensor):
        a = torch.as_tensor(answer, dtype=torch.float64).cpu()
        e = torch.as_tensor(expected, dtype=torch.float64).cpu()
        return a.shape == e.shape and bool(torch.allclose(a, e, atol=atol, rtol=rtol))
    if isinstance(expected, float) or (isinstance(answer, float) and isinstance(expected, int)):
        return isinstance(answer, int | float) and not isinstance(answer, bool) \
            and abs(answer - expected) <= atol + rtol * abs(expected)
    return answer == expected


def _show(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if callable(value):
        return f"the function {getattr(value, '__name__', 'given')}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Verdict:
    """The result of :func:`check`: true only for a correct answer, and silent as a cell's last value.

    It behaves as a bool (``assert check(...)``, ``if check(...)``) but displays nothing in Jupyter,
    so a learner's cell that ends with ``check(...)`` shows the verdict line only.
    """

    def __init__(self, ok: bool):
        self.ok = bool(ok)

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"Verdict({self.ok})"

    def _ipython_display_(self) -> None:
        pass


def check(key: str, answer: Any, /, **state: Any) -> Verdict:
    """Print whether ``answer`` is right for exercise ``key``; the :class:`Verdict` is true only if it is.

    ``state`` holds the notebook objects the exercise's checker needs (``Exercise.needs``); a missing
    or unexpected one is the author's mistake and raises ``TypeError``. An answer of ``...`` or
    ``None`` counts as not attempted. A wrong answer prints the learner's value and the hint, never
    the expected value.
    """
    if key not in EXERCISES:
        raise KeyError(f"no exercise {key!r} is registered in utils/exercises.py")
    ex = EXERCISES[key]
    if set(state) != set(ex.needs):
        raise TypeError(f"check({key!r}, answer, ...) needs the keyword arguments {sorted(ex.needs)}, "
                        f"got {sorted(state)}")
    not_attempted = f"⏳ {ex.label}: not attempted yet. Replace the `...` with your answer and run the cell again."
    if answer is ... or answer is None:
        print(not_attempted)
        return Verdict(False)
    hint = ex.hint
    try:
        ok = bool(ex.checker(answer, **state))
    except NotAttempted:
        print(not_attempted)
        return Verdict(False)
    except Exception as err:  # a learner's answer of the wrong kind is a wrong answer, not a crash
        ok = False
        hint = f"checking it raised {type(err).__name__}: {str(err)[:120]}. {hint}".strip()
    if ok:
        print(f"✅ {ex.label}: correct.")
    else:
        print(f"❌ {ex.label}: not yet (got {_show(answer)}).{' Hint: ' + hint if hint else ''}")
    return Verdict(ok)


def _attempted(value: Any) -> Any:
    """A learner's function that still returns the placeholder has not been written yet."""
    if value is ... or value is None:
        raise NotAttempted
    return value


# --------------------------------------------------------------------------------------------
# 01 — counting bigrams


@register("01.1", hint="compare N with 0 and count the True values")
def _never_seen(answer, *, N):
    return close(answer, int((N == 0).sum()))


@register("01.2", hint="'.anna.' has 5 bigrams; average -log P over them")
def _anna(answer, *, P, vocab):
    ids = [0] + vocab.encode("anna") + [0]
    expected = -sum(math.log(P[a, b].item()) for a, b in pairwise(ids)) / (len(ids) - 1)
    return close(answer, expected, atol=1e-3)


def _greedy(table) -> list[int]:
    out, ix = [], 0
    for _ in range(len(table) * 10):  # a greedy walk that never returns to 0 is cut off
        ix = int(table[ix].argmax())
        if ix == 0:
            break
        out.append(ix)
    return out


@register("01.3", hint="loop: ix = table[ix].argmax().item(), stop when ix == 0")
def _greedy_name(answer, *, P0, vocab):
    V = len(vocab)
    made_up = torch.full((V, V), 0.01)
    z, o = vocab.stoi["z"], vocab.stoi["o"]
    made_up[0, z] = made_up[z, o] = made_up[o, 0] = 1.0
    made_up = made_up / made_up.sum(1, keepdim=True)
    return all(_attempted(answer(table)) == vocab.decode(_greedy(table)) for table in (P0, made_up))


# --------------------------------------------------------------------------------------------
# 02 — the neural bigram


def _count_loss(W, N) -> float:
    """The whole-set NLL of logits ``W`` on the bigram counts ``N``, in float64."""
    logp = torch.log_softmax(W.detach().double().cpu(), dim=1)
    Nd = N.detach().double().cpu()
    return float(-(Nd * logp).sum() / Nd.sum())


@register("02.1", hint="equal logits mean a uniform distribution over all the tokens")
def _zero_weights(answer, *, N):
    return close(answer, _count_loss(torch.zeros(N.shape), N), atol=1e-3)


@register("02.2", hint="F.cross_entropy takes the logits of every example (one row of W per input) and the targets")
def _cross_entropy(answer, *, W, N):
    return close(answer, _count_loss(W, N), atol=1e-4)


@register("02.3", hint="one maximum per row (max over dim 1), then the row where it is largest, as a character")
def _most_smoothed_row(answer, *, P_nn, P1, vocab):
    per_row = (P_nn.detach().cpu() - P1.cpu()).abs().max(dim=1).values
    return answer == vocab.itos[int(per_row.argmax())]


# --------------------------------------------------------------------------------------------
# 03 — the MLP


@register("03.1", hint="C is V×d; count the numbers of W1, b1, W2 and b2 from their shapes")
def _count_params(answer, *, MLP):
    from utils.device import make_generator

    for cfg in [(27, 5, 16, 128), (27, 3, 12, 300), (27, 3, 2, 100), (40, 8, 24, 512)]:
        real = sum(p.numel() for p in MLP(*cfg, generator=make_generator()).parameters())
        if _attempted(answer(*cfg)) != real:
            return False
    return True


@register("03.2", hint="a model that knows nothing should output (almost) equal logits for every token")
def _first_loss(answer, *, V):
    return close(answer, math.log(V), atol=0.01)


@register("03.3", hint="beat the final model's dev loss, `dev_final`; try block_size 4 or 5")
def _beat_dev(answer, *, dev_final):
    return isinstance(answer, int | float) and answer < dev_final


# --------------------------------------------------------------------------------------------
# 04 — training deeper networks


@register("04.1", hint="relu passes the gradient where its input was > 0; through x @ W it is multiplied by Wᵀ")
def _relu_backward(answer, *, x, W, dy):
    x = x.detach().clone().requires_grad_()
    (torch.relu(x @ W) * dy).sum().backward()  # autograd's gradient, worked out here, not in the notebook
    return close(answer, x.grad, atol=1e-6)


@register("04.2", hint="v starts at zero: v ← α·v + (1 − α)·g², then p ← p − lr·g/(√v + ε); no bias correction")
def _rmsprop(answer, *, p0, grads):
    p = p0.detach().clone().requires_grad_()
    opt = torch.optim.RMSprop([p], lr=0.01, alpha=0.99, eps=1e-8)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    return close(answer, p.detach(), atol=1e-6)


@register("04.3", hint="bn(z) = γ (z − mean) / √(var + eps) + β, per column of z: a scale and a shift per column")
def _fold_batchnorm(answer, *, W, bn):
    W_fold, b_fold = answer
    x = torch.randn(10, W.shape[0], generator=torch.Generator().manual_seed(7))  # any inputs will do
    with torch.no_grad():
        return torch.allclose(x @ W_fold + b_fold, bn.eval()(x @ W), atol=1e-5)


# --------------------------------------------------------------------------------------------
# 05 — RNN and GRU


@register("05.1", hint="count the entries of Y_dev that are not IGNORE_INDEX")
def _dev_targets(answer, *, dev_words):
    return close(answer, sum(len(w) + 1 for w in dev_words))


@register("05.2", hint="each step back multiplies the gradient by diag(1 - h²) W_hᵀ ≈ 0.5 I")
def _vanishing(answer):
    return close(answer, 0.5**10, atol=1e-6, rtol=1e-3)


@register("05.3", hint="with z = 1 the step is h_t = h_{t-1}: what is its Jacobian?")
def _highway(answer):
    return close(answer, 1.0, atol=1e-3)


# --------------------------------------------------------------------------------------------
# 06 — the Transformer


@register("06.1", hint="scores[t, s] = (s - t) * ln 2, then mask the future with -inf and take a softmax over each row")
def _fading_weights(answer):
    t = torch.arange(5, dtype=torch.float64)
    w = torch.tril(0.5 ** (t[:, None] - t[None, :]))
    return close(answer, w / w.sum(1, keepdim=True))


@register("06.2", hint="a Linear(a, b) holds a·b + b numbers and a LayerNorm(C) holds 2C; the MLP alone is 8C² + 5C")
def _block_params(answer, *, block):
    return close(answer, sum(p.numel() for p in block.parameters()))


@register("06.3", hint="sort descending, cumsum, keep while the sum *before* a character is still below p, renormalise")
def _top_p(answer, *, probs):
    probs = probs.detach().cpu()
    order = probs.argsort(descending=True)
    for p in (0.3, 0.9, 1.0):
        q = _attempted(answer(probs, p))
        m = int((probs[order].cumsum(0) < p - 1e-6).sum()) + 1  # how many characters must be kept
        kept = torch.zeros_like(probs, dtype=torch.bool)
        kept[order[:m]] = True
        if not (q.shape == probs.shape and torch.allclose(q.sum(), torch.tensor(1.0)) and (q[~kept] == 0).all()
                and torch.allclose(q[kept], probs[kept] / probs[kept].sum())):
            return False
    return True
