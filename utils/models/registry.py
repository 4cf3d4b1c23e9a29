"""The model registry: one :class:`ModelSpec` per model type, looked up by name.

A spec says everything the command, the scripts and the tests need to know about a model type, so
none of them branches on its name:

- ``recipe``: its notebook's final recipe (the command's defaults);
- ``build(settings, vocab_size, block_size, generator)``: the model, drawn from ``generator`` as its
  notebook draws it, or left to be loaded (zeros) without one;
- ``examples(words, vocab, block_size, max_len)``: the ``X, Y`` it trains and is evaluated on
  (:func:`pairs`, :func:`windows` or :func:`sequences`);
- ``windowed``: it reads a fixed window of the last ``block_size`` tokens (sampled with
  ``window=block_size``), else the whole item so far (``max_context=block_size``);
- ``block_size(settings, max_len)``: its window, or the longest row it reads (the longest item and
  its boundary token, at most the settings' ``context``: a longer item is read in windows);
- ``trainable(model)``: the module the training loop calls on ``X`` (the MLP is trained on windows);
- ``batches(settings)``: what rearranges each drawn batch (the Transformer packs rows), or ``None``;
- ``count(settings, X, Y, vocab_size)``: for a model that is counted rather than trained (the bigram);
- ``check(settings)``: raises :class:`SettingError` for settings that cannot build a model;
- ``published_as``: how its row in its notebook's published results starts (``make reproduce``
  compares the command's figures with that row).

Each family module registers its specs when :mod:`utils.models` imports it; a test registers a tiny
model of its own the same way (``tests/test_registry.py``). ARCHITECTURE.md, "Adding a model",
walks through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

import torch
import torch.nn as nn

from ..data import Vocab, bigram_pairs, context_windows, padded_sequences, windowed_sequences
from ..recipes import Recipe


class SettingError(ValueError):
    """A setting that cannot build or train the model: ``field`` names it, the message says why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field} {message}")
        self.field, self.message = field, message


def pairs(words, vocab: Vocab, block_size: int, max_len: int):
    """(previous, next) pairs as ``(N, 1)`` inputs and ``(N, 1)`` targets (01's bigrams)."""
    xs, ys = bigram_pairs(words, vocab)
    return xs[:, None], ys[:, None]


def windows(words, vocab: Vocab, block_size: int, max_len: int):
    """Context windows ``(N, block_size)`` → next characters ``(N,)`` (03's and 04's examples)."""
    return context_windows(words, vocab, block_size)


def sequences(words, vocab: Vocab, block_size: int, max_len: int):
    """Whole items as padded rows ``(N, max_len + 1)`` with shifted targets (05's and 06's examples);
    when the longest item does not fit ``block_size``, rows of ``block_size`` that cut the longer
    items into overlapping windows (:func:`utils.data.windowed_sequences`)."""
    if max_len + 1 <= block_size:
        return padded_sequences(words, vocab, max_len)
    return windowed_sequences(words, vocab, block_size)


def _identity(model: nn.Module) -> nn.Module:
    return model


def _no_batches(settings) -> None:
    return None


def _no_check(settings) -> None:
    return None


def window_of(settings, max_len: int) -> int:
    """A window model's block size is its recipe's ``block_size``."""
    return settings.block_size


#: The most positions a sequence model reads when its settings name no ``context``.
DEFAULT_CONTEXT = 64


def whole_item(settings, max_len: int) -> int:
    """A sequence model reads the longest item and its leading boundary token, up to its ``context``
    (:data:`DEFAULT_CONTEXT` when its settings have none): no item changes the model's size."""
    return min(max_len + 1, getattr(settings, "context", DEFAULT_CONTEXT))


@dataclass(frozen=True)
class ModelSpec:
    """How to build, feed, train and sample one model type (see the module's docstring)."""

    name: str
    recipe: Recipe
    build: Callable[[Any, int, int, torch.Generator | None], nn.Module]
    examples: Callable
    windowed: bool
    block_size: Callable[[Any, int], int]
    trainable: Callable[[nn.Module], nn.Module] = _identity
    batches: Callable[[Any], Callable | None] = _no_batches
    count: Callable | None = None
    check: Callable[[Any], None] = _no_check
    published_as: str | None = None

    @property
    def settings(self) -> type:
        """The dataclass of the family's part of a recipe."""
        return type(self.recipe.model)

    def options(self) -> set[str]:
        """The names of the family's settings (``n_embd``, ``dropout``...)."""
        return {f.name for f in fields(self.settings)}


_REGISTRY: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` under ``spec.name`` (the name ``sequentia train --type`` takes); returns it."""
    if spec.recipe.type != spec.name:
        raise ValueError(f"the recipe of {spec.name!r} is for type {spec.recipe.type!r}")
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"a model type {spec.name!r} is registered already")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a type (a test's own model, once the test is done)."""
    _REGISTRY.pop(name, None)


def get(name: str) -> ModelSpec:
    """The spec of ``name``; ``KeyError`` naming the known types otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model type {name!r}: use one of {', '.join(_REGISTRY)}") from None


def types() -> tuple[str, ...]:
    """The registered type names in the course's order: by notebook, then in the order registered."""
    return tuple(sorted(_REGISTRY, key=lambda name: _REGISTRY[name].recipe.notebook))


class _Recipes(Mapping):
    """``RECIPES[name]``: the registered types' recipes, a live read-only view of the registry."""

    def __getitem__(self, name: str) -> Recipe:
        return get(name).recipe

    def __iter__(self) -> Iterator[str]:
        return iter(types())

    def __len__(self) -> int:
        return len(_REGISTRY)


RECIPES: Mapping[str, Recipe] = _Recipes()


def recipe_from_dict(d: dict) -> Recipe:
    """A recipe stored by :meth:`Recipe.to_dict` (a checkpoint, ``transformer_sweep.json``)."""
    return Recipe.from_dict(d, get(d["type"]).settings)


def build(recipe: Recipe, vocab_size: int, block_size: int, generator: torch.Generator | None = None) -> nn.Module:
    """The model of ``recipe``, drawn from ``generator`` as its notebook does (zeros, to be loaded, without one)."""
    return get(recipe.type).build(recipe.model, vocab_size, block_size, generator)
