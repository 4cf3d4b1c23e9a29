"""utils/exercises.py: the registry of exercise checks; a wrong answer never prints the expected value."""

import math

import pytest
import torch

from utils.data import Vocab
from utils.exercises import EXERCISES, NotAttempted, check, close, register

VOCAB = Vocab.from_words(["anna", "bob", "zoe"])


def _counts():
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 5, (len(VOCAB), len(VOCAB)), generator=g)


@pytest.mark.parametrize("answer", [..., None], ids=["ellipsis", "none"])
def test_not_attempted(capsys, answer):
    assert not check("05.2", answer)
    assert "⏳ Exercise 2: not attempted yet" in capsys.readouterr().out


def test_a_function_that_returns_the_placeholder_is_not_attempted(capsys):
    def greedy_name(table):
        ...

    assert not check("01.3", greedy_name, P0=torch.eye(len(VOCAB)), vocab=VOCAB)
    assert "⏳ Exercise 3: not attempted yet" in capsys.readouterr().out


def test_correct_and_wrong_numbers_never_print_the_expected_value(capsys):
    N = _counts()
    expected = int((N == 0).sum())
    assert check("01.1", expected, N_train=N)
    assert "✅ Exercise 1: correct." in capsys.readouterr().out
    assert not check("01.1", expected + 1, N_train=N)
    out = capsys.readouterr().out
    assert f"❌ Exercise 1: not yet (got {expected + 1}). Hint: N_train counts the training names" in out
    assert f"{expected})" not in out.replace(f"got {expected + 1})", "")


@pytest.mark.parametrize("key, right, wrong", [
    ("05.2", 0.5**10, 0.5**9),
    ("05.3", (1 / (1 + math.exp(-2))) ** 10, 1.0),  # 1.0: the z ≈ 1 highway that section 3 states
])
def test_constant_answers_are_kept_in_the_registry(capsys, key, right, wrong):
    assert check(key, right)
    assert not check(key, wrong)
    out = capsys.readouterr().out
    for text in (repr(right), f"{right:.4f}", f"{right:.3e}"):
        assert text not in out, (text, out)


def test_answers_computed_from_the_notebooks_state(capsys):
    N = _counts().float()
    W = torch.randn(len(VOCAB), len(VOCAB), generator=torch.Generator().manual_seed(1))
    u = N.sum(0) / N.sum()
    assert check("02.1", float(-(u * u.log()).sum()), N=N)
    logp = torch.log_softmax(W, 1)
    assert check("02.2", float(-(N[0] * logp[0]).sum() / N[0].sum()), W=W, N=N)
    assert not check("02.2", 0.0, W=W, N=N)
    P_nn, P1 = torch.softmax(W, 1), torch.full(W.shape, 1 / len(VOCAB))
    i, j = divmod(int((P_nn - P1).abs().argmax()), len(VOCAB))
    assert check("02.3", VOCAB.itos[i] + VOCAB.itos[j], P_nn=P_nn, P1=P1, vocab=VOCAB)
    assert check("05.1", 0 + 1, dev_words=["ab", "cde"])  # targets at t ≥ 3: none in "ab.", one in "cde."
    block = torch.nn.Linear(3, 2)
    assert check("06.2", 8, block=block) and not check("06.2", 6, block=block)
    capsys.readouterr()


def test_function_answers():
    P = torch.softmax(torch.randn(len(VOCAB), len(VOCAB), generator=torch.Generator().manual_seed(2)), 1)

    def greedy_name(table):
        out, ix = [], 0
        while (ix := table[ix].argmax().item()) != 0:
            out.append(VOCAB.itos[ix])
        return "".join(out)

    assert check("01.3", greedy_name, P0=P, vocab=VOCAB)
    assert not check("01.3", lambda table: "zo", P0=P, vocab=VOCAB)

    def top_p(probs, p):
        sorted_probs, order = probs.sort(descending=True)
        keep = sorted_probs.cumsum(0) - sorted_probs < p - 1e-6
        out = torch.zeros_like(probs)
        out[order[keep]] = sorted_probs[keep]
        return out / out.sum()

    probs = torch.softmax(torch.randn(27, generator=torch.Generator().manual_seed(3)), 0)
    assert check("06.3", top_p, probs=probs)
    assert not check("06.3", lambda probs, p: probs, probs=probs)


def test_tensors_compare_with_tolerance_and_shape(capsys):
    t = torch.arange(5.0)
    w = torch.tril(0.5 ** (t[:, None] - t[None, :]))
    assert check("06.1", w / w.sum(1, keepdim=True))
    # A different shape is a wrong answer, reported as such (not as a comparison that crashed) ...
    assert not check("06.1", torch.ones(4, 4))
    out = capsys.readouterr().out
    assert "❌ Exercise 1: not yet (got a tensor of shape (4, 4))." in out and "raised" not in out
    assert close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.00001]))
    assert not close(torch.tensor([[1.0, 2.0]]), torch.tensor([1.0, 2.0]))  # (1, 2) is not (2,)


def test_an_answer_that_breaks_the_checker_is_wrong_not_a_crash(capsys):
    assert not check("01.3", lambda table: 1 / 0, P0=torch.eye(len(VOCAB)), vocab=VOCAB)
    assert "raised ZeroDivisionError" in capsys.readouterr().out


def test_the_state_a_checker_needs_is_named_and_required():
    assert EXERCISES["02.2"].needs == ("W", "N")
    with pytest.raises(TypeError, match=r"needs the keyword arguments \['N', 'W'\]"):
        check("02.2", 1.0, W=torch.zeros(2, 2))
    with pytest.raises(KeyError, match="no exercise '09.9'"):
        check("09.9", 1)


def test_register_refuses_bad_and_duplicate_keys():
    with pytest.raises(ValueError, match="'NN.k'"):
        register("1.1")
    with pytest.raises(ValueError, match="twice"):
        register("01.1")(lambda answer: True)


def test_not_attempted_can_be_raised_by_a_checker(capsys):
    key = "99.1"
    try:
        register(key)(lambda answer: (_ for _ in ()).throw(NotAttempted))
        assert not check(key, 1)
        assert "⏳ Exercise 1: not attempted" in capsys.readouterr().out
    finally:
        EXERCISES.pop(key)


def test_verdict_is_silent_in_jupyter(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    verdict = check("05.2", 0.5**10)
    assert bool(verdict) is True and repr(verdict) == "Verdict(True)"
    capsys.readouterr()
    # A real IPython shell, as a notebook cell runs: a cell ending in `check(...)` shows the verdict
    # line only, while the same cell ending in a plain value shows that value (the control).
    shell = InteractiveShell.instance()
    shell.user_ns["check"] = check
    shell.run_cell("check('05.2', 0.5**10)", store_history=True)
    out = capsys.readouterr().out
    assert "✅ Exercise 2: correct." in out and "Verdict" not in out, out
    shell.run_cell("bool(check('05.2', 0.5**10))", store_history=True)
    assert "True" in capsys.readouterr().out, "the control cell must display its value"


def _causal_attention(q, k, v, mask=None):
    """Notebook 06's `attention` (section 2): the plain causal mask unless one is given; outputs only."""
    T = q.shape[-2]
    if mask is None:
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    scores = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _window(T, w, inclusive=False):
    lag = torch.arange(T)[:, None] - torch.arange(T)[None, :]
    return (lag >= 0) & ((lag <= w) if inclusive else (lag < w))


def test_06_checks_reject_zero_wrong_and_leaked_answers(capsys):
    # 06.1: the fading weights; the plain causal average of section 1 (printed there) is wrong
    t = torch.arange(5.0)
    fading = torch.tril(0.5 ** (t[:, None] - t[None, :]))
    plain = torch.tril(torch.ones(5, 5)) / torch.arange(1, 6)[:, None]
    assert check("06.1", fading / fading.sum(1, keepdim=True))
    for wrong in (0, torch.zeros(5, 5), plain, fading, torch.tril(0.5 ** (t[:, None] - t[None, :]) / 2)):
        assert not check("06.1", wrong)
    # 06.2: a block's parameters; 0, the count without biases and the whole model's count are wrong
    block = torch.nn.Sequential(torch.nn.LayerNorm(4), torch.nn.Linear(4, 12), torch.nn.Linear(4, 4),
                                torch.nn.Linear(4, 16), torch.nn.Linear(16, 4), torch.nn.LayerNorm(4))
    right = sum(p.numel() for p in block.parameters())
    assert right == 12 * 4**2 + 13 * 4 and check("06.2", right, block=block)
    for wrong in (0, 12 * 4**2, right + 27 * 4, 2 * right):
        assert not check("06.2", wrong, block=block)
    # 06.3: top-p; 0, the distribution itself (printed nowhere, but the "leak" of doing nothing) and top-k are wrong
    probs = torch.softmax(torch.randn(27, generator=torch.Generator().manual_seed(3)) * 2, 0)

    def top_k3(probs, p):
        kept = torch.zeros_like(probs)
        top = probs.topk(3)
        kept[top.indices] = top.values
        return kept / kept.sum()

    for wrong in (0, lambda probs, p: probs, top_k3):
        assert not check("06.3", wrong, probs=probs)
    # 06.4: attention through a window, checked against the registry's own computation
    assert check("06.4", lambda q, k, v, w: _causal_attention(q, k, v, _window(q.shape[-2], w)))
    wrongs = {
        "zero": 0,
        "the notebook's causal attention, the window ignored (leaked)": lambda q, k, v, w: _causal_attention(q, k, v),
        "its (outputs, weights) pair": lambda q, k, v, w: (_causal_attention(q, k, v, _window(q.shape[-2], w)), None),
        "a window one wider": lambda q, k, v, w: _causal_attention(q, k, v, _window(q.shape[-2], w, inclusive=True)),
        "not scaled by √d": lambda q, k, v, w: _causal_attention(q * math.sqrt(q.shape[-1]), k, v,
                                                                 _window(q.shape[-2], w)),
        "the future inside the window": lambda q, k, v, w: _causal_attention(
            q, k, v, (torch.arange(q.shape[-2])[:, None] - torch.arange(q.shape[-2])[None, :]).abs() < w),
    }
    for name, wrong in wrongs.items():
        assert not check("06.4", wrong), name
    capsys.readouterr()


def test_04_checks_reject_zero_and_plausible_wrong_answers(capsys):
    g = torch.Generator().manual_seed(3)
    x, W, dy = torch.randn(8, 5, generator=g), torch.randn(5, 4, generator=g), torch.randn(8, 4, generator=g)
    right = (dy * (x @ W > 0)) @ W.T
    assert check("04.1", right, x=x, W=W, dy=dy)
    for wrong in (0, dy @ W.T, torch.zeros(8, 5)):  # 0; the relu's mask forgotten
        assert not check("04.1", wrong, x=x, W=W, dy=dy)
    p0, grads = torch.tensor([1.0, -2.0, 0.5]), [torch.tensor([0.1, -0.3, 0.2]), torch.tensor([0.2, 0.1, -0.5])]
    p, v = p0.clone(), torch.zeros(3)
    for gr in grads:
        v = 0.99 * v + 0.01 * gr**2
        p = p - 0.01 * gr / (v.sqrt() + 1e-8)
    assert check("04.2", p, p0=p0, grads=grads)
    p_bc, v = p0.clone(), torch.zeros(3)  # with Adam's bias correction: a plausible mistake
    for k, gr in enumerate(grads, start=1):
        v = 0.99 * v + 0.01 * gr**2
        p_bc = p_bc - 0.01 * gr / ((v / (1 - 0.99**k)).sqrt() + 1e-8)
    for wrong in (0, p0, p_bc):
        assert not check("04.2", wrong, p0=p0, grads=grads)
    bn = torch.nn.BatchNorm1d(4)
    W = torch.randn(5, 4, generator=g)
    bn(torch.randn(16, 5, generator=g) @ W)
    bn.eval()
    s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    with torch.no_grad():
        assert check("04.3", (W * s, bn.bias - s * bn.running_mean), W=W, bn=bn)
        for wrong in (0, (W * s, bn.bias), (W, bn.bias - bn.running_mean)):  # the mean forgotten; no scaling
            assert not check("04.3", wrong, W=W, bn=bn)
    capsys.readouterr()


def test_04_4_calibration_is_checked_on_a_held_back_network(capsys):
    def calibrate(model, X, unbiased=False, at_once=False):
        model.eval()
        x, stats = X, []
        with torch.no_grad():
            for m in model:
                if isinstance(m, torch.nn.BatchNorm1d):
                    stats.append((m, x.mean(0), x.var(0, unbiased=unbiased)))
                    if not at_once:
                        m.running_mean.copy_(stats[-1][1])
                        m.running_var.copy_(stats[-1][2])
                x = m(x)
            for m, mean, var in stats:
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)

    def stub(model, X): ...

    assert check("04.4", calibrate)
    assert not check("04.4", 0)
    assert not check("04.4", lambda m, X: calibrate(m, X, unbiased=True))  # the unbiased variance
    assert not check("04.4", lambda m, X: calibrate(m, X, at_once=True))  # every layer from the old estimates
    assert not check("04.4", stub)
    assert "not attempted" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# 03 and 05: each check accepts the right answer and rejects 0, a plausible wrong answer and the
# values that the notebook prints or states above the exercise.


def _naive_mlp_state(seed=0):
    g = torch.Generator().manual_seed(seed)
    V, d, k, H = len(VOCAB), 4, 3, 20
    C, W1, b1 = torch.randn(V, d, generator=g), torch.randn(k * d, H, generator=g), torch.randn(H, generator=g)
    X, Y = torch.randint(0, V, (64, k), generator=g), torch.randint(0, V, (64,), generator=g)
    W2, b2 = torch.randn(H, V, generator=g) * 5, torch.randn(V, generator=g) * 5  # naive: confidently wrong
    return dict(C=C, W1=W1, b1=b1, X=X, Y=Y), (W2, b2)


def test_03_2_checks_the_output_layer_not_a_number(capsys):
    state, (W2, b2) = _naive_mlp_state()
    assert check("03.2", (W2 * 0.001, b2 * 0.0), **state)
    assert check("03.2", (torch.zeros_like(W2), torch.zeros_like(b2)), **state)
    assert not check("03.2", 0, **state)
    assert not check("03.2", (W2, b2), **state)  # the naive layer, unchanged
    assert not check("03.2", (W2 * 0.001, b2), **state)  # W2 shrunk but the bias left large
    assert not check("03.2", math.log(len(VOCAB)), **state)  # ln V, which the notebook prints
    assert not check("03.2", (W2.T * 0.001, b2 * 0.0), **state)  # the wrong shape
    capsys.readouterr()


class _Windows(torch.nn.Module):
    """A window model for the checks: logits = scale · (one-hot of the window's last token) @ table."""

    def __init__(self, table, scale=1.0):
        super().__init__()
        self.table = torch.nn.Parameter(table.clone())
        self.scale = scale

    def forward(self, X):  # (B, k) -> (B, V)
        return self.scale * self.table[X[:, -1]]


def _bigram_counts(words):
    N = torch.zeros(len(VOCAB), len(VOCAB))
    for w in words:
        ids = [0, *VOCAB.encode(w), 0]
        for a, b in zip(ids, ids[1:], strict=False):
            N[a, b] += 1
    return N


def test_03_3_scores_the_model_on_dev_itself(capsys):
    dev = ["anna", "bob", "zoe"]
    good = _Windows((_bigram_counts(dev) + 0.01).log())  # the dev bigrams themselves: a low dev loss
    final = _Windows(torch.zeros(len(VOCAB), len(VOCAB)))  # stands for the notebook's final model: ln V
    state = dict(dev_words=dev, vocab=VOCAB, dev_final=math.log(len(VOCAB)))
    assert check("03.3", (good, 3), **state)
    assert not check("03.3", 0, **state)
    assert not check("03.3", 1.9, **state)  # a number below dev_final is no longer an answer
    assert not check("03.3", state["dev_final"], **state)  # nor is the printed dev loss itself
    assert not check("03.3", (final, 3), **state)  # the final model does not beat itself
    assert not check("03.3", (_Windows(torch.zeros(len(VOCAB), len(VOCAB)) + 0.001 * good.table.detach()), 3), **state)  # better by < 0.005
    assert not check("03.3", (good, True), **state)  # a block size must be an int
    capsys.readouterr()


def test_03_4_compares_the_function_with_its_own_computation(capsys):
    import torch.nn.functional as F

    from utils.data import context_windows

    model = _Windows(torch.randn(len(VOCAB), len(VOCAB), generator=torch.Generator().manual_seed(4)))
    state = dict(model=model, vocab=VOCAB, block_size=3, words=["anna", "bob", "zoe"])

    def name_nll(model, name):
        X, Y = context_windows([name], VOCAB, 3)
        with torch.no_grad():
            return F.cross_entropy(model(X), Y).item()

    def without_end(model, name):  # forgets the end token
        X, Y = context_windows([name], VOCAB, 3)
        with torch.no_grad():
            return F.cross_entropy(model(X[:-1]), Y[:-1]).item()

    assert check("03.4", name_nll, **state)
    assert not check("03.4", 0, **state)
    assert not check("03.4", without_end, **state)
    assert not check("03.4", lambda model, name: 2.0891, **state)  # the final dev loss, printed above
    capsys.readouterr()


def test_05_1_counts_the_targets_past_the_window(capsys, names):
    from utils.data import split_words

    dev = split_words(names)[1]
    right = sum(len(w) - 2 for w in dev)  # positions t ≥ 3 of each name's len(w) + 1 targets
    assert check("05.1", right, dev_words=dev)
    for wrong in (0, sum(len(w) + 1 for w in dev), len(dev), right + len(dev), right - len(dev)):
        # 0; every target (22,655, printed in section 1); the number of dev words (printed at the top);
        # t ≥ 2 and t ≥ 4, one position off either way
        assert not check("05.1", wrong, dev_words=dev), wrong
    capsys.readouterr()


def test_05_2_and_05_3_reject_the_values_printed_above(capsys):
    for printed in (0, 2.1e-04, 2.1e-03, 8.2e-03, 0.49, 0.5**9):  # the notebook's ratios and factors
        assert not check("05.2", printed), printed
    for printed in (0, 1.0, 2.4e-01, 0.6, 0.88, 0.5**10):  # 1.0: the z ≈ 1 identity; 0.24: the trained GRU
        assert not check("05.3", printed), printed
    capsys.readouterr()


def test_05_4_is_checked_against_the_masked_mean_per_position(capsys):
    import torch.nn.functional as F

    from utils.data import IGNORE_INDEX

    g = torch.Generator().manual_seed(6)
    model = torch.nn.Embedding(len(VOCAB), len(VOCAB))  # (B, T) -> (B, T, V)
    X = torch.randint(0, len(VOCAB), (6, 10), generator=g)
    Y = torch.randint(0, len(VOCAB), (6, 10), generator=g)
    for i, n in enumerate((3, 5, 8, 9, 10, 4)):
        Y[i, n:] = IGNORE_INDEX

    def by_position(model, X, Y):
        with torch.no_grad():
            per = F.cross_entropy(model(X)[:, :8].transpose(1, 2), Y[:, :8].clamp(min=0), reduction="none")
        real = (Y[:, :8] != IGNORE_INDEX).float()
        return (per * real).sum(0) / real.sum(0)

    def unmasked(model, X, Y):  # the padding counted as if it were a target
        with torch.no_grad():
            per = F.cross_entropy(model(X)[:, :8].transpose(1, 2), Y[:, :8].clamp(min=0), reduction="none")
        return per.mean(0)

    assert check("05.4", by_position, model=model, X=X, Y=Y)
    assert not check("05.4", 0, model=model, X=X, Y=Y)
    assert not check("05.4", unmasked, model=model, X=X, Y=Y)
    assert not check("05.4", lambda model, X, Y: torch.full((8,), 2.0), model=model, X=X, Y=Y)
    capsys.readouterr()


def _bigram_state(names):
    """Notebooks 01/02's state from the real names: vocabulary, whole-set and training counts."""
    from utils.data import bigram_pairs, split_words

    vocab = Vocab.from_words(names)
    V = len(vocab)
    xs, ys = bigram_pairs(names, vocab)
    Xtr, Ytr = bigram_pairs(split_words(names)[0], vocab)
    N = torch.bincount(xs * V + ys, minlength=V * V).view(V, V)
    N_train = torch.bincount(Xtr * V + Ytr, minlength=V * V).view(V, V)
    return vocab, N, N_train


def test_01_checks_reject_zero_wrong_and_leaked_answers(capsys, names, one_thread):
    vocab, N, N_train = _bigram_state(names)
    V = len(vocab)
    P0 = N.float() / N.float().sum(1, keepdim=True)
    P = (N + 1).float() / (N + 1).float().sum(1, keepdim=True)
    nll = float(-(N * P.log()).sum() / N.sum())  # 2.4546, printed in section 7
    # 01.1: zeros of the training table; the whole set's 102 (stated in section 2), 627, 729 are wrong
    right = int((N_train == 0).sum())
    assert check("01.1", right, N_train=N_train)
    for wrong in (0, int((N == 0).sum()), len(N.nonzero()), V * V, right + 1):
        assert not check("01.1", wrong, N_train=N_train), wrong

    # 01.2: the NLL of "anna"; the sum, four bigrams, the unsmoothed table and the printed losses are wrong
    def nll_of(word, table, end=True):
        ids = [0] + vocab.encode(word) + ([0] if end else [])
        logs = [math.log(table[a, b].item()) for a, b in zip(ids, ids[1:], strict=False)]
        return -sum(logs) / len(logs), -sum(logs)

    right, total = nll_of("anna", P)
    assert check("01.2", right, P=P, vocab=vocab)
    printed = [nll, 2.4544, math.log(V)] + [nll_of(w, P)[0] for w in ("ava", "emma", "olivia", "zyx")]
    for wrong in (0, total, nll_of("anna", P, end=False)[0], nll_of("anna", P0)[0], *printed):
        assert not check("01.2", wrong, P=P, vocab=vocab), wrong

    # 01.3: a function; 0 and the constant answer that fits P0 alone are wrong
    for wrong in (0, lambda table: "a"):
        assert not check("01.3", wrong, P0=P0, vocab=vocab)

    # 01.4: interpolation with the unigram, run by the check on N_train and on a table of its own
    def interpolated(counts, lam):
        c = counts.float()
        return lam * c / c.sum(1, keepdim=True) + (1 - lam) * c.sum(0) / c.sum()

    def additive(counts, lam):
        c = counts.float() + lam
        return c / c.sum(1, keepdim=True)

    def unigram_of_rows(counts, lam):  # right on a list of names (row sums = column sums), not in general
        c = counts.float()
        return lam * c / c.sum(1, keepdim=True) + (1 - lam) * (c.sum(1) / c.sum())

    def swapped(counts, lam):
        return interpolated(counts, 1 - lam)

    def uniform_fallback(counts, lam):
        c = counts.float()
        return lam * c / c.sum(1, keepdim=True) + (1 - lam) / c.shape[1]

    assert check("01.4", interpolated, N_train=N_train)
    for wrong in (0, additive, unigram_of_rows, swapped, uniform_fallback, lambda counts, lam: P):
        assert not check("01.4", wrong, N_train=N_train), wrong
    out = capsys.readouterr().out
    assert "❌" in out and "raised" in out  # 0 is not a function: a wrong answer, not a crash


def test_02_checks_reject_zero_wrong_and_leaked_answers(capsys, names, one_thread):
    vocab, N, _ = _bigram_state(names)
    V = len(vocab)
    N = N.float()
    W = torch.randn(V, V, generator=torch.Generator().manual_seed(2147483647)).requires_grad_()
    for _ in range(300):  # a partly trained network, as section 9 has a trained one
        W.grad = None
        (-(N * W.log_softmax(1)).sum() / N.sum()).backward()
        W.data -= 50 * W.grad
    W = W.detach()
    logp = W.log_softmax(1)
    whole = float(-(N * logp).sum() / N.sum())  # section 9 prints this loss of the trained W
    printed = [math.log(V), 2.4546, 2.4544, whole]  # ln 27, notebook 01's loss, section 9's

    # 02.1: the input-blind network; ln 27 (the old answer, printed in section 5) and the entropy in bits are wrong
    u = N.sum(0) / N.sum()
    right = float(-(u * u.log()).sum())
    assert check("02.1", right, N=N)
    first = N[0] / N[0].sum()
    for wrong in (0, right / math.log(2), float(-(first * first.log()).sum()), *printed):
        assert not check("02.1", wrong, N=N), wrong

    # 02.2: the loss on the first letters; the whole-set loss and the loss of the examples ending a name are wrong
    right = float(-(N[0] * logp[0]).sum() / N[0].sum())
    assert check("02.2", right, W=W, N=N)
    to_end = float(-(N[:, 0] * logp[:, 0]).sum() / N[:, 0].sum())
    for wrong in (0, to_end, right * float(N[0].sum()), *printed):
        assert not check("02.2", wrong, W=W, N=N), wrong

    # 02.3: the bigram; its row alone (section 9 prints row names), another bigram and 0 are wrong
    P_nn, P1 = W.softmax(1), (N + 1) / (N + 1).sum(1, keepdim=True)
    i, j = divmod(int((P_nn - P1).abs().argmax()), V)
    assert check("02.3", vocab.itos[i] + vocab.itos[j], P_nn=P_nn, P1=P1, vocab=vocab)
    for wrong in (0, vocab.itos[i], vocab.itos[j] + vocab.itos[i], vocab.itos[i] + "."):
        assert not check("02.3", wrong, P_nn=P_nn, P1=P1, vocab=vocab), wrong

    # 02.4: the hand-written gradient, checked with autograd switched off against autograd's
    def count_loss_grad(W, N, lam):
        return (N.sum(1, keepdim=True) * W.softmax(1) - N) / N.sum() + 2 * lam * W / W.numel()

    def by_autograd(W, N, lam):  # not written by hand: fails, since the check turns autograd off
        W = W.clone().requires_grad_()
        (-(N * W.log_softmax(1)).sum() / N.sum() + lam * (W**2).mean()).backward()
        return W.grad

    def unweighted(W, N, lam):  # softmax − normalised row, without the row's share of the examples
        return (W.softmax(1) - N / N.sum(1, keepdim=True)) / W.shape[0] + 2 * lam * W / W.numel()

    def summed(W, N, lam):  # not divided by n
        return N.sum(1, keepdim=True) * W.softmax(1) - N + 2 * lam * W / W.numel()

    def no_penalty(W, N, lam):
        return count_loss_grad(W, N, 0.0)

    def penalty_not_averaged(W, N, lam):
        return count_loss_grad(W, N, 0.0) + 2 * lam * W

    assert check("02.4", count_loss_grad, W=W, N=N)
    for wrong in (0, by_autograd, unweighted, summed, no_penalty, penalty_not_averaged, lambda W, N, lam: W):
        assert not check("02.4", wrong, W=W, N=N), wrong
    out = capsys.readouterr().out
    assert "✅" in out and "❌" in out
