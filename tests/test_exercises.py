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
    assert check("01.1", expected, N=N)
    assert "✅ Exercise 1: correct." in capsys.readouterr().out
    assert not check("01.1", expected + 1, N=N)
    out = capsys.readouterr().out
    assert f"❌ Exercise 1: not yet (got {expected + 1}). Hint: compare N with 0" in out
    assert f"{expected})" not in out.replace(f"got {expected + 1})", "")


@pytest.mark.parametrize("key, right, wrong", [
    ("05.2", 0.5**10, 0.5**9),
    ("05.3", 1.0, 0.9),
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
    assert check("02.1", math.log(len(VOCAB)), N=N)
    logp = torch.log_softmax(W, 1)
    assert check("02.2", float(-(N * logp).sum() / N.sum()), W=W, N=N)
    assert not check("02.2", 0.0, W=W, N=N)
    P_nn, P1 = torch.softmax(W, 1), torch.full(W.shape, 1 / len(VOCAB))
    row = VOCAB.itos[int((P_nn - P1).abs().max(1).values.argmax())]
    assert check("02.3", row, P_nn=P_nn, P1=P1, vocab=VOCAB)
    assert check("05.1", 3 + 4, dev_words=["ab", "cde"])
    assert check("03.3", 1.9, dev_final=2.0) and not check("03.3", 2.1, dev_final=2.0)
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

    verdict = check("05.3", 1.0)
    assert bool(verdict) is True and repr(verdict) == "Verdict(True)"
    capsys.readouterr()
    # A real IPython shell, as a notebook cell runs: a cell ending in `check(...)` shows the verdict
    # line only, while the same cell ending in a plain value shows that value (the control).
    shell = InteractiveShell.instance()
    shell.user_ns["check"] = check
    shell.run_cell("check('05.3', 1.0)", store_history=True)
    out = capsys.readouterr().out
    assert "✅ Exercise 3: correct." in out and "Verdict" not in out, out
    shell.run_cell("bool(check('05.3', 1.0))", store_history=True)
    assert "True" in capsys.readouterr().out, "the control cell must display its value"
