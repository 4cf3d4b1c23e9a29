"""The bigram model of ``01_bigram_counting`` (counted) and ``02_bigram_neural`` (trained)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from ..recipes import Recipe
from ._init import randn
from .registry import ModelSpec, SettingError, pairs, register


class Bigram(nn.Module):
    """A ``(V, V)`` table of logits, the next character's logits being row ``idx`` of ``W``:
    ``01_bigram_counting`` counts and smooths it (sections 3–8), ``02_bigram_neural`` trains it (sections 3–9).

    That is 02's ``one_hot(idx) @ W`` without the zeros. :meth:`from_counts` sets ``W`` to the log of
    01's α-smoothed, normalised counts, so that the softmax of each row is 01's probability table.
    """

    def __init__(self, vocab_size: int, *, generator: torch.Generator | None = None):
        super().__init__()
        self.W = nn.Parameter(randn(vocab_size, vocab_size, generator=generator))  # (V, V)

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


@dataclass(frozen=True)
class BigramSettings:
    """``alpha``: the additive smoothing of the counts (01 chose 0.3 on dev)."""

    alpha: float = 0.3


def _count(settings: BigramSettings, X: torch.Tensor, Y: torch.Tensor, vocab_size: int) -> Bigram:
    """01's model from the training pairs ``X, Y`` (both ``(N, 1)``): count, smooth, normalise, log."""
    V = vocab_size
    counts = torch.bincount(X[:, 0] * V + Y[:, 0], minlength=V * V).view(V, V)
    return Bigram.from_counts(counts, settings.alpha)


def _check(settings: BigramSettings) -> None:
    if not settings.alpha >= 0:
        raise SettingError("alpha", f"must be 0 or more, got {settings.alpha}; try 0.3")


#: 01: add-α smoothing of the counts, α = 0.3 chosen on dev. The bigram trains by counting.
RECIPE = Recipe("bigram", "01_bigram_counting", BigramSettings(alpha=0.3), steps=0, batch=1, eval_every=1)

SPEC = register(ModelSpec(
    "bigram", RECIPE, build=lambda s, V, block_size, g: Bigram(V, generator=g), examples=pairs, windowed=True,
    block_size=lambda s, max_len: 1, count=_count, check=_check, published_as="bigram, counts",
))
