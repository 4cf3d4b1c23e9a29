"""Seeded sampling of words from a probability table or from any model that maps a context to logits.

Introduced in ``02_bigram_neural`` after ``01_bigram_counting`` wrote the sampling loop by hand;
reused by every later notebook. Every draw is
``torch.multinomial(p, num_samples=1, replacement=True, generator=g)`` on the CPU, one character at
a time and one word after another, so two models with the same probabilities and the same seed
produce the same words.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .data import Vocab
from .device import check_cpu


def _check_n(n: int, max_len: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n (the number of words to sample) must be a non-negative integer, got {n!r}.")
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"max_len must be a positive integer, got {max_len!r}.")


def probs_from_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None) -> torch.Tensor:
    """Softmax of ``logits / temperature`` over the last dimension, keeping only the ``top_k`` largest.

    ``temperature`` < 1 sharpens the distribution and > 1 flattens it; ``top_k`` sets every logit
    below the k-th largest to -inf before the softmax.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}.")
    logits = logits / temperature
    if top_k is not None:
        V = logits.shape[-1]
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= V:
            raise ValueError(f"top_k must be an integer between 1 and {V}, got {top_k!r}.")
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.softmax(logits, dim=-1)


def sample_from_table(
    P: torch.Tensor, vocab: Vocab, n: int, generator: torch.Generator, *, max_len: int = 50
) -> list[str]:
    """Sample ``n`` words from a bigram table ``P`` of shape ``(V, V)`` whose rows are distributions.

    Starts each word at the boundary token (index 0) and stops when it is drawn again (or after
    ``max_len`` characters). The words are returned without the boundary.
    """
    check_cpu(generator)
    _check_n(n, max_len)
    V = len(vocab)
    if P.shape != (V, V):
        raise ValueError(f"P must have shape ({V}, {V}) for this vocabulary, got {tuple(P.shape)}.")
    P = P.detach().to("cpu", torch.float32)
    if (P < 0).any() or not torch.allclose(P.sum(1), torch.ones(V), atol=1e-4):
        raise ValueError("every row of P must be a probability distribution (non-negative, summing to 1).")
    words = []
    for _ in range(n):
        out = []
        ix = 0
        while True:
            ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=generator).item()
            if ix == 0:
                break
            out.append(vocab.itos[ix])
            if len(out) >= max_len:
                break
        words.append("".join(out))
    return words


@torch.no_grad()
def sample(
    next_logits: Callable[[torch.Tensor], torch.Tensor],
    vocab: Vocab,
    n: int,
    generator: torch.Generator,
    *,
    window: int | None = None,
    max_context: int | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    max_len: int = 50,
    device: torch.device | str | None = None,
    prefix: str = "",
) -> list[str]:
    """Sample ``n`` words from ``next_logits``, a function from a ``(1, T)`` context to ``(1, V)`` logits.

    ``next_logits`` may also be a sequence model of :mod:`utils.models`, which returns ``(1, T, V)``:
    the last position's logits are used (``model(ctx)[:, -1, :]``), with the model in eval mode.
    Every word starts with ``prefix`` (default none), as if the model had drawn its characters.

    - ``window=k``: the context is always the last ``k`` tokens, starting as ``k`` boundary
      tokens (bigram: ``k=1``; the MLP: its block size).
    - ``window=None``: the context is the whole word so far, starting with one boundary token
      (recurrent and attention models); ``max_context`` crops it to the last tokens.

    The context is sent to ``device`` (default CPU) and the probabilities come back to the CPU for
    the draw, so the CPU ``generator`` drives every device the same way.
    """
    check_cpu(generator)
    _check_n(n, max_len)
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise ValueError(f"window must be a positive integer or None, got {window!r}.")
    V = len(vocab)
    start = vocab.encode(prefix)
    if isinstance(next_logits, torch.nn.Module):
        next_logits.eval()
    words = []
    for _ in range(n):
        context = [0] * (window or 1) + start
        out = list(prefix)
        while len(out) < max_len:
            ctx = context[-window:] if window else context[-max_context:] if max_context else context
            logits = next_logits(torch.tensor([ctx], device=device))
            if logits.dim() == 3 and logits.shape[:1] + logits.shape[2:] == (1, V):
                logits = logits[:, -1, :]  # a sequence model: the next character after the last position
            if logits.shape != (1, V):
                raise ValueError(
                    f"next_logits must return logits of shape (1, {V}) for a (1, T) context, "
                    f"got {tuple(logits.shape)} (a model may also return (1, T, V))."
                )
            p = probs_from_logits(logits.float(), temperature, top_k).to("cpu")[0]
            ix = torch.multinomial(p, num_samples=1, replacement=True, generator=generator).item()
            if ix == 0:
                break
            out.append(vocab.itos[ix])
            context.append(ix)
        words.append("".join(out))
    return words
