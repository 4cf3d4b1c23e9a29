"""Muon for the hidden weight matrices, AdamW for everything else: the optimiser ``04_training_dynamics``
writes out by hand (section 5) and ``06_transformer``'s recipe trains with (``optimizer="muon"``).

Muon keeps a momentum of each matrix's gradient and, instead of stepping along it, steps along the
nearest matrix with all singular values near 1, found by a few Newton–Schulz iterations
(:func:`newton_schulz`). The step is scaled by ``0.2·√max(m, n)`` so that its root-mean-square is
about AdamW's (≈ 0.2 per entry), which lets both halves share one learning rate and schedule.

Which matrices: :func:`hidden_matrices` — the weights of the ``nn.Linear`` layers inside the model,
not the embeddings (a lookup table of one row per character, not a map applied to a vector: its
singular directions mean nothing, and orthogonalising its update would couple the rows, each row's
step depending on the others' gradients) and not the output layer (one row per character too; in the
GPT it *is* the embedding). Biases and normalisation gains are vectors, outside Muon's definition;
AdamW keeps them all.
"""

from __future__ import annotations

import math
from collections import defaultdict

import torch
import torch.nn as nn
from torch.optim.adamw import adamw as adamw_update

#: The quintic iteration's coefficients (Jordan et al., 2024): chosen for a steep slope at 0, so
#: small singular values grow fast, at the price of settling in a band around 1 rather than at 1.
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz(G: torch.Tensor, steps: int = 5, eps: float = 1e-7) -> torch.Tensor:
    """An approximation of ``U Vᵀ`` for ``G = U Σ Vᵀ``: ``G (..., m, n)`` → the same shape, in float32.

    ``X₀ = G / ‖G‖_F`` (all singular values ≤ 1), then ``steps`` times ``X ← aX + b(XXᵀ)X + c(XXᵀ)²X``,
    which maps each singular value ``σ`` to ``aσ + bσ³ + cσ⁵`` and leaves ``U`` and ``V`` alone. A
    leading batch dimension orthogonalises same-shaped matrices together (one batched matmul each).
    """
    a, b, c = NS_COEFFICIENTS
    X = G.float()
    tall = X.shape[-2] > X.shape[-1]
    if tall:  # work on the wide side: X Xᵀ is then the smaller Gram matrix
        X = X.mT
    X = X / X.norm(dim=(-2, -1), keepdim=True).clamp_min(eps)
    for _ in range(steps):
        A = X @ X.mT  # (..., k, k), k = min(m, n)
        X = a * X + (b * A + c * (A @ A)) @ X
    return X.mT if tall else X


def hidden_matrices(model: nn.Module) -> list[nn.Parameter]:
    """The parameters Muon is for: what ``model.hidden_matrices()`` returns where the model says
    (05's recurrent models: the cell's two matrices), else the weights of its ``nn.Linear`` layers but
    the last one (the output layer) and any weight shared with an ``nn.Embedding``."""
    if hasattr(model, "hidden_matrices"):
        return list(model.hidden_matrices())
    linears = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    tied = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    return [w for w in linears[:-1] if id(w) not in tied]


class MuonAdamW(torch.optim.Optimizer):
    """Muon on the groups marked ``muon=True``, AdamW on the others; one ``lr`` shared by all.

    Muon step of a matrix ``W`` (m × n) with gradient ``G``: ``B ← μB + (1 − μ)G``; the update is
    ``(1 − μ)G + μB`` (Nesterov) or ``B``; ``W ← (1 − lr·λ)W − lr·0.2·√max(m, n)·NS(update)``.
    AdamW step: decoupled weight decay ``λ`` per group, ``betas``, ``eps``, bias-corrected moments.
    The whole state (momenta, moments, step counts) is in :meth:`state_dict`, so a resumed run
    continues exactly.
    """

    def __init__(self, groups, lr: float, *, momentum: float = 0.95, nesterov: bool = True, ns_steps: int = 5,
                 betas: tuple[float, float] = (0.9, 0.99), eps: float = 1e-8, weight_decay: float = 0.0):
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}.")
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, int) or ns_steps < 1:
            raise ValueError(f"ns_steps must be a positive integer, got {ns_steps!r}.")
        defaults = dict(lr=lr, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps, betas=betas, eps=eps,
                        weight_decay=weight_decay, muon=False)
        super().__init__(groups, defaults)
        for g in self.param_groups:
            if g["muon"] and any(p.dim() != 2 for p in g["params"]):
                raise ValueError("Muon orthogonalises matrices: a muon group holds 2-D parameters only.")

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for g in self.param_groups:
            params = [p for p in g["params"] if p.grad is not None]
            if params:
                (self._muon if g["muon"] else self._adamw)(g, params)
        return loss

    def _muon(self, g: dict, params: list[torch.Tensor]) -> None:
        mu, lr = g["momentum"], g["lr"]
        by_shape = defaultdict(list)
        for p in params:
            by_shape[tuple(p.shape)].append(p)
        for (m, n), ps in by_shape.items():
            updates = []
            for p in ps:
                state = self.state[p]
                if not state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                buf = state["momentum_buffer"]
                buf.lerp_(p.grad, 1 - mu)
                updates.append(p.grad.lerp(buf, mu) if g["nesterov"] else buf)
            ortho = newton_schulz(torch.stack(updates), g["ns_steps"])  # (k, m, n): k matrices at once
            scale = lr * 0.2 * math.sqrt(max(m, n))
            for p, o in zip(ps, ortho, strict=True):
                p.mul_(1 - lr * g["weight_decay"]).add_(o.to(p.dtype), alpha=-scale)

    def _adamw(self, g: dict, params: list[torch.Tensor]) -> None:
        beta1, beta2 = g["betas"]
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = torch.zeros((), dtype=torch.float32)
                state["exp_avg"], state["exp_avg_sq"] = torch.zeros_like(p), torch.zeros_like(p)
        adamw_update(
            params, [p.grad for p in params], [self.state[p]["exp_avg"] for p in params],
            [self.state[p]["exp_avg_sq"] for p in params], [], [self.state[p]["step"] for p in params],
            amsgrad=False, beta1=beta1, beta2=beta2, lr=g["lr"], weight_decay=g["weight_decay"], eps=g["eps"],
            maximize=False, foreach=False, fused=True,
        )


def muon_adamw(model: nn.Module, lr: float, weight_decay: float, *, momentum: float = 0.95,
               ns_steps: int = 5) -> MuonAdamW:
    """The course's split: Muon on :func:`hidden_matrices`; AdamW with weight decay on the other
    matrices (embeddings, output layer) and none on vectors (biases, gains), betas (0.9, 0.99) — the
    policy of ``04_training_dynamics`` section 5 (decay the matrices, not the gains and offsets)."""
    hidden = hidden_matrices(model)
    inside = {id(p) for p in hidden}
    rest = [p for p in model.parameters() if id(p) not in inside]
    groups = [
        {"params": hidden, "muon": True, "weight_decay": weight_decay},
        {"params": [p for p in rest if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in rest if p.dim() < 2], "weight_decay": 0.0},
    ]
    return MuonAdamW([gr for gr in groups if gr["params"]], lr, momentum=momentum, ns_steps=ns_steps)
