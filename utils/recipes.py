"""A recipe: everything needed to build and train one model, besides the data, as plain data.

A :class:`Recipe` has the fields every model type shares (how long, how fast, how the batches are
drawn) and one per-family part, ``model``: a small frozen dataclass that the model's own module
defines beside the model (``MLPSettings`` in :mod:`utils.models.mlp`, ``GPTSettings`` in
:mod:`utils.models.transformer`, ...). Each notebook's final recipe lives beside its model too, and
the registry (:mod:`utils.models.registry`) lists them: ``from utils.models import RECIPES``.

A recipe only holds data. What it means is computed elsewhere: the learning-rate schedule, the
optimiser and the batch order by :mod:`utils.train` (:func:`~utils.train.lr_schedule`,
:func:`~utils.train.make_optimizer`, :func:`~utils.train.make_sampler`), the model by its registered
spec. ``sequentia train`` stores ``recipe.to_dict()`` (one flat dict) in every checkpoint.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .device import SEED

#: The learning-rate schedules (:func:`utils.train.lr_schedule`), the optimisers
#: (:func:`utils.train.make_optimizer`) and the batch orders (:func:`utils.train.make_sampler`).
SCHEDULES = ("cosine", "ramped-cosine", "step")
OPTIMIZERS = ("sgd", "adamw", "adamw-matrices", "muon")
SAMPLINGS = ("random", "passes")


@dataclass(frozen=True)
class Recipe:
    """One model type's settings: the shared training fields and the family's own ``model`` part.

    ``steps`` steps of ``batch`` examples (windows for the window models, whole items for the
    sequence models); the learning rate peaks at ``lr`` and follows ``schedule`` (``"cosine"``:
    :func:`utils.train.warmup_cosine`; ``"ramped-cosine"``: 04's cosine over every step, ramped up
    over the first ``warmup``; ``"step"``: ``lr`` for the first half, ``lr · floor`` after);
    ``optimizer``: ``"sgd"`` (03), ``"adamw"`` (AdamW on every parameter: 04, 05, the bag of words)
    ``"adamw-matrices"`` (decay on the matrices only, betas (0.9, 0.99)) or ``"muon"`` (Muon with
    ``momentum`` and ``ns_steps`` Newton–Schulz steps on the hidden matrices, that AdamW elsewhere:
    :func:`utils.muon.muon_adamw`);
    ``sampling``: ``"random"`` (each batch drawn with replacement) or ``"passes"`` (shuffled passes,
    :class:`utils.train.ShuffledPasses`). A type that trains by counting (the bigram) uses none of
    these but ``eval_every``.
    """

    type: str
    notebook: str
    model: Any
    steps: int = 0
    batch: int = 0
    lr: float = 0.0
    schedule: str = "cosine"
    warmup: int = 0
    floor: float = 1.0
    weight_decay: float = 0.0
    grad_clip: float | None = None
    optimizer: str = "sgd"
    momentum: float = 0.95
    ns_steps: int = 5
    sampling: str = "random"
    seed: int = SEED
    eval_every: int = 1000

    def replace(self, **changes) -> Recipe:
        """A copy with ``changes``; a name of the family's part (``n_embd``, ``dropout``...) changes it there."""
        own = {f.name for f in dataclasses.fields(self)}
        part = {k: v for k, v in changes.items() if k not in own}
        unknown = set(part) - {f.name for f in dataclasses.fields(self.model)}
        if unknown:
            raise ValueError(f"a {self.type} recipe has no setting {sorted(unknown)}")
        top = {k: v for k, v in changes.items() if k in own}
        if part:
            top["model"] = dataclasses.replace(top.get("model", self.model), **part)
        return dataclasses.replace(self, **top)

    def to_dict(self) -> dict:
        """Every setting in one flat dict, the family's part merged in: what a checkpoint and
        ``transformer_sweep.json`` store, and what two recipes are compared on."""
        flat = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "model"}
        return flat | dataclasses.asdict(self.model)

    @classmethod
    def from_dict(cls, d: dict, settings: type) -> Recipe:
        """The recipe of a flat dict (:meth:`to_dict`), the names of ``settings`` making its ``model`` part."""
        own = {f.name for f in dataclasses.fields(cls)} - {"model"}
        part = {f.name for f in dataclasses.fields(settings)}
        unknown = set(d) - own - part
        if unknown:
            raise ValueError(f"unknown recipe fields {sorted(unknown)}")
        return cls(**{k: v for k, v in d.items() if k in own},
                   model=settings(**{k: v for k, v in d.items() if k in part}))
