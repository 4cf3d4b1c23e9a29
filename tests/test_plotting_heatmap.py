"""Tests for utils.plotting.plot_bigram_heatmap (Agg backend, no display)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from utils.data import Vocab  # noqa: E402
from utils.plotting import plot_bigram_heatmap  # noqa: E402


@pytest.fixture
def vocab():
    return Vocab.from_words(["ab", "ba", "abba"])  # '.', 'a', 'b'


def _cell_texts(ax):
    return [t.get_text() for t in ax.texts]


def test_every_cell_labelled_with_bigram_and_count(vocab):
    N = torch.tensor([[0, 3, 0], [1, 2, 40], [2, 1, 0]], dtype=torch.int32)
    ax = plot_bigram_heatmap(N, vocab)
    texts = _cell_texts(ax)
    assert len(texts) == 9
    assert texts[0] == "..\n0" and texts[1] == ".a\n3" and texts[5] == "ab\n40" and texts[7] == "ba\n1"
    assert [t.get_text() for t in ax.get_xticklabels()] == [".", "a", "b"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [".", "a", "b"]
    # the largest count is drawn in white on a dark cell, a zero in grey on white
    by_text = {t.get_text(): t.get_color() for t in ax.texts}
    assert by_text["ab\n40"] == "white"
    assert by_text["..\n0"] == "#404040"
    plt.close("all")


def test_layout_of_cells(vocab):
    N = torch.arange(9).view(3, 3)
    ax = plot_bigram_heatmap(N, vocab, log=False, title="counts")
    positions = {t.get_text(): t.get_position() for t in ax.texts}
    assert positions["ab\n5"] == (2, 1)  # column = second character, row = first character
    assert ax.get_title() == "counts"
    assert ax.images[0].get_array().shape == (3, 3)
    plt.close("all")


def test_probabilities_formatted_and_axes_reused(vocab):
    P = torch.tensor([[0.0, 0.5, 0.5], [0.25, 0.25, 0.5], [1.0, 0.0, 0.0]])
    fig, ax = plt.subplots()
    out = plot_bigram_heatmap(P, vocab, ax=ax)
    assert out is ax and len(fig.axes) == 1
    texts = _cell_texts(ax)
    assert texts[1] == ".a\n0.50" and texts[3] == "a.\n0.25"
    assert plot_bigram_heatmap(P, vocab, fmt=".3f").texts[3].get_text() == "a.\n0.250"
    plt.close("all")


def test_log_scale_leaves_zero_cells_white(vocab):
    N = torch.tensor([[0, 3, 0], [1, 2, 40], [2, 1, 0]])
    ax = plot_bigram_heatmap(N, vocab, log=True)
    arr = ax.images[0].get_array()
    assert bool(arr.mask[0, 0]) and not bool(arr.mask[1, 2])  # zeros masked -> drawn in the "bad" colour
    plt.close("all")


def test_27_by_27_figure_size_keeps_labels_legible():
    vocab = Vocab.from_words(["abcdefghijklmnopqrstuvwxyz"])
    ax = plot_bigram_heatmap(torch.ones(27, 27), vocab)
    w, h = ax.figure.get_size_inches()
    assert w >= 16 and h >= 16
    assert len(ax.texts) == 27 * 27, "every cell of the 27×27 table is labelled"
    assert min(t.get_fontsize() for t in ax.texts) >= 8
    plt.close("all")


def test_bad_inputs(vocab):
    with pytest.raises(ValueError, match=r"N must have shape \(3, 3\) for this vocabulary of 3 tokens, got \(2, 3\)"):
        plot_bigram_heatmap(torch.ones(2, 3), vocab)
    with pytest.raises(ValueError, match="finite, non-negative"):
        plot_bigram_heatmap(-torch.ones(3, 3), vocab)
    with pytest.raises(ValueError, match="finite, non-negative"):
        plot_bigram_heatmap(torch.full((3, 3), float("nan")), vocab)
