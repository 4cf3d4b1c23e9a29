"""Bengio et al. (2003), the MLP language model of ``03_mlp``."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..recipes import Recipe
from ._init import randn
from .registry import ModelSpec, register, window_of, windows


class MLP(nn.Module):
    """Embeddings of the last ``block_size`` tokens → tanh hidden layer → logits.

    ``03_mlp`` builds it in sections 2–4 and trains the final model in section 13.

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
        C = randn(V, d, generator=generator)  # (V, d)
        W1 = randn(k * d, H, generator=generator) * ((5 / 3) / (k * d) ** 0.5)  # (k·d, H)
        b1 = randn(H, generator=generator) * 0.01  # (H,)
        W2 = randn(H, V, generator=generator) * 0.01  # (H, V)
        b2 = randn(V, generator=generator) * 0.0  # (V,)
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


class Windows(nn.Module):
    """The MLP as ``03_mlp`` trains it: on windows ``(B, k)`` → next-character logits ``(B, V)``."""

    def __init__(self, mlp: MLP):
        super().__init__()
        self.mlp = mlp

    def forward(self, X):
        return self.mlp.window_logits(X)


@dataclass(frozen=True)
class MLPSettings:
    """``block_size``: the context window k; ``n_embd``: d; ``n_hidden``: H."""

    block_size: int = 3
    n_embd: int = 12
    n_hidden: int = 300


#: 03's final model: k = 3, d = 12, H = 300; SGD, lr 0.5 (the finder's choice) decaying along a cosine
#: to 5% over 20,000 steps of 256 windows.
RECIPE = Recipe("mlp", "03_mlp", MLPSettings(block_size=3, n_embd=12, n_hidden=300), steps=20_000, batch=256,
                lr=0.5, floor=0.05, optimizer="sgd", eval_every=2000)

SPEC = register(ModelSpec(
    "mlp", RECIPE, build=lambda s, V, k, g: MLP(V, k, s.n_embd, s.n_hidden, generator=g), examples=windows,
    windowed=True, block_size=window_of, trainable=Windows, published_as="MLP",
))
