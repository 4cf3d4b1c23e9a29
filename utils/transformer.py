"""The GPT-style decoder of ``06_transformer`` and its training recipe, for scripts that retrain it.

``06_transformer`` writes every piece out by hand (attention, heads, blocks, the model, the schedule)
and checks that this module computes the same logits from the same initialisation; the sweep that
chose the notebook's recipe (``scripts/sweep_transformer.py``) and ``make bench``
(``scripts/bench_transformer.py``) train the model from here, so they train exactly the notebook's
model.

The model reads where each word starts from its boundary tokens (:func:`utils.packing.segment_positions`):
positions restart at every word and attention stays inside each word, so it computes padded rows
(one word each) and packed rows (several words each) alike.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .packing import PackRows, segment_positions
from .train import History, ShuffledPasses, train, warmup_cosine


class Dropout(nn.Module):
    """Dropout whose mask costs one random byte per activation; ``06_transformer`` writes it by hand.

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
    """``06_transformer``'s GPT: character and position embeddings, ``n_layer`` blocks, a final layer
    norm, tied output layer. The packaged model of ``sequentia train --type transformer``."""

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


def init_weights(model: nn.Module, generator: torch.Generator, std: float = 0.02) -> nn.Module:
    """Matrices ~ N(0, std²) from ``generator``, biases 0 (layer-norm gains keep PyTorch's 1)."""
    for name, p in model.named_parameters():
        if p.dim() >= 2:
            nn.init.normal_(p, mean=0.0, std=std, generator=generator)
        elif name.endswith("bias"):
            nn.init.zeros_(p)
    return model


def init_gpt(model: GPT, generator: torch.Generator, n_layer: int) -> GPT:
    """GPT-2's initialisation: N(0, 0.02²), the two residual-writing matrices per block scaled by 1/√(2·n_layer)."""
    init_weights(model, generator, std=0.02)
    for block in model.blocks:
        for w in (block.attn.proj.weight, block.mlp[2].weight):
            nn.init.normal_(w, mean=0.0, std=0.02 / math.sqrt(2 * n_layer), generator=generator)
    return model


#: The fields of a recipe (``06_transformer`` reads the chosen one from ``transformer_sweep.json``).
RECIPE_KEYS = ("n_embd", "n_head", "n_layer", "dropout", "lr", "steps", "batch", "warmup", "floor",
               "weight_decay", "row_len", "sampling")


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW, weight decay on the matrices only; the fused single-kernel update on the CPU."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr, betas=(0.9, 0.99), fused=True,
    )


def train_recipe(
    recipe: dict,
    vocab_size: int,
    block_size: int,
    Xtr: torch.Tensor,
    Ytr: torch.Tensor,
    *,
    seed: int,
    dev: tuple[torch.Tensor, torch.Tensor] | None = None,
    eval_every: int = 1000,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> tuple[GPT, History]:
    """Build, initialise and train a GPT with ``recipe`` as ``06_transformer`` does.

    The weights are drawn from a generator seeded with ``seed``, the batches from a second one seeded
    the same way, and dropout's masks from PyTorch's global generator, seeded with ``seed`` just
    before training. Rows are packed (``recipe["row_len"]`` positions) when ``row_len`` is set, else
    padded. ``recipe["sampling"]``: ``"passes"`` walks through shuffled passes over ``Xtr``
    (:class:`utils.train.ShuffledPasses`, seeded with ``seed``), ``"random"`` draws each batch with
    replacement.
    """
    missing = [k for k in RECIPE_KEYS if k not in recipe]
    if missing:
        raise ValueError(f"the recipe lacks {missing}")
    r = recipe
    if r["sampling"] not in ("random", "passes"):
        raise ValueError(f"unknown sampling {r['sampling']!r}: use 'random' or 'passes'.")
    model = GPT(vocab_size, block_size, r["n_embd"], r["n_head"], r["n_layer"], r["dropout"])
    init_gpt(model, torch.Generator().manual_seed(seed), r["n_layer"]).to(device or "cpu")
    optimizer = make_optimizer(model, r["lr"], r["weight_decay"])
    torch.manual_seed(seed)
    history = train(
        model, Xtr, Ytr, optimizer=optimizer, steps=r["steps"], generator=torch.Generator().manual_seed(seed),
        batch_size=r["batch"], lr_schedule=warmup_cosine(r["lr"], r["warmup"], r["steps"], r["floor"]),
        dev=dev, eval_every=eval_every, grad_clip=1.0, device=device, progress=progress,
        batch_fn=PackRows(r["row_len"]) if r["row_len"] else None,
        sampler=ShuffledPasses(Xtr.shape[0], r["batch"], seed) if r["sampling"] == "passes" else None,
    )
    return model, history
