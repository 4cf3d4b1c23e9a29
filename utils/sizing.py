"""Sizing a notebook's recipe to another list: the rule ``sequentia train`` applies when no tuning flag says otherwise.

The recipes were chosen on the 25,626 training names. On a list of another size the same numbers
are wrong: a batch can be larger than the training split, a fixed number of steps is dozens of
times too many passes over a small list, and a model the size of the names' over-fits a few
hundred items. :func:`size_to` keeps what a recipe means on the names and carries it to a list
smaller than theirs (``d``: how many factors of ten fewer training items):

- **batch**: at most a sixteenth of the training examples (so a pass has at least 16 steps), never
  more than the recipe's, never fewer than 8;
- **length in passes**: the recipe's number of passes over the names' training examples, kept for
  the new list (``steps = passes × examples / batch``), doubled for a model regularised by dropout
  (the Transformer), with at least :data:`MIN_STEPS` steps before the doubling and no more than the
  recipe's; the warmup a tenth of the undoubled length at most. The best checkpoint on dev and early stopping (``--patience``) make a
  generous budget safe;
- **regularisation that grows as the list shrinks**: the Transformer's dropout grows by
  :data:`DROPOUT_PER_DECADE` per ``d`` (its weight decay, 0.3, is already strong); the weight decay of
  the other models trained with AdamW grows by :data:`DECAY_PER_DECADE` per ``d``; both capped;
- **width**: on a list of fewer than :data:`SMALL_CHARACTERS` training characters the hidden width
  (the embedding width of a model without a hidden layer) is halved; a window model (the MLP) gets
  twice the recipe's embedding width on any smaller list, whose alphabets are larger than the names';
- **dev evaluations**: about :data:`EVALUATIONS` per run, so that the best checkpoint and early
  stopping have something to choose from.

On a list at least as large as the names' the recipe is left as it is (``make reproduce``).
Every constant was chosen on dev by ``make sweep-lists`` (``scripts/sweep_lists.py``, recorded in
``notebooks/lists_sweep.json``): on its four lists each default lands within 0.03 of the best of a
grid of steps × regulariser × width; README's "Make more of your own list" shows the table.
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
DECAY_PER_DECADE, DECAY_CAP = 0.2, 0.6
#: Below this many training characters a list gets half the recipe's width.
SMALL_CHARACTERS = 10_000


def decades_smaller(n_items: int) -> float:
    """How many factors of ten the list is smaller than the names' training split (0 when larger)."""
    return max(0.0, math.log10(NAMES_TRAIN_ITEMS / max(1, n_items)))


def size_to(recipe: Recipe, n_items: int, n_examples: int, names_examples: int, keep: set[str] = frozenset(),
            n_chars: int | None = None) -> Recipe:
    """``recipe`` sized to a list whose training split has ``n_items`` items, ``n_examples`` examples and
    ``n_chars`` characters.

    ``names_examples`` is what the recipe's type makes of the names' training split (25,626 items,
    or 182,625 windows for the window models). ``keep``: the settings the user gave, which stay as given.
    """
    d = decades_smaller(n_items)
    changes: dict = {}
    model = recipe.model
    if d > 0:
        dropout = hasattr(model, "dropout")
        batch = min(recipe.batch, max(8, n_examples // 16))
        passes = recipe.steps * recipe.batch / names_examples
        one = max(MIN_STEPS, math.ceil(passes * n_examples / batch))  # the names' passes over this list
        steps = min(recipe.steps, one * (2 if dropout else 1))
        changes |= {"batch": batch, "steps": steps, "warmup": min(recipe.warmup, one // 10)}
        if dropout:
            changes["dropout"] = min(DROPOUT_CAP, model.dropout + DROPOUT_PER_DECADE * d)
        elif recipe.optimizer == "adamw":
            changes["weight_decay"] = min(DECAY_CAP, recipe.weight_decay + DECAY_PER_DECADE * d)
        if hasattr(model, "block_size") and hasattr(model, "n_hidden"):  # a window model: a wider embedding
            changes["n_embd"] = 2 * model.n_embd
        if n_chars is not None and n_chars < SMALL_CHARACTERS:
            width = "n_hidden" if hasattr(model, "n_hidden") else "n_embd"
            w = getattr(model, width)
            changes[width] = max(min(8, w), w // 2)  # half, but not below 8 (a model already narrower stays)
        changes["eval_every"] = max(1, steps // EVALUATIONS)
    if "batch" in keep or "steps" in keep:  # the user sized the run: evaluate (and warm up) along their length
        given = recipe.steps
        changes["eval_every"] = max(1, given // EVALUATIONS if d > 0 else min(recipe.eval_every, given // EVALUATIONS))
        if d > 0 and "steps" in keep:
            changes["warmup"] = min(recipe.warmup, given // 10)
    changes = {k: v for k, v in changes.items() if k not in keep}
    return recipe.replace(**changes)


#: What each kind of example the names' training split makes: items (sequence models) or windows.
NAMES_TRAIN_WINDOWS = 182_625


def examples_of(train_items: list[str], windowed: bool) -> tuple[int, int, int]:
    """``(n_examples, names_examples, n_chars)`` for a training split: windows (one per character and the
    end) for a window model, items for a sequence model; the same count on the names; its characters."""
    n_chars = sum(len(w) for w in train_items)
    if windowed:
        return n_chars + len(train_items), NAMES_TRAIN_WINDOWS, n_chars
    return len(train_items), NAMES_TRAIN_ITEMS, n_chars
