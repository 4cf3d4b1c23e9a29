"""utils.plotting.plot_embedding_2d: the 2-D character embedding scatter of 03_mlp (drawn with Agg)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_rgba

from utils.data import Vocab
from utils.plotting import plot_embedding_2d


@pytest.fixture()
def vocab():
    return Vocab(tuple("abcdeiouxyz"))  # 12 tokens with the boundary


def _colors(ax):
    return [tuple(c) for c in ax.collections[0].get_facecolors()]


def test_one_labelled_point_per_token(vocab):
    C = torch.arange(2 * len(vocab), dtype=torch.float32).view(-1, 2)
    ax = plot_embedding_2d(C, vocab)
    offsets = ax.collections[0].get_offsets()
    assert np.allclose(np.asarray(offsets), C.numpy())
    labels = [t for t in ax.texts]
    assert [t.get_text() for t in labels] == [".", *vocab.chars]
    assert [t.get_position() for t in labels] == [tuple(p) for p in C.tolist()]
    assert ax.get_title() == "character embedding (2-D)"
    plt.close("all")


def test_vowels_and_boundary_highlighted(vocab):
    ax = plot_embedding_2d(torch.zeros(len(vocab), 2), vocab, title="learned C")
    colors = _colors(ax)
    chars = [".", *vocab.chars]
    vowel = {colors[chars.index(c)] for c in "aeiou"}
    other = {colors[chars.index(c)] for c in "bcdxyz"}
    assert len(vowel) == 1 and len(other) == 1 and vowel != other
    assert colors[0] not in vowel | other  # the boundary token has its own colour
    assert vowel == {to_rgba("C1", 0.9)}
    assert ax.get_title() == "learned C"
    plt.close("all")


def test_no_highlight_gives_one_colour_for_characters(vocab):
    ax = plot_embedding_2d(torch.zeros(len(vocab), 2), vocab, highlight="")
    assert len(set(_colors(ax)[1:])) == 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["other characters", "boundary '.'"]
    plt.close("all")


def test_draws_on_a_given_axes_and_accepts_parameters_and_arrays(vocab):
    fig, ax = plt.subplots()
    C = torch.nn.Parameter(torch.randn(len(vocab), 2, generator=torch.Generator().manual_seed(0)))
    assert plot_embedding_2d(C, vocab, ax=ax) is ax
    assert len(fig.axes) == 1
    ax2 = plot_embedding_2d(np.ones((len(vocab), 2)), vocab)
    assert len(ax2.texts) == len(vocab)
    plt.close("all")


@pytest.mark.parametrize("shape", [(12, 3), (11, 2), (24,), (12, 2, 1)])
def test_wrong_shape_is_a_clear_error(vocab, shape):
    with pytest.raises(ValueError, match=r"C must have shape \(12, 2\), one 2-D point per token"):
        plot_embedding_2d(torch.zeros(shape), vocab)
