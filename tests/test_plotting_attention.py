"""plot_attention: the attention map of one head (notebook 06)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from utils.plotting import plot_attention


def causal_average(T: int) -> torch.Tensor:
    W = torch.tril(torch.ones(T, T))
    return W / W.sum(1, keepdim=True)


def test_labels_and_values():
    W = causal_average(4)
    ax = plot_attention(W, [".", "e", "m", "m"], title="head 0")
    assert [t.get_text() for t in ax.get_xticklabels()] == [".", "e", "m", "m"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [".", "e", "m", "m"]
    assert ax.get_title() == "head 0"
    img = ax.get_images()[0]
    data = img.get_array()
    np.testing.assert_allclose(data[3].filled(-1), [0.25, 0.25, 0.25, 0.25])
    assert img.get_clim() == (0.0, 1.0)
    plt.close("all")


def test_future_is_masked_blank():
    ax = plot_attention(causal_average(5).numpy(), list("abcde"))
    data = ax.get_images()[0].get_array()
    mask = np.ma.getmaskarray(data)
    assert mask.tolist() == np.triu(np.ones((5, 5), dtype=bool), k=1).tolist()
    plt.close("all")


def test_nonzero_upper_entries_are_shown():
    # Without a causal mask (a bidirectional head) nothing is hidden.
    W = torch.full((3, 3), 1 / 3)
    data = plot_attention(W, "abc").get_images()[0].get_array()
    assert not np.ma.getmaskarray(data).any()
    plt.close("all")


def test_uses_given_axes_and_annotates():
    fig, ax = plt.subplots()
    out = plot_attention(causal_average(3), ["x", "y", "z"], ax=ax, annotate=True)
    assert out is ax
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["0.33", "0.33", "0.33", "0.50", "0.50", "1.00"]
    plt.close(fig)


def test_cross_attention_keys():
    W = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    ax = plot_attention(W, ["q1", "q2"], key_tokens=["a", "b", "c"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    plt.close("all")


def test_errors():
    with pytest.raises(ValueError, match="2-D"):
        plot_attention(torch.ones(2, 3, 3), "abc")
    with pytest.raises(ValueError, match="one label per row and per column"):
        plot_attention(causal_average(3), "ab")
    plt.close("all")
