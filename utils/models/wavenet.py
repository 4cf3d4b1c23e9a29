"""The WaveNet-style hierarchical MLP of ``04_training_dynamics`` (section 6), packaged once the notebook wrote it out.

A context of ``block_size`` characters (a power of two, 8 in the notebook) is embedded, then fused
pairwise level by level, as in the dilated causal convolutions of WaveNet (van den Oord et al.,
2016): ``(B, 8, d)`` → pairs ``(B, 4, 2d)`` → linear, BatchNorm, tanh ``(B, 4, H)`` → pairs
``(B, 2, 2H)`` → … → ``(B, H)`` → logits ``(B, V)``. :class:`BatchNorm` normalises over every
dimension but the last (the batch and the positions), which ``nn.BatchNorm1d`` does only after a
transpose to ``(B, C, T)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..recipes import Recipe
from ._init import randn
from .registry import ModelSpec, SettingError, register, window_of, windows

TANH_GAIN = 5 / 3


class FlattenConsecutive(nn.Module):
    """``(B, T, C)`` → ``(B, T // n, C · n)``: every ``n`` consecutive positions side by side.

    The last level (one position left) returns ``(B, C · n)``.
    """

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        if T % self.n:
            raise ValueError(f"cannot fuse {T} positions in groups of {self.n}.")
        x = x.reshape(B, T // self.n, C * self.n)
        return x.squeeze(1) if x.shape[1] == 1 else x


class BatchNorm(nn.Module):
    """BatchNorm over every dimension but the last, for ``(B, C)`` or ``(B, T, C)`` inputs.

    Training: the batch's mean and (biased) variance normalise it, and running estimates (momentum
    ``momentum``, unbiased variance) are updated, exactly as ``nn.BatchNorm1d`` does; evaluation: the
    running estimates are used.
    """

    def __init__(self, dim: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.gamma = nn.Parameter(torch.ones(dim))
        self.beta = nn.Parameter(torch.zeros(dim))
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            dims = tuple(range(x.ndim - 1))
            mean = x.mean(dims)
            var = x.var(dims, unbiased=False)
            n = x.numel() // x.shape[-1]
            if n < 2:
                raise ValueError("BatchNorm needs more than one value per channel in training.")
            with torch.no_grad():
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * n / (n - 1), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        return self.gamma * (x - mean) * torch.rsqrt(var + self.eps) + self.beta


class WaveNet(nn.Module):
    """Embedding → log₂(block_size) × (fuse pairs → Linear without bias → BatchNorm → tanh) → logits.

    Initialisation as taught in the notebook: embeddings ``N(0, 1)``, hidden weights
    ``N(0, 1) · (5/3) / √fan_in``, output weights a tenth of ``N(0, 1) / √fan_in`` and bias 0 (a first
    loss near ln V). Every random draw comes from ``generator``; without one the weights are zeros, to
    be loaded.
    """

    def __init__(self, vocab_size: int, block_size: int = 8, n_embd: int = 24, n_hidden: int = 128, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        if block_size < 2 or block_size & (block_size - 1):
            raise ValueError(f"block_size must be a power of two (2, 4, 8, ...), got {block_size}.")
        self.block_size = block_size
        self.C = nn.Embedding(vocab_size, n_embd)
        layers: list[nn.Module] = []
        fan_in = n_embd
        for _ in range(block_size.bit_length() - 1):  # log2(block_size) levels
            layers += [FlattenConsecutive(2), nn.Linear(2 * fan_in, n_hidden, bias=False), BatchNorm(n_hidden), nn.Tanh()]
            fan_in = n_hidden
        self.levels = nn.Sequential(*layers)
        self.out = nn.Linear(n_hidden, vocab_size)
        with torch.no_grad():
            self.C.weight.copy_(randn(*self.C.weight.shape, generator=generator))
            for layer in self.levels:
                if isinstance(layer, nn.Linear):
                    w = randn(*layer.weight.shape, generator=generator)
                    layer.weight.copy_(w * TANH_GAIN / layer.in_features**0.5)
            w = randn(*self.out.weight.shape, generator=generator)
            self.out.weight.copy_(w * 0.1 / n_hidden**0.5)
            self.out.bias.zero_()

    def forward(self, X: torch.Tensor) -> torch.Tensor:  # (B, block_size) → (B, V)
        if X.shape[-1] != self.block_size:
            raise ValueError(f"expected windows of {self.block_size} tokens, got shape {tuple(X.shape)}.")
        return self.out(self.levels(self.C(X)))


@dataclass(frozen=True)
class WaveNetSettings:
    """``block_size``: the context (a power of two); ``n_embd``: d; ``n_hidden``: H at every level."""

    block_size: int = 8
    n_embd: int = 24
    n_hidden: int = 128


def _check(settings: WaveNetSettings) -> None:
    k = settings.block_size
    if k < 2 or k & (k - 1):
        raise SettingError("block_size", f"must be a power of two (2, 4, 8, ...), got {k}; try 8")


#: 04's model: k = 8, d = 24, H = 128; AdamW with the course's decay policy (weight decay 0.01 on the
#: matrices only, not on BatchNorm's γ and β or the output bias), lr 8e-3 along a cosine to 2% over
#: 2,000 steps of 1,024 windows, ramped up over the first 100; dev every 200 steps. The choice of
#: ``make sweep-wavenet`` (notebooks/wavenet_sweep.json, ``chosen``).
RECIPE = Recipe("wavenet", "04_training_dynamics", WaveNetSettings(block_size=8, n_embd=24, n_hidden=128),
                steps=2000, batch=1024, lr=8e-3, schedule="ramped-cosine", warmup=100, floor=0.02,
                weight_decay=0.01, optimizer="adamw-matrices", eval_every=200)

SPEC = register(ModelSpec(
    "wavenet", RECIPE, build=lambda s, V, k, g: WaveNet(V, k, s.n_embd, s.n_hidden, generator=g),
    examples=windows, windowed=True, block_size=window_of, check=_check, published_as="WaveNet-style",
))
