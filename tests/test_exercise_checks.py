"""Every registered exercise check rejects the trivial answers: ``0`` is wrong and ``None`` is not attempted.

utils/exercises.py registers one checker per exercise; each is called with the learner's answer and,
as keyword arguments, the notebook objects it needs (``Exercise.needs``). Here those objects are
small stand-ins of the same kinds and shapes (a count table, a vocabulary, a model, ...), built per
name, with a notebook's own meaning where two notebooks use one name differently (``model``, ``X``
and ``Y`` in 03 and 05). A checker that needs an object no factory builds fails the test until one
is added below, so a new exercise cannot skip the check.

The checks that an answer already printed above an exercise is not accepted, and that the solution
cells pass, run on the real notebooks: tests/test_exercise_cells.py and nbval.
"""

import pytest
import torch
from torch import nn

from utils.data import IGNORE_INDEX, Vocab
from utils.exercises import EXERCISES, check

VOCAB = Vocab.from_words(["anna", "bob", "zoe"])
V = len(VOCAB)
WORDS = ["anna", "bob", "zoe", "nora"]


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _counts():
    return torch.randint(0, 5, (V, V), generator=_gen(0))


def _table():
    return torch.softmax(torch.randn(V, V, generator=_gen(1)), 1)


class _TinyMLP(nn.Module):
    """Notebook 03's MLP, in miniature: MLP(V, d, k, H, generator=...) maps (B, k) windows to (B, V) logits."""

    def __init__(self, vocab_size, n_embd, block_size, n_hidden, generator=None):
        super().__init__()
        self.C = nn.Parameter(torch.randn(vocab_size, n_embd, generator=generator))
        self.hidden = nn.Linear(block_size * n_embd, n_hidden)
        self.out = nn.Linear(n_hidden, vocab_size)

    def forward(self, x):  # (B, k) -> (B, V)
        return self.out(torch.tanh(self.hidden(self.C[x].flatten(1))))


def _window_model():
    torch.manual_seed(0)
    return _TinyMLP(V, 2, 3, 8)


def _sequence_model():
    torch.manual_seed(0)
    return nn.Embedding(V, V)  # (B, T) -> (B, T, V): a bigram model over padded sequences


def _padded():
    X = torch.randint(0, V, (4, 9), generator=_gen(2))
    Y = torch.randint(0, V, (4, 9), generator=_gen(3))
    Y[:, 6:] = IGNORE_INDEX  # padding after the words end
    return X, Y


# Objects by name; NOTEBOOK_STATE overrides a name with what it means in one notebook.
STATE = {
    "N": lambda: _counts().float(),
    "N_train": _counts,
    "P": _table,
    "P0": _table,
    "P1": lambda: torch.full((V, V), 1 / V),
    "P_nn": _table,
    "W": lambda: torch.randn(V, V, generator=_gen(4)),
    "vocab": lambda: VOCAB,
    "MLP": lambda: _TinyMLP,
    "C": lambda: torch.randn(V, 2, generator=_gen(5)),
    "W1": lambda: torch.randn(6, 8, generator=_gen(6)),
    "b1": lambda: torch.zeros(8),
    "words": lambda: WORDS,
    "dev_words": lambda: WORDS[1:],
    "dev_final": lambda: 2.0,
    "block_size": lambda: 3,
    "x": lambda: torch.randn(4, V, generator=_gen(7)),
    "dy": lambda: torch.randn(4, V, generator=_gen(8)),
    "p0": lambda: torch.randn(5, generator=_gen(9)),
    "grads": lambda: [torch.randn(5, generator=_gen(10 + k)) for k in range(3)],
    "bn": lambda: nn.BatchNorm1d(V),
    "block": lambda: nn.Linear(4, 4),
    "probs": lambda: torch.softmax(torch.randn(V, generator=_gen(11)), 0),
}
NOTEBOOK_STATE = {
    "03": {"model": _window_model,
           "X": lambda: torch.randint(0, V, (5, 3), generator=_gen(12)),
           "Y": lambda: torch.randint(0, V, (5,), generator=_gen(13))},
    "05": {"model": _sequence_model, "X": lambda: _padded()[0], "Y": lambda: _padded()[1]},
}


def state_for(key):
    """The keyword arguments of exercise ``key``'s check, built fresh."""
    own = NOTEBOOK_STATE.get(key[:2], {})
    missing = [n for n in EXERCISES[key].needs if n not in own and n not in STATE]
    assert not missing, f"exercise {key} needs {missing}: add a factory to STATE or NOTEBOOK_STATE in {__file__}"
    return {n: (own.get(n) or STATE[n])() for n in EXERCISES[key].needs}


# What a checker raises when the answer 0 is not the kind of thing the exercise asks for.
ANSWER_ERRORS = ("'int' object is not callable", "cannot unpack non-iterable int object")


@pytest.mark.parametrize("key", sorted(EXERCISES))
def test_zero_is_a_wrong_answer(key, capsys):
    assert not check(key, 0, **state_for(key)), f"exercise {key} accepts the answer 0"
    out = capsys.readouterr().out
    assert out.startswith("❌"), f"exercise {key}: 0 is not reported as a wrong answer: {out!r}"
    # Rejected for what 0 is (not a function, not a tuple), not because the stand-in state broke the checker.
    assert "raised" not in out or any(reason in out for reason in ANSWER_ERRORS), out


@pytest.mark.parametrize("answer", [None, ...], ids=["None", "Ellipsis"])
@pytest.mark.parametrize("key", sorted(EXERCISES))
def test_no_answer_is_not_attempted(key, answer, capsys):
    assert not check(key, answer, **state_for(key))
    assert capsys.readouterr().out.startswith("⏳"), f"exercise {key}: {answer!r} is not 'not attempted'"


@pytest.mark.parametrize("key", sorted(EXERCISES))
def test_a_function_that_returns_nothing_is_not_accepted(key, capsys):
    """A learner's function left as ``...`` (or returning None): never correct, whatever the exercise asks for."""
    zero_is_not_a_function = "'int' object is not callable" in (check(key, 0, **state_for(key)) or capsys.readouterr().out)
    assert not check(key, lambda *args, **kwargs: None, **state_for(key))
    out = capsys.readouterr().out
    assert not out.startswith("✅"), out
    if zero_is_not_a_function:  # the checker reached the learner's function with the stand-in state
        assert out.startswith("⏳"), f"exercise {key}: a function returning None is not 'not attempted': {out!r}"
