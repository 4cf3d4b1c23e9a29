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

    Introduced in ``03_mlp`` (the smoothed loss curve); reused by 04 and 05.
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
