"""Packing several words into each row, so that a Transformer computes on characters, not padding.

Introduced in ``06_transformer``, which writes the packing, the positions and the block-diagonal
causal mask out by hand before using these helpers.

A padded batch (:func:`utils.data.padded_sequences`) stores each word in its own row,
``[0, w_1 … w_L, 0 …]`` with targets ``[w_1 … w_L, 0, -1 …]``: most positions are padding. A packed
batch puts several words side by side in rows of ``row_len`` positions. Every word still starts with
the boundary token 0, which appears nowhere else in an input, so the rows need no extra bookkeeping:
:func:`segment_positions` reads where each word starts from the inputs alone, restarts the positions
there, and builds the mask that lets a position attend only to the earlier positions *of its own
word*. With that mask every word is computed exactly as in its own padded row.
"""

from __future__ import annotations

import torch

from .data import IGNORE_INDEX


def best_fit(lengths: list[int], row_len: int) -> list[tuple[int, int]]:
    """Assign items of the given ``lengths`` to rows of ``row_len`` slots: best fit, longest first.

    Returns one ``(row, offset)`` per item, in the order of ``lengths``. Items are placed from the
    longest to the shortest (ties in their given order), each into the fullest row that still has
    room for it, else into a new row; the result is deterministic.
    """
    if isinstance(row_len, bool) or not isinstance(row_len, int) or row_len < 1:
        raise ValueError(f"row_len must be a positive integer, got {row_len!r}.")
    if any(n > row_len or n < 1 for n in lengths):
        raise ValueError(f"every length must be between 1 and row_len={row_len}, got {max(lengths)} / {min(lengths)}.")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    free: list[int] = []  # free slots of each row
    where: list[tuple[int, int]] = [(0, 0)] * len(lengths)
    for i in order:
        n = lengths[i]
        best, best_free = -1, row_len + 1
        for r, f in enumerate(free):
            if n <= f < best_free:
                best, best_free = r, f
                if f == n:
                    break
        if best < 0:
            free.append(row_len)
            best = len(free) - 1
        where[i] = (best, row_len - free[best])
        free[best] -= n
    return where


def pack_rows(X: torch.Tensor, Y: torch.Tensor, row_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Repack padded rows ``X, Y`` ``(B, T)`` into rows of ``row_len`` positions holding several words.

    A word occupies the positions whose target is not ``IGNORE_INDEX`` (its boundary token, its
    characters; targets its characters and the end token). Words are placed whole with
    :func:`best_fit`; the free positions at the end of a row hold input 0 and target
    ``IGNORE_INDEX``. Returns ``Xp, Yp`` of shape ``(rows, row_len)``; the targets are the same
    multiset as ``Y``'s, so the mean loss over a packed batch is the mean over the same words.
    """
    if X.shape != Y.shape or X.dim() != 2:
        raise ValueError(f"X and Y must be (B, T) tensors of one shape, got {tuple(X.shape)} and {tuple(Y.shape)}.")
    keep = Y != IGNORE_INDEX  # (B, T): the positions a word occupies (a prefix of its row)
    lengths = keep.sum(dim=1)
    if not bool((keep == (torch.arange(X.shape[1]) < lengths[:, None])).all()):
        raise ValueError("each row's targets must be a prefix of real targets followed only by IGNORE_INDEX.")
    where = best_fit(lengths.tolist(), row_len)
    rows = 1 + max(r for r, _ in where)
    start = torch.tensor([r * row_len + o for r, o in where])  # (B,) flat index of each word's first slot
    dest = (start[:, None] + torch.arange(X.shape[1])[None, :])[keep]  # flat slot of every kept position
    Xp = torch.zeros(rows * row_len, dtype=X.dtype)
    Yp = torch.full((rows * row_len,), IGNORE_INDEX, dtype=Y.dtype)
    Xp[dest], Yp[dest] = X[keep], Y[keep]
    return Xp.view(rows, row_len), Yp.view(rows, row_len)


class PackRows:
    """``train(..., batch_fn=PackRows(32))``: each step's padded batch repacked into rows of ``row_len``."""

    def __init__(self, row_len: int):
        self.row_len = row_len

    def __call__(self, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return pack_rows(X, Y, self.row_len)

    def __repr__(self) -> str:
        return f"PackRows({self.row_len})"


def segment_positions(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions that restart at every boundary token, and the block-diagonal causal mask.

    ``idx`` ``(B, T)`` holds words that each start with the boundary token 0 (packed or padded rows).
    Returns ``pos`` ``(B, T)``, the distance of each position from the start of its word, and
    ``mask`` ``(B, T, T)``, True where query ``t`` may attend to key ``s``: ``s ≤ t`` and both in the
    same word. A row that does not start with 0 (a context cropped by a sampler) counts as one word
    from its first position.
    """
    T = idx.shape[1]
    ar = torch.arange(T, device=idx.device)
    start = torch.where(idx == 0, ar, torch.zeros_like(ar)).cummax(dim=1).values  # (B, T) where each word starts
    pos = ar - start
    mask = (start[:, :, None] == start[:, None, :]) & (ar[:, None] >= ar[None, :])
    return pos, mask
