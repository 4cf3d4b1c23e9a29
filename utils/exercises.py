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


@register("01.1", hint="N_train counts the training names only: compare it with 0 and count the True values")
def _never_seen_in_train(answer, *, N_train):
    return close(answer, int((N_train == 0).sum()))


@register("01.2", hint="'.anna.' has 5 bigrams; average -log P over them")
def _anna(answer, *, P, vocab):
    ids = [0] + vocab.encode("anna") + [0]
    expected = -sum(math.log(P[a, b].item()) for a, b in pairwise(ids)) / (len(ids) - 1)
    return close(answer, expected, atol=1e-4)  # the unsmoothed table's answer is 8e-4 away


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


def _interpolation(counts: torch.Tensor, lam: float) -> torch.Tensor:
    """λ · (row-normalised counts) + (1 − λ) · (how often each token is the next one overall), in float64."""
    c = counts.detach().double().cpu()
    unigram = c.sum(0) / c.sum()  # (V,) the column sums: how often each token is the *next* one
    return lam * c / c.sum(1, keepdim=True) + (1 - lam) * unigram


@register("01.4", hint="P_λ = λ · counts / (row sums) + (1 − λ) · u, where u = column sums / total; "
                       "return a (V, V) tensor whose rows sum to 1")
def _interpolated(answer, *, N_train):
    V = N_train.shape[0]
    made_up = torch.randint(0, 6, (V, V), generator=torch.Generator().manual_seed(5))
    made_up[:, 1] += 1  # no empty row; row sums differ from column sums here, unlike in a list of names
    for counts in (N_train, made_up):
        for lam in (0.0, 0.5, 0.9, 1.0):
            if not close(_attempted(answer(counts.clone(), lam)), _interpolation(counts, lam), atol=1e-5):
                return False
    return True


# --------------------------------------------------------------------------------------------
# 02 — the neural bigram


@register("02.1", hint="equal rows mean one distribution after every character; the best one is how often "
                       "each token is the next one overall (the column sums of N)")
def _input_blind(answer, *, N):
    c = N.detach().double().cpu().sum(0)  # (V,) how often each token is the target
    c = c[c > 0]
    return close(answer, float(-(c * (c / c.sum()).log()).sum() / c.sum()), atol=1e-3)


@register("02.2", hint="keep the examples whose input is the boundary (index 0) and pass their logits W[x] "
                       "and their targets to F.cross_entropy")
def _first_letter(answer, *, W, N):
    logp = torch.log_softmax(W.detach().double().cpu()[0], dim=0)  # (V,) the row of input 0
    n0 = N.detach().double().cpu()[0]  # (V,) the first letters, counted
    return close(answer, float(-(n0 * logp).sum() / n0.sum()), atol=1e-4)


@register("02.3", hint="the absolute difference of the two (V, V) tables, its largest entry, and the two "
                       "characters of its row and column, as one string")
def _most_smoothed_bigram(answer, *, P_nn, P1, vocab):
    diff = (P_nn.detach().cpu() - P1.cpu()).abs()  # (V, V)
    i, j = divmod(int(diff.argmax()), diff.shape[1])
    return isinstance(answer, str) and answer == vocab.itos[i] + vocab.itos[j]


def _count_loss_grad(W: torch.Tensor, N: torch.Tensor, lam: float) -> torch.Tensor:
    """Autograd's gradient of the count loss + lam · mean(W²), worked out here, not in the notebook."""
    W = W.detach().double().cpu().requires_grad_()
    Nd = N.detach().double().cpu()
    with torch.enable_grad():
        loss = -(Nd * torch.log_softmax(W, dim=1)).sum() / Nd.sum() + lam * (W**2).mean()
        loss.backward()
    return W.grad


@register("02.4", hint="per example p − onehot(y); the examples with input i add up to "
                       "(row sum of N) · softmax(W)[i] − N[i]; divide by n, and the penalty adds 2λW / W.numel()")
def _hand_gradient(answer, *, W, N):
    g = torch.Generator().manual_seed(11)
    V = N.shape[0]
    made_up = (torch.randn(V, V, generator=g), torch.randint(0, 9, (V, V), generator=g).float())
    for W_, N_ in ((W, N), made_up):
        for lam in (0.0, 0.1):
            with torch.no_grad():  # written by hand: autograd is switched off while it runs
                got = _attempted(answer(W_.detach().clone(), N_.detach().clone(), lam))
            if not close(got, _count_loss_grad(W_, N_, lam), atol=1e-6):
                return False
    return True


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


@register("03.2", hint="logits = h @ W2 + b2: make every logit (almost) the same number, and give (W2, b2)")
def _first_loss(answer, *, C, W1, b1, X, Y):
    W2, b2 = answer  # the learner's output layer; the loss is worked out here, from the naive hidden layer
    W2, b2 = torch.as_tensor(W2).detach().double().cpu(), torch.as_tensor(b2).detach().double().cpu()
    V = C.shape[0]
    if W2.shape != (W1.shape[1], V) or b2.shape != (V,):
        return False
    X = X.cpu()
    h = torch.tanh(C.detach().double().cpu()[X].view(len(X), -1) @ W1.detach().double().cpu() + b1.detach().double().cpu())
    loss = torch.nn.functional.cross_entropy(h @ W2 + b2, Y.cpu())
    return abs(loss.item() - math.log(V)) < 0.01


def _window_loss(model, words, vocab, block_size) -> float:
    """The mean NLL of ``model`` (windows ``(B, k)`` → logits) on the context windows of ``words``."""
    from utils.data import context_windows

    X, Y = context_windows(words, vocab, block_size)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(X.to(device)).double(), Y.to(device))
    model.train(was_training)
    return float(loss)


@register("03.3", hint="answer = (model, block_size): the check scores your model on the dev words itself; "
          "it must beat the final model's dev loss by at least 0.005. Try block_size 4 or 5")
def _beat_dev(answer, *, dev_words, vocab, dev_final):
    model, block_size = answer
    if not isinstance(model, torch.nn.Module) or isinstance(block_size, bool) or not isinstance(block_size, int):
        return False
    return _window_loss(model, dev_words, vocab, block_size) < dev_final - 0.005


def _one_name_nll(answer, model, name, vocab, block_size, device) -> bool:
    from utils.data import context_windows

    X, Y = context_windows([name], vocab, block_size)  # (L + 1, k), (L + 1,): the end token included
    with torch.no_grad():
        expected = torch.nn.functional.cross_entropy(model(X.to(device)).double(), Y.to(device)).item()
    got = _attempted(answer(model, name))
    got = got.item() if isinstance(got, torch.Tensor) else got
    return isinstance(got, int | float) and not isinstance(got, bool) and close(float(got), expected, atol=1e-4)


@register("03.4", hint="build the windows of [name] (end token included), take the model's logits, "
          "and average -log p of each target: F.cross_entropy does all three")
def _name_nll(answer, *, model, vocab, block_size, words):
    device = next(model.parameters()).device
    names = [*words[:3], words[0][:1], (words[1] + words[2])[::-1]]  # three of the list, and two made up
    was_training = model.training
    model.eval()
    try:
        return all(_one_name_nll(answer, model, name, vocab, block_size, device) for name in names)
    finally:
        model.train(was_training)


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


def _bn_net(seed: int) -> tuple[torch.nn.Sequential, torch.Tensor]:
    """04.4's held-back case: a 3-level tanh MLP with BatchNorm (γ, β and running estimates far from
    the data's) and 600 inputs, drawn from ``seed``; the learner never sees either."""
    g = torch.Generator().manual_seed(seed)
    layers, fan_in = [], 6
    for _ in range(3):
        layers += [torch.nn.Linear(fan_in, 16), torch.nn.BatchNorm1d(16), torch.nn.Tanh()]
        fan_in = 16
    net = torch.nn.Sequential(*layers, torch.nn.Linear(16, 4))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.7 + 0.3)
        for m in net:
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.fill_(5.0)
                m.running_var.fill_(9.0)
    return net, torch.randn(600, 6, generator=g) * 2 + 1


@register("04.4", hint="layer by layer, in evaluation mode, over the whole X: at each BatchNorm set its estimates "
                       "from its own input (biased variance) before applying it, so later layers see calibrated inputs")
def _calibrate(answer):
    net, X = _bn_net(404)
    ours = _bn_net(404)[0]
    with torch.no_grad():  # the calibration worked out here: layer by layer, biased variance
        x = X
        ours.eval()
        for m in ours:
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.copy_(x.mean(0))
                m.running_var.copy_(x.var(0, unbiased=False))
            x = m(x)
    before = [b.clone() for b in net.buffers()]
    _attempted(answer)(net, X.clone())
    bns = [(m, o) for m, o in zip(net, ours, strict=True) if isinstance(m, torch.nn.BatchNorm1d)]
    if all(torch.equal(a, b) for a, b in zip(before, net.buffers(), strict=False)):
        raise NotAttempted  # nothing was set: the function has not been written yet
    return all(torch.allclose(m.running_mean, o.running_mean, atol=1e-5)
               and torch.allclose(m.running_var, o.running_var, atol=1e-5) for m, o in bns)


# --------------------------------------------------------------------------------------------
# 05 — RNN and GRU


@register("05.1", hint="slice the positions t ≥ 3 of Y_dev (Y_dev[:, 3:]) and count the entries that are not IGNORE_INDEX")
def _longer_than_window(answer, *, dev_words):
    return close(answer, sum(max(0, len(w) + 1 - 3) for w in dev_words))


@register("05.2", hint="each step back multiplies the gradient by diag(1 - h²) W_hᵀ ≈ 0.5 I")
def _vanishing(answer):
    return close(answer, 0.5**10, atol=1e-6, rtol=1e-3)


@register("05.3", hint="with W_h = 0 and zero inputs, h_t = z ⊙ h_{t-1} + (1 − z) ⊙ n with z = σ(1 + 1) and n "
          "independent of h: what does one step do to the gradient?")
def _leaky_highway(answer):
    z = 1 / (1 + math.exp(-2.0))
    return close(answer, z**10, atol=1e-6, rtol=1e-3)


@register("05.4", hint="per-position losses with reduction='none', then a masked mean over the words, column by "
          "column: sum over rows of loss·mask divided by the sum of the mask")
def _loss_by_position(answer, *, model, X, Y):
    from utils.data import IGNORE_INDEX

    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(X.to(device)).double().cpu()  # (B, T, V)
    T = 8
    Yc = Y[:, :T].cpu()
    logp = torch.log_softmax(logits[:, :T], dim=-1)  # (B, 8, V)
    real = Yc != IGNORE_INDEX  # (B, 8)
    nll = -logp.gather(-1, Yc.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # (B, 8)
    expected = (nll * real).sum(0) / real.sum(0)  # (8,): mean over the words with a real target at t
    got = torch.as_tensor(_attempted(answer(model, X, Y)))
    return close(got[:T] if got.ndim == 1 else got, expected, atol=1e-4)  # positions past 7 are not checked


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


def _windowed_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, w: int) -> torch.Tensor:
    """Scaled dot-product attention in which position t sees the positions s with 0 <= t - s < w, in float64."""
    q, k, v = (z.double() for z in (q, k, v))
    T, d = q.shape[-2], q.shape[-1]
    lag = torch.arange(T)[:, None] - torch.arange(T)[None, :]  # (T, T): t - s
    allowed = (lag >= 0) & (lag < w)
    scores = (q @ k.transpose(-2, -1) / math.sqrt(d)).masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


@register("06.4", hint="allowed[t, s] = (0 <= t - s < w); scores q·kᵀ/√d, -inf where not allowed, softmax over "
                       "the keys (the last dimension), times v; return the outputs only, not the weights")
def _local_attention(answer):
    g = torch.Generator().manual_seed(64)
    for shape in ((2, 3, 7, 4), (9, 8)):  # (batch, heads, T, d) and a bare (T, d)
        q, k, v = (torch.randn(shape, generator=g) for _ in range(3))
        for w in (1, 3, shape[-2], shape[-2] + 5):  # one position, a window, the whole past, more than it
            out = _attempted(answer(q.clone(), k.clone(), v.clone(), w))
            if not close(out, _windowed_attention(q, k, v, w), atol=1e-5):
                return False
    return True
