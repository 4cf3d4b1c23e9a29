"""The course's language models, packaged after the notebooks have written each of them out by hand.

One forward contract for every model: ``model(idx)`` maps a batch of index sequences ``(B, T)`` to
logits ``(B, T, V)``: at each position, the distribution of the next character given the sequence
up to and including that position. A sequence starts with the boundary token 0, as the rows of
:func:`utils.data.padded_sequences` do. The ``sequentia`` command (:mod:`utils.cli`) trains each of
them with its recipe (:mod:`utils.recipes`).

- :class:`Bigram`: ``01_bigram_counting`` (log of the smoothed counts) and ``02_bigram_neural``
  (the trained ``W``), a ``(V, V)`` logit table;
- :class:`MLP`: ``03_mlp``, Bengio et al. (2003) on the last ``block_size`` tokens;
- :class:`RecurrentLM` with :class:`RNNCell`, :class:`GRUCell` or :class:`LSTMCell`
  (:func:`recurrent_lm`): ``05_rnn_gru``;
- :class:`BagOfWords`: ``06_transformer``'s baseline, a causal average of embeddings;
- :class:`~utils.transformer.GPT`: ``06_transformer``'s decoder (its code lives in
  :mod:`utils.transformer`, re-exported here).

Built with a CPU ``generator``, each class draws its parameters exactly as its notebook does (same
order, same distributions), so the same seed gives the same initial weights; built without one, the
parameters are zeros, to be filled with ``load_state_dict`` (the notebooks load their inline model's
weights this way and assert identical logits). Each notebook's own copy is the teaching copy; this
module is the only other one.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .transformer import GPT, init_gpt, init_weights

__all__ = [
    "Bigram", "MLP", "RNNCell", "GRUCell", "LSTMCell", "RecurrentLM", "recurrent_lm", "BagOfWords",
    "causal_average", "GPT", "init_gpt", "init_weights", "n_params", "CELLS",
]


def n_params(model: nn.Module) -> int:
    """The number of parameters of ``model`` (a tied matrix counted once). Used from ``03_mlp`` on."""
    return sum(p.numel() for p in model.parameters())


def _randn(*shape: int, generator: torch.Generator | None) -> torch.Tensor:
    return torch.zeros(*shape) if generator is None else torch.randn(*shape, generator=generator)


def _uniform(*shape: int, bound: float, generator: torch.Generator | None) -> torch.Tensor:
    """U(-bound, bound) from ``generator`` (PyTorch's default for recurrent layers); zeros without one."""
    if generator is None:
        return torch.zeros(*shape)
    return (torch.rand(*shape, generator=generator) * 2 - 1) * bound


class Bigram(nn.Module):
    """The bigram model of ``01_bigram_counting`` and ``02_bigram_neural``: a ``(V, V)`` table of logits.

    The logits of the next character are row ``idx`` of ``W`` (02's ``one_hot(idx) @ W``, without the
    zeros). :meth:`from_counts` sets ``W`` to the log of the α-smoothed, normalised counts of 01, so
    that the softmax of each row is 01's probability table; 02 trains ``W`` by gradient descent.
    """

    def __init__(self, vocab_size: int, *, generator: torch.Generator | None = None):
        super().__init__()
        self.W = nn.Parameter(_randn(vocab_size, vocab_size, generator=generator))  # (V, V)

    @classmethod
    def from_counts(cls, counts: torch.Tensor, alpha: float) -> Bigram:
        """The counting model: ``W = log((N + α) / row sums)`` for a ``(V, V)`` count table ``N``."""
        V = counts.shape[0]
        P = (counts + alpha).float()
        P = P / P.sum(1, keepdim=True)
        model = cls(V)
        with torch.no_grad():
            model.W.copy_(P.log())
        return model

    def forward(self, idx: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, T, V)
        return self.W[idx]


class MLP(nn.Module):
    """Bengio et al. (2003), as ``03_mlp`` builds it: embeddings of the last ``block_size`` tokens → tanh → logits.

    :meth:`window_logits` is 03's forward pass on windows ``(B, k)`` → ``(B, V)``; :meth:`forward`
    applies it at every position of a sequence, the window being the previous ``block_size`` tokens
    (the position's own included), left-padded with the boundary index 0. The initialisation is 03's:
    ``C, W1, b1, W2, b2`` drawn from N(0, 1) in that order, then ``W1`` scaled by (5/3)/√(k·d), ``b1``
    by 0.01, ``W2`` by 0.01 and ``b2`` by 0.
    """

    def __init__(self, vocab_size: int, block_size: int, n_embd: int, n_hidden: int, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        V, k, d, H = vocab_size, block_size, n_embd, n_hidden
        C = _randn(V, d, generator=generator)  # (V, d)
        W1 = _randn(k * d, H, generator=generator) * ((5 / 3) / (k * d) ** 0.5)  # (k·d, H)
        b1 = _randn(H, generator=generator) * 0.01  # (H,)
        W2 = _randn(H, V, generator=generator) * 0.01  # (H, V)
        b2 = _randn(V, generator=generator) * 0.0  # (V,)
        self.C, self.W1, self.b1, self.W2, self.b2 = (nn.Parameter(p) for p in (C, W1, b1, W2, b2))
        self.block_size = block_size

    def window_logits(self, X: torch.Tensor) -> torch.Tensor:  # (B, k) -> (B, V)
        h = torch.tanh(self.C[X].view(X.shape[0], -1) @ self.W1 + self.b1)  # (B, H)
        return h @ self.W2 + self.b2

    def forward(self, idx: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, T, V)
        B, T = idx.shape
        k = self.block_size
        windows = F.pad(idx, (k - 1, 0), value=0).unfold(1, k, 1)  # (B, T, k)
        return self.window_logits(windows.reshape(B * T, k)).view(B, T, -1)


class RNNCell(nn.Module):
    """One step of a vanilla (Elman) RNN, ``05_rnn_gru``: h_t = tanh(x_t W_x + b + h_{t-1} W_h)."""

    def __init__(self, n_in: int, n_hidden: int, generator: torch.Generator | None = None):
        super().__init__()
        k = 1 / math.sqrt(n_hidden)
        self.W_x = nn.Parameter(_uniform(n_in, n_hidden, bound=k, generator=generator))  # (E, H)
        self.W_h = nn.Parameter(_uniform(n_hidden, n_hidden, bound=k, generator=generator))  # (H, H)
        self.b = nn.Parameter(_uniform(n_hidden, bound=k, generator=generator))  # (H,)

    def project(self, x):  # (..., E) -> (..., H)
        return x @ self.W_x + self.b

    def step(self, xp, h):  # (B, H), (B, H) -> (B, H)
        return torch.tanh(xp + h @ self.W_h)

    def forward(self, x, h):
        return self.step(self.project(x), h)


class GRUCell(nn.Module):
    """One step of a GRU (Cho et al. 2014), ``05_rnn_gru``; gates in PyTorch's order (r, z, n)."""

    def __init__(self, n_in: int, n_hidden: int, generator: torch.Generator | None = None):
        super().__init__()
        k = 1 / math.sqrt(n_hidden)
        self.W_x = nn.Parameter(_uniform(n_in, 3 * n_hidden, bound=k, generator=generator))  # (E, 3H)
        self.W_h = nn.Parameter(_uniform(n_hidden, 3 * n_hidden, bound=k, generator=generator))  # (H, 3H)
        self.b_x = nn.Parameter(_uniform(3 * n_hidden, bound=k, generator=generator))  # (3H,)
        self.b_h = nn.Parameter(_uniform(3 * n_hidden, bound=k, generator=generator))  # (3H,)

    def project(self, x):  # (..., E) -> (..., 3H)
        return x @ self.W_x + self.b_x

    def step(self, xp, h):  # (B, 3H), (B, H) -> (B, H)
        x_r, x_z, x_n = xp.chunk(3, dim=-1)
        h_r, h_z, h_n = (h @ self.W_h + self.b_h).chunk(3, dim=-1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        return z * h + (1 - z) * n

    def forward(self, x, h):
        return self.step(self.project(x), h)


class LSTMCell(nn.Module):
    """One step of an LSTM with a forget gate, ``05_rnn_gru``; the state is [h, c] side by side, (B, 2H)."""

    def __init__(self, n_in: int, n_hidden: int, generator: torch.Generator | None = None):
        super().__init__()
        k = 1 / math.sqrt(n_hidden)
        self.W_x = nn.Parameter(_uniform(n_in, 4 * n_hidden, bound=k, generator=generator))  # (E, 4H): i|f|g|o
        self.W_h = nn.Parameter(_uniform(n_hidden, 4 * n_hidden, bound=k, generator=generator))  # (H, 4H)
        b = torch.zeros(4 * n_hidden)
        b[n_hidden : 2 * n_hidden] = 1.0  # forget gate open at the start
        self.b = nn.Parameter(b)

    def project(self, x):  # (..., E) -> (..., 4H)
        return x @ self.W_x + self.b

    def step(self, xp, state):  # (B, 4H), (B, 2H) -> (B, 2H)
        h, c = state.chunk(2, dim=-1)
        i, f, g_, o = (xp + h @ self.W_h).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g_)
        h = torch.sigmoid(o) * torch.tanh(c)
        return torch.cat([h, c], dim=-1)

    def forward(self, x, state):
        return self.step(self.project(x), state)


#: The recurrent cells by name, with the size of their state in units of ``n_hidden``.
CELLS = {"rnn": (RNNCell, 1), "gru": (GRUCell, 1), "lstm": (LSTMCell, 2)}


class RecurrentLM(nn.Module):
    """``05_rnn_gru``'s language model around a cell: embed, run the cell along the sequence, read out.

    ``C`` ~ N(0, 1) and ``W_out`` ~ U(±0.1/√H) are drawn from ``generator`` after the cell's own
    parameters (build the cell from the same generator first, as :func:`recurrent_lm` does).
    """

    def __init__(self, cell: nn.Module, vocab_size: int, n_embd: int, n_hidden: int,
                 generator: torch.Generator | None = None, state_size: int | None = None):
        super().__init__()
        self.C = nn.Parameter(_randn(vocab_size, n_embd, generator=generator))  # (V, E)
        self.cell = cell
        self.h0 = nn.Parameter(torch.zeros(1, state_size or n_hidden))  # learned start state
        k = 0.1 / math.sqrt(n_hidden)
        self.W_out = nn.Parameter(_uniform(n_hidden, vocab_size, bound=k, generator=generator))  # (H, V)
        self.b_out = nn.Parameter(torch.zeros(vocab_size))
        self.n_hidden = n_hidden

    def states(self, idx):  # (B, T) -> list of T states, each (B, state_size)
        B, T = idx.shape
        xp = self.cell.project(self.C[idx])
        h = self.h0.expand(B, -1)
        hs = []
        for t in range(T):
            h = self.cell.step(xp[:, t], h)
            hs.append(h)
        return hs

    def forward(self, idx):  # (B, T) -> (B, T, V)
        h = torch.stack(self.states(idx), dim=1)[..., : self.n_hidden]
        return h @ self.W_out + self.b_out


def recurrent_lm(kind: str, vocab_size: int, n_embd: int, n_hidden: int,
                 generator: torch.Generator | None = None) -> RecurrentLM:
    """An RNN, GRU or LSTM language model (``kind`` in :data:`CELLS`), drawn as ``05_rnn_gru`` draws it."""
    cell_cls, states = CELLS[kind]
    cell = cell_cls(n_embd, n_hidden, generator)
    return RecurrentLM(cell, vocab_size, n_embd, n_hidden, generator, state_size=states * n_hidden)


def causal_average(x: torch.Tensor) -> torch.Tensor:
    """``(B, T, C)`` → the mean of positions 0 … t at each t (``06_transformer``, section 1)."""
    T = x.shape[1]
    W = torch.tril(torch.ones(T, T, device=x.device))
    return (W / W.sum(dim=1, keepdim=True)) @ x


class BagOfWords(nn.Module):
    """``06_transformer``'s baseline: character + position embeddings, their causal average, tanh, logits.

    Initialise with :func:`init_weights` (N(0, 0.02²) matrices from a generator, zero biases), as the
    notebook does.
    """

    def __init__(self, vocab_size: int, block_size: int, n_embd: int, n_hidden: int):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = nn.Embedding(block_size, n_embd)
        self.hidden = nn.Linear(2 * n_embd, n_hidden)
        self.out = nn.Linear(n_hidden, vocab_size)

    def forward(self, idx):  # (B, T) -> (B, T, V)
        T = idx.shape[1]
        e = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))
        bag = causal_average(e)
        h = torch.tanh(self.hidden(torch.cat([e, bag], dim=-1)))
        return self.out(h)


def build(recipe, vocab_size: int, block_size: int, generator: torch.Generator | None = None) -> nn.Module:
    """The model of ``recipe`` (:class:`utils.recipes.Recipe`), initialised from ``generator`` as its notebook does.

    ``block_size``: the MLP's window, or the longest sequence a sequence model reads (longest word + 1).
    Without a generator the weights are left to be loaded.
    """
    r, V = recipe, vocab_size
    if r.type == "bigram":
        return Bigram(V, generator=generator)
    if r.type == "mlp":
        return MLP(V, block_size, r.n_embd, r.n_hidden, generator=generator)
    if r.type in CELLS:
        return recurrent_lm(r.type, V, r.n_embd, r.n_hidden, generator)
    if r.type == "bow":
        model = BagOfWords(V, block_size, r.n_embd, r.n_hidden)
        return init_weights(model, generator) if generator is not None else model
    if r.type == "transformer":
        model = GPT(V, block_size, r.n_embd, r.n_head, r.n_layer, r.dropout)
        return init_gpt(model, generator, r.n_layer) if generator is not None else model
    raise ValueError(f"unknown model type {r.type!r}")
