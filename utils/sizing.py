"""Sizing a notebook's recipe to another list: the rule ``sequentia train`` applies when no tuning flag says otherwise.

The recipes were chosen on the 25,626 training names. On a list of another size the same numbers
are wrong: a batch can be larger than the training split, a fixed number of steps is dozens of
times too many passes over a small list, and a model the size of the names' over-fits a few
hundred items. :func:`size_to` keeps what a recipe means on the names and carries it to a list of
``n`` training items:

- **batch**: at most a sixteenth of the training examples (so a pass has at least 16 steps), never
  more than the recipe's, never fewer than 8;
- **length in passes**: the recipe's number of passes over the names' training examples, kept for
  the new list (``steps = passes × examples / batch``), with at least :data:`MIN_STEPS` steps and no
  more than the recipe's, and the warmup shortened in proportion;
- **regularisation that grows as the list shrinks**: the dropout (the Transformer) and the weight
  decay (every model trained with AdamW) grow with ``log10(names / n)``, up to a cap;
- **dev evaluations**: about :data:`EVALUATIONS` per run, so that the best checkpoint and early
  stopping (``--patience``) have something to choose from.

On a list at least as large as the names' the recipe is left as it is (``make reproduce``).
The constants were chosen on dev by ``make sweep-lists`` (``scripts/sweep_lists.py``, recorded in
``notebooks/lists_sweep.json``); README's "Make more of your own list" shows the result.
"""

from __future__ import annotations

import math

from .recipes import Recipe

#: The names' training split, on which every recipe was chosen: items and context windows of 3.
NAMES_TRAIN_ITEMS = 25_626
#: Dev evaluations per run, and the fewest steps a sized run gets.
EVALUATIONS = 20
MIN_STEPS = 300
#: How much regularisation grows per factor of ten fewer items than the names', and its caps.
DROPOUT_PER_DECADE, DROPOUT_CAP = 0.1, 0.3
DECAY_PER_DECADE, DECAY_CAP = 0.1, 0.3


def decades_smaller(n_items: int) -> float:
    """How many factors of ten the list is smaller than the names' training split (0 when larger)."""
    return max(0.0, math.log10(NAMES_TRAIN_ITEMS / max(1, n_items)))


def size_to(recipe: Recipe, n_items: int, n_examples: int, names_examples: int, keep: set[str] = frozenset()) -> Recipe:
    """``recipe`` sized to a list whose training split has ``n_items`` items and ``n_examples`` examples.

    ``names_examples`` is what the recipe's type makes of the names' training split (25,626 items,
    or 182,625 windows of 3 for the MLP). ``keep``: the settings the user gave, which stay as given.
    """
    d = decades_smaller(n_items)
    changes: dict = {}
    if d > 0:
        batch = min(recipe.batch, max(8, n_examples // 16))
        passes = recipe.steps * recipe.batch / names_examples
        steps = min(recipe.steps, max(MIN_STEPS, math.ceil(passes * n_examples / batch)))
        changes |= {"batch": batch, "steps": steps, "warmup": min(recipe.warmup, steps // 10)}
        if recipe.optimizer in ("adamw", "adamw-matrices"):
            changes["weight_decay"] = min(DECAY_CAP, recipe.weight_decay + DECAY_PER_DECADE * d)
        if hasattr(recipe.model, "dropout"):
            changes["dropout"] = min(DROPOUT_CAP, recipe.model.dropout + DROPOUT_PER_DECADE * d)
        changes["eval_every"] = max(1, steps // EVALUATIONS)
    changes = {k: v for k, v in changes.items() if k not in keep}
    if "batch" in keep or "steps" in keep:  # the user sized the run: evaluate along it all the same
        steps = changes.get("steps", recipe.steps)
        changes.setdefault("eval_every", max(1, min(recipe.eval_every, steps // EVALUATIONS)))
        changes = {k: v for k, v in changes.items() if k not in keep}
    return recipe.replace(**changes)


#: What each kind of example the names' training split makes: items (sequence models) or windows.
NAMES_TRAIN_WINDOWS = 182_625


def examples_of(train_items: list[str], windowed: bool) -> tuple[int, int]:
    """``(n_examples, names_examples)`` for a training split: windows (one per character and the end)
    for a window model, items for a sequence model; and the same count on the names."""
    if windowed:
        return sum(len(w) + 1 for w in train_items), NAMES_TRAIN_WINDOWS
    return len(train_items), NAMES_TRAIN_ITEMS
