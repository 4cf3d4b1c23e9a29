import pytest
import torch

from utils.data import Vocab
from utils.device import make_generator
from utils.sampling import probs_from_logits, sample, sample_from_table

VOCAB = Vocab.from_words(["ab", "ba"])  # . a b


def table():
    # from '.', 'a' or 'b': go to a with 0.6, b with 0.3, end with 0.1
    return torch.tensor([[0.1, 0.6, 0.3]] * 3)


def test_table_sampling_is_deterministic_for_a_seed():
    a = sample_from_table(table(), VOCAB, 20, make_generator(1))
    b = sample_from_table(table(), VOCAB, 20, make_generator(1))
    c = sample_from_table(table(), VOCAB, 20, make_generator(2))
    assert a == b and a != c
    assert all(set(w) <= {"a", "b"} for w in a)


def test_table_sampling_frequencies_match_probabilities():
    # Each drawn character is a with p = 0.6/0.9 and b with 0.3/0.9; the word length is geometric
    # with mean 0.9/0.1 = 9. With ~18k characters the standard error of the a-share is ≈ 0.0035,
    # so a tolerance of 0.02 is over five standard errors.
    words = sample_from_table(table(), VOCAB, 2000, make_generator(0))
    chars = "".join(words)
    assert abs(chars.count("a") / len(chars) - 2 / 3) < 0.02
    assert abs(len(chars) / len(words) - 9.0) < 0.6


def test_model_sampler_agrees_with_table_sampler():
    P = table()
    logits_fn = lambda ctx: torch.log(P[ctx[:, -1]])  # noqa: E731
    a = sample_from_table(P, VOCAB, 50, make_generator(7))
    b = sample(logits_fn, VOCAB, 50, make_generator(7), window=1)
    assert a == b


def test_window_and_whole_context_are_passed():
    seen = []

    def fn(ctx):
        seen.append(ctx[0].tolist())
        return torch.tensor([[0.0, 5.0, -50.0]]) if len(seen) < 3 else torch.tensor([[50.0, 0.0, 0.0]])

    assert sample(fn, VOCAB, 1, make_generator(0), window=2) == ["aa"]
    assert seen == [[0, 0], [0, 1], [1, 1]]
    seen.clear()
    assert sample(fn, VOCAB, 1, make_generator(0)) == ["aa"]
    assert seen == [[0], [0, 1], [0, 1, 1]]
    seen.clear()
    sample(fn, VOCAB, 1, make_generator(0), max_context=2)
    assert seen[-1] == [1, 1]


def test_temperature_and_top_k():
    logits = torch.tensor([1.0, 2.0, 3.0])
    assert torch.allclose(probs_from_logits(logits), torch.softmax(logits, 0))
    cold = probs_from_logits(logits, temperature=0.1)
    assert cold[2] > 0.99
    hot = probs_from_logits(logits, temperature=100.0)
    assert (hot - 1 / 3).abs().max() < 0.01
    top1 = probs_from_logits(logits, top_k=1)
    assert top1.tolist() == [0.0, 0.0, 1.0]
    top2 = probs_from_logits(logits, top_k=2)
    assert top2[0] == 0 and torch.isclose(top2.sum(), torch.tensor(1.0))


def test_top_k_one_is_greedy():
    logits_fn = lambda ctx: torch.tensor([[0.0, 2.0, 1.0]]) if ctx.shape[1] < 4 else torch.tensor([[9.0, 0, 0]])  # noqa: E731
    assert sample(logits_fn, VOCAB, 3, make_generator(0), top_k=1) == ["aaa"] * 3


def test_max_len_stops_a_word_that_never_ends():
    P = torch.tensor([[0.0, 1.0, 0.0]] * 3)
    assert sample_from_table(P, VOCAB, 1, make_generator(0), max_len=5) == ["aaaaa"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"temperature": 0}, "temperature must be > 0"),
        ({"top_k": 0}, "top_k must be an integer between 1 and 3"),
        ({"top_k": 4}, "top_k must be an integer between 1 and 3"),
        ({"window": 0}, "window must be a positive integer"),
    ],
)
def test_bad_sampling_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample(lambda ctx: torch.zeros(1, 3), VOCAB, 1, make_generator(0), **kwargs)


def test_wrong_logits_shape_explains_the_fix():
    with pytest.raises(ValueError, match=r"shape \(1, 3\).*\(1, T, V\)"):
        sample(lambda ctx: torch.zeros(1, 4), VOCAB, 1, make_generator(0))


def test_a_sequence_model_samples_from_its_last_position():
    table = torch.randn(3, 3, generator=make_generator(1))
    by_row = sample(lambda ctx: table[ctx[:, -1]], VOCAB, 8, make_generator(0), window=None)
    by_sequence = sample(lambda ctx: table[ctx], VOCAB, 8, make_generator(0), window=None)  # (1, T, V)
    assert by_sequence == by_row and len(by_row) == 8


def test_a_prefix_starts_every_word():
    table = torch.randn(3, 3, generator=make_generator(1))
    words = sample(lambda ctx: table[ctx], VOCAB, 5, make_generator(0), window=None, prefix="b")
    assert all(w.startswith("b") for w in words)


def test_bad_tables_are_rejected():
    with pytest.raises(ValueError, match=r"shape \(3, 3\)"):
        sample_from_table(torch.ones(2, 2) / 2, VOCAB, 1, make_generator(0))
    with pytest.raises(ValueError, match="probability distribution"):
        sample_from_table(torch.ones(3, 3), VOCAB, 1, make_generator(0))
    with pytest.raises(ValueError, match="non-negative integer"):
        sample_from_table(table(), VOCAB, -1, make_generator(0))
