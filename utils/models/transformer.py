"""The GPT-style decoder of ``06_transformer``.

``06_transformer`` writes every piece out by hand (dropout, attention, heads, blocks, the model) and
checks that this module computes the same logits from the same initialisation; the command, the
sweep that chose the notebook's recipe (``scripts/sweep_transformer.py``) and ``make
bench-transformer`` train the model from here through :func:`utils.run.fit`, so they train exactly
the notebook's model.

The model reads where each word starts from its boundary tokens (:func:`utils.packing.segment_positions`):
positions restart at every word and attention stays inside each word, so it computes padded rows
(one word each) and packed rows (several words each) alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..packing import PackRows, segment_positions
from ..recipes import Recipe
from ._init import init_weights
from .registry import ModelSpec, SettingError, register, sequences, whole_item


class Dropout(nn.Module):
    """Dropout whose mask costs one random byte per activation; ``06_transformer`` writes it by hand (section 2).

    ``nn.Dropout`` draws one random number per activation, and on a CPU drawing them takes longer than
    the rest of the layer (a tenth of a training step of this model, seven times over). A random
    64-bit integer holds eight random bytes, so one draw serves eight activations: an activation is
    dropped when its byte is below ``cut = round(256 p)``. The rate is therefore ``cut / 256``, ``p``
    rounded to a multiple of 1/256 (0.05 becomes 13/256 = 0.0508); the survivors are scaled by
    ``1 / (1 − rate)``, so the expected activation is unchanged. Draws from PyTorch's global
    generator, as ``nn.Dropout`` does; the identity in eval mode.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout must be in [0, 1), got {p}.")
        self.cut = min(255, round(256 * p))
        self.p = self.cut / 256

    def forward(self, x):
        if not self.training or self.cut == 0:
            return x
        n = x.numel()
        words = torch.randint(-(2**63), 2**63 - 1, ((n + 7) // 8,), dtype=torch.int64, device=x.device)
        keep = words.view(torch.uint8)[:n].view(x.shape).to(x.dtype).ge_(self.cut)  # 1.0 with probability 1 − p
        return x * keep.mul_(1 / (1 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p:.4f} ({self.cut}/256)"


def attention(q, k, v, mask=None):
    """q, k, v: (..., T, d); mask (..., T, T), True where allowed (None: causal). Outputs and weights."""
    T, d = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (..., T, T)
    if mask is None:
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool, device=q.device))
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0):
        super().__init__()
        assert n_embd % n_head == 0
        self.n_head = n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.drop = Dropout(dropout)
        self.fused, self.weights = True, None

    def forward(self, x, mask=None):  # x (B, T, C), mask (B, T, T) or None (causal)
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=-1)
        q, k, v = (z.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for z in (q, k, v))
        m = None if mask is None else mask[:, None]  # (B, 1, T, T): the same mask for every head
        if self.fused:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=m, is_causal=m is None)
        else:
            y, self.weights = attention(q, k, v, m)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.drop(self.proj(y))


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = MultiHeadAttention(n_embd, n_head, dropout)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd), Dropout(dropout)
        )

    def forward(self, x, mask=None):
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """``06_transformer``'s GPT (section 3; packed rows, section 4): character and position embeddings, ``n_layer`` blocks, a
    final layer norm, tied output layer. The packaged model of ``sequentia train --type transformer``."""

    def __init__(self, vocab_size: int, block_size: int, n_embd: int, n_head: int, n_layer: int, dropout: float = 0.0):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = nn.Embedding(block_size, n_embd)
        self.drop = Dropout(dropout)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        self.head.weight = self.tok.weight

    def forward(self, idx):  # (B, T) padded or packed rows -> (B, T, V)
        pos, mask = segment_positions(idx)
        x = self.drop(self.tok(idx) + self.pos(pos))
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln_f(x))

    def use_fused_attention(self, fused: bool = True) -> None:
        for block in self.blocks:
            block.attn.fused = fused


def init_gpt(model: GPT, generator: torch.Generator, n_layer: int) -> GPT:
    """GPT-2's initialisation: N(0, 0.02²), the two residual-writing matrices per block scaled by 1/√(2·n_layer)."""
    init_weights(model, generator, std=0.02)
    for block in model.blocks:
        for w in (block.attn.proj.weight, block.mlp[2].weight):
            nn.init.normal_(w, mean=0.0, std=0.02 / math.sqrt(2 * n_layer), generator=generator)
    return model


@dataclass(frozen=True)
class GPTSettings:
    """Widths (``n_embd``, split into ``n_head`` heads), ``n_layer`` blocks, the ``dropout`` rate, and
    ``row_len``: the items of each batch are packed into rows of this many positions (None: padded rows);
    ``context``: the most positions it reads (an item and its boundary token; a longer item is read in
    windows, so no item changes the model's size)."""

    n_embd: int = 64
    n_head: int = 2
    n_layer: int = 3
    dropout: float = 0.05
    row_len: int | None = 32
    context: int = 64


def _build(s: GPTSettings, vocab_size: int, block_size: int, generator: torch.Generator | None) -> GPT:
    model = GPT(vocab_size, block_size, s.n_embd, s.n_head, s.n_layer, s.dropout)
    return init_gpt(model, generator, s.n_layer) if generator is not None else model


def _check(s: GPTSettings) -> None:
    if s.n_head < 1 or s.n_embd % s.n_head:
        raise SettingError("n_embd", f"({s.n_embd}) must be a multiple of --n-head ({s.n_head}); change one of them")
    if not 0 <= s.dropout < 1:
        raise SettingError("dropout", f"must be in [0, 1), got {s.dropout}; try 0.05")


#: 06's Transformer: the run that ``notebooks/transformer_sweep.json`` chose on dev (tests/test_models.py
#: checks that they agree): 5,000 steps of 128 names in shuffled passes, packed into rows of 32; Muon
#: on the blocks' matrices and AdamW on the rest (:func:`utils.muon.muon_adamw`), which beat the best
#: AdamW recipe (6,000 steps) by more than the spread of three seeds.
RECIPE = Recipe("transformer", "06_transformer", GPTSettings(n_embd=64, n_head=2, n_layer=3, dropout=0.05, row_len=32),
                steps=5000, batch=128, lr=8e-3, warmup=200, floor=0.02, weight_decay=0.3, grad_clip=1.0,
                optimizer="muon", sampling="passes", eval_every=1000)

SPEC = register(ModelSpec(
    "transformer", RECIPE, build=_build, examples=sequences, windowed=False, block_size=whole_item,
    batches=lambda s: PackRows(s.row_len) if s.row_len else None, check=_check, published_as="Transformer",
))
