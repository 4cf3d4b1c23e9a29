"""Initial draws shared by the model families: from a CPU generator, or zeros to be loaded."""

from __future__ import annotations

import torch
import torch.nn as nn


def randn(*shape: int, generator: torch.Generator | None) -> torch.Tensor:
    """N(0, 1) from ``generator``; zeros without one (the weights are then loaded)."""
    return torch.zeros(*shape) if generator is None else torch.randn(*shape, generator=generator)


def uniform(*shape: int, bound: float, generator: torch.Generator | None) -> torch.Tensor:
    """U(-bound, bound) from ``generator`` (PyTorch's default for recurrent layers); zeros without one."""
    if generator is None:
        return torch.zeros(*shape)
    return (torch.rand(*shape, generator=generator) * 2 - 1) * bound


def init_weights(model: nn.Module, generator: torch.Generator, std: float = 0.02) -> nn.Module:
    """Matrices ~ N(0, std²) from ``generator``, biases 0 (layer-norm gains keep PyTorch's 1)."""
    for name, p in model.named_parameters():
        if p.dim() >= 2:
            nn.init.normal_(p, mean=0.0, std=std, generator=generator)
        elif name.endswith("bias"):
            nn.init.zeros_(p)
    return model
