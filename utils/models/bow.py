"""The bag-of-words baseline of ``06_transformer`` (section 1): the causal average of the past."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from ..recipes import Recipe
from ._init import init_weights
from .registry import ModelSpec, register, sequences, whole_item


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


@dataclass(frozen=True)
class BagOfWordsSettings:
    """``n_embd``: C, the embedding width; ``n_hidden``: H; ``context``: the most positions it reads."""

    n_embd: int = 32
    n_hidden: int = 128
    context: int = 64


def _build(s: BagOfWordsSettings, vocab_size: int, block_size: int, generator: torch.Generator | None) -> BagOfWords:
    model = BagOfWords(vocab_size, block_size, s.n_embd, s.n_hidden)
    return init_weights(model, generator) if generator is not None else model


#: 06's bag of words: C = 32, H = 128; AdamW (weight decay 0.01), lr 3e-3 then 1e-3 for the second
#: half of 3,000 steps of 64 names.
RECIPE = Recipe("bow", "06_transformer", BagOfWordsSettings(n_embd=32, n_hidden=128), steps=3000, batch=64, lr=3e-3,
                schedule="step", floor=1 / 3, weight_decay=0.01, optimizer="adamw", eval_every=500)

SPEC = register(ModelSpec(
    "bow", RECIPE, build=_build, examples=sequences, windowed=False, block_size=whole_item,
    published_as="bag of words",
))
