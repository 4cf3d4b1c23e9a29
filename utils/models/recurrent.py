"""The recurrent language models of ``05_rnn_gru``: a vanilla RNN, a GRU and an LSTM around one loop."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn

from ..recipes import Recipe
from ._init import randn, uniform
from .registry import ModelSpec, register, sequences, whole_item


class RNNCell(nn.Module):
    """One step of a vanilla (Elman) RNN, ``05_rnn_gru`` section 2: h_t = tanh(x_t W_x + b + h_{t-1} W_h)."""

    def __init__(self, n_in: int, n_hidden: int, generator: torch.Generator | None = None):
        super().__init__()
        k = 1 / math.sqrt(n_hidden)
        self.W_x = nn.Parameter(uniform(n_in, n_hidden, bound=k, generator=generator))  # (E, H)
        self.W_h = nn.Parameter(uniform(n_hidden, n_hidden, bound=k, generator=generator))  # (H, H)
        self.b = nn.Parameter(uniform(n_hidden, bound=k, generator=generator))  # (H,)

    def project(self, x):  # (..., E) -> (..., H)
        return x @ self.W_x + self.b

    def step(self, xp, h):  # (B, H), (B, H) -> (B, H)
        return torch.tanh(xp + h @ self.W_h)

    def forward(self, x, h):
        return self.step(self.project(x), h)


class GRUCell(nn.Module):
    """One step of a GRU (Cho et al. 2014), ``05_rnn_gru`` section 3; gates in PyTorch's order (r, z, n)."""

    def __init__(self, n_in: int, n_hidden: int, generator: torch.Generator | None = None):
        super().__init__()
        k = 1 / math.sqrt(n_hidden)
        self.W_x = nn.Parameter(uniform(n_in, 3 * n_hidden, bound=k, generator=generator))  # (E, 3H)
        self.W_h = nn.Parameter(uniform(n_hidden, 3 * n_hidden, bound=k, generator=generator))  # (H, 3H)
        self.b_x = nn.Parameter(uniform(3 * n_hidden, bound=k, generator=generator))  # (3H,)
        self.b_h = nn.Parameter(uniform(3 * n_hidden, bound=k, generator=generator))  # (3H,)

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
    """One step of an LSTM with a forget gate, ``05_rnn_gru`` section 3 ("A third contestant").

    The state is [h, c] side by side, (B, 2H)."""

    def __init__(self, n_in: int, n_hidden: int, generator: torch.Generator | None = None):
        super().__init__()
        k = 1 / math.sqrt(n_hidden)
        self.W_x = nn.Parameter(uniform(n_in, 4 * n_hidden, bound=k, generator=generator))  # (E, 4H): i|f|g|o
        self.W_h = nn.Parameter(uniform(n_hidden, 4 * n_hidden, bound=k, generator=generator))  # (H, 4H)
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
        self.C = nn.Parameter(randn(vocab_size, n_embd, generator=generator))  # (V, E)
        self.cell = cell
        self.h0 = nn.Parameter(torch.zeros(1, state_size or n_hidden))  # learned start state
        k = 0.1 / math.sqrt(n_hidden)
        self.W_out = nn.Parameter(uniform(n_hidden, vocab_size, bound=k, generator=generator))  # (H, V)
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

    def hidden_matrices(self) -> list[nn.Parameter]:
        """The cell's input and recurrent matrices: what Muon updates (:func:`utils.muon.hidden_matrices`)."""
        return [self.cell.W_x, self.cell.W_h]

    def forward(self, idx):  # (B, T) -> (B, T, V)
        h = torch.stack(self.states(idx), dim=1)[..., : self.n_hidden]
        return h @ self.W_out + self.b_out


def recurrent_lm(kind: str, vocab_size: int, n_embd: int, n_hidden: int,
                 generator: torch.Generator | None = None) -> RecurrentLM:
    """An RNN, GRU or LSTM language model (``kind`` in :data:`CELLS`), drawn as ``05_rnn_gru`` draws it."""
    cell_cls, states = CELLS[kind]
    cell = cell_cls(n_embd, n_hidden, generator)
    return RecurrentLM(cell, vocab_size, n_embd, n_hidden, generator, state_size=states * n_hidden)


@dataclass(frozen=True)
class RecurrentSettings:
    """``n_embd``: E, the embedding width; ``n_hidden``: H, the state's width; ``context``: the longest
    row it is trained on (a longer item is read in windows)."""

    n_embd: int = 64
    n_hidden: int = 128
    context: int = 64


#: 05's recipe for the three cells: E = 64, H = 128; AdamW (weight decay 0.01), lr 0.01 → 0.001 along a
#: cosine, 800 steps of 256 names, gradient norm clipped at 1.
RNN_RECIPE = Recipe("rnn", "05_rnn_gru", RecurrentSettings(n_embd=64, n_hidden=128), steps=800, batch=256, lr=1e-2,
                    floor=0.1, weight_decay=0.01, grad_clip=1.0, optimizer="adamw", eval_every=200)

SPECS = {
    kind: register(ModelSpec(
        kind, RNN_RECIPE.replace(type=kind),
        build=lambda s, V, block_size, g, kind=kind: recurrent_lm(kind, V, s.n_embd, s.n_hidden, g),
        examples=sequences, windowed=False, block_size=whole_item, published_as=kind.upper(),
    ))
    for kind in CELLS
}
