"""Plots the notebooks share.

Each function draws on a Matplotlib ``Axes`` (a new figure when none is given) and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt

from .train import History


def plot_loss(
    histories: History | Mapping[str, History], *, window: int = 200, ax: plt.Axes | None = None, title: str | None = None
) -> plt.Axes:
    """Training loss averaged over blocks of ``window`` steps, with the dev losses as markers.

    Introduced in ``03_mlp`` (the smoothed loss curve); reused by 04–06.
    """
    if isinstance(histories, History):
        histories = {"model": histories}
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    for i, (name, h) in enumerate(histories.items()):
        color = f"C{i}"
        smooth = h.smoothed(window)
        steps = [(k + 0.5) * window for k in range(len(smooth))] if len(h.step_loss) >= window else range(len(smooth))
        ax.plot(list(steps), smooth.tolist(), color=color, alpha=0.8, label=f"{name} train (mean of {window} steps)")
        if h.dev_steps:
            ax.plot(h.dev_steps, h.dev_loss, "o--", color=color, markersize=4, label=f"{name} dev")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per character)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_attention(
    weights,
    tokens,
    *,
    key_tokens=None,
    ax: plt.Axes | None = None,
    title: str | None = None,
    cmap: str = "Blues",
    annotate: bool = False,
) -> plt.Axes:
    """The attention map of one head: row ``i`` is how query position ``i`` spreads its attention.

    ``weights`` is a ``(T_q, T_k)`` tensor or array of attention weights (each row sums to 1);
    ``tokens`` labels the query rows and, unless ``key_tokens`` is given, the key columns too (self-
    attention). Entries that are exactly zero above the diagonal (the causal mask) are left blank, so
    the lower-triangular structure stays visible; ``annotate=True`` prints each weight in its cell.
    Introduced in ``06_transformer``.
    """
    import numpy as np

    w = weights.detach().cpu().float().numpy() if hasattr(weights, "detach") else np.asarray(weights, dtype=float)
    if w.ndim != 2:
        raise ValueError(f"weights must be a 2-D (queries, keys) matrix of one head, got shape {tuple(w.shape)}.")
    tokens = list(tokens)
    key_tokens = tokens if key_tokens is None else list(key_tokens)
    if len(tokens) != w.shape[0] or len(key_tokens) != w.shape[1]:
        raise ValueError(
            f"weights has shape {tuple(w.shape)} but there are {len(tokens)} query and {len(key_tokens)} key "
            "labels: give one label per row and per column."
        )
    Tq, Tk = w.shape
    future = np.triu(np.ones((Tq, Tk), dtype=bool), k=1 + Tk - Tq) & (w == 0)
    shown = np.ma.masked_array(w, mask=future)
    if ax is None:
        side = 0.45 * max(Tq, Tk) + 1.5
        _, ax = plt.subplots(figsize=(side, side * Tq / Tk))
    cm = plt.get_cmap(cmap).with_extremes(bad="#f0f0f0")
    ax.imshow(shown, cmap=cm, vmin=0.0, vmax=1.0)
    ax.set_xticks(range(Tk), [str(t) for t in key_tokens])
    ax.set_yticks(range(Tq), [str(t) for t in tokens])
    ax.tick_params(length=0)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    if annotate:
        for i in range(Tq):
            for j in range(Tk):
                if not future[i, j]:
                    ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if w[i, j] > 0.6 else "#252525")
    if title:
        ax.set_title(title)
    return ax


def plot_embedding_2d(
    C,
    vocab,
    ax: plt.Axes | None = None,
    *,
    highlight: str = "aeiou",
    title: str | None = None,
) -> plt.Axes:
    """Scatter a two-dimensional embedding table ``C`` of shape ``(V, 2)``, each point labelled by its character.

    The characters in ``highlight`` (the vowels by default) are drawn in a second colour and the
    boundary token in a third, so that clusters are easy to spot. ``C`` may be any tensor (on any
    device, with or without gradients) or array. Introduced in ``03_mlp``.
    """
    import torch

    C = torch.as_tensor(C.detach() if isinstance(C, torch.Tensor) else C).to("cpu", torch.float32)
    if C.ndim != 2 or C.shape != (len(vocab), 2):
        raise ValueError(
            f"C must have shape ({len(vocab)}, 2), one 2-D point per token of the vocabulary, got {tuple(C.shape)}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    labels = [vocab.itos[i] for i in range(len(vocab))]
    marked = set(highlight or "")
    colors = ["C3" if i == 0 else "C1" if ch in marked else "C0" for i, ch in enumerate(labels)]
    ax.scatter(C[:, 0].tolist(), C[:, 1].tolist(), s=260, c=colors, alpha=0.9)
    for (x, y), ch in zip(C.tolist(), labels, strict=True):
        ax.text(x, y, ch, ha="center", va="center", color="white", fontsize=10, fontweight="bold")
    handles = [plt.Line2D([], [], marker="o", linestyle="", color="C0", label="other characters")]
    if highlight:
        handles.insert(0, plt.Line2D([], [], marker="o", linestyle="", color="C1", label=f"highlighted: {highlight}"))
    handles.append(plt.Line2D([], [], marker="o", linestyle="", color="C3", label=f"boundary {labels[0]!r}"))
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.set_xlabel("dimension 0")
    ax.set_ylabel("dimension 1")
    ax.grid(alpha=0.3)
    ax.set_title(title or "character embedding (2-D)")
    return ax


def plot_bigram_heatmap(
    N,
    vocab,
    ax: plt.Axes | None = None,
    *,
    log: bool = True,
    fmt: str | None = None,
    cmap: str = "Blues",
    fontsize: float = 9.0,
    title: str | None = None,
) -> plt.Axes:
    """The ``(V, V)`` bigram table ``N`` as a grid, every cell labelled with its bigram and its value.

    Row ``i`` is the first character and column ``j`` the second, so cell ``(i, j)`` reads
    ``vocab.itos[i] + vocab.itos[j]`` above ``N[i, j]``. With ``log=True`` (the default) the shading
    follows the logarithm of the value, so rare bigrams stay visible next to the common ones, and
    cells equal to 0 (bigrams never seen) are left white. ``fmt`` formats the values (default:
    integers for whole numbers such as counts, ``.2f`` otherwise, e.g. for probabilities). On a
    new figure (``ax=None``) a 27×27 table is drawn at 16×16 inches so every label is legible.
    Introduced in ``01_bigram_counting``.
    """
    import torch
    from matplotlib.colors import LogNorm, Normalize

    V = len(vocab)
    N = torch.as_tensor(N.detach() if isinstance(N, torch.Tensor) else N).to("cpu", torch.float64)
    if N.shape != (V, V):
        raise ValueError(f"N must have shape ({V}, {V}) for this vocabulary of {V} tokens, got {tuple(N.shape)}.")
    if not bool(torch.isfinite(N).all()) or bool((N < 0).any()):
        raise ValueError("N must hold finite, non-negative values (counts or probabilities).")
    if fmt is None:
        fmt = "d" if bool((N == N.round()).all()) else ".2f"
    if ax is None:
        side = max(4.0, 0.65 * V)
        _, ax = plt.subplots(figsize=(side, side), dpi=72)  # 72 dpi: legible at 9 pt, a modest PNG
    vmax = float(N.max()) if float(N.max()) > 0 else 1.0
    positive = N[N > 0]
    if log and positive.numel() > 0:
        norm = LogNorm(vmin=float(positive.min()), vmax=max(vmax, float(positive.min()) * 1.0001))
        shown = N.masked_fill(N == 0, float("nan"))
    else:
        norm = Normalize(vmin=0.0, vmax=vmax)
        shown = N
    colormap = plt.get_cmap(cmap).with_extremes(bad="white")
    ax.imshow(shown.numpy(), cmap=colormap, norm=norm)
    threshold = norm(vmax) * 0.6
    for i in range(V):
        for j in range(V):
            value = float(N[i, j])
            text = f"{vocab.itos[i]}{vocab.itos[j]}\n{(int(value) if fmt == 'd' else value):{fmt}}"
            dark = value > 0 and norm(value) > threshold
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize, linespacing=1.25,
                    color="white" if dark else "#404040")
    labels = [vocab.itos[k] for k in range(V)]
    ax.set_xticks(range(V), labels)
    ax.set_yticks(range(V), labels)
    ax.tick_params(top=True, labeltop=True, bottom=False, labelbottom=False, length=0)
    ax.set_xlabel("second character (column)")
    ax.xaxis.set_label_position("top")
    ax.set_ylabel("first character (row)")
    if title:
        ax.set_title(title, pad=28)
    return ax
