"""The course's language models, one module per family, each packaged after its notebook wrote it out.

One forward contract for the sequence models: ``model(idx)`` maps a batch of index sequences
``(B, T)`` to logits ``(B, T, V)``, the distribution of the next character at each position. A
sequence starts with the boundary token 0, as the rows of :func:`utils.data.padded_sequences` do.
The window models (:class:`MLP` through :class:`~utils.models.mlp.Windows`, :class:`WaveNet`) are
trained on windows ``(B, k)`` → ``(B, V)``.

- :mod:`.bigram` — :class:`Bigram`: ``01_bigram_counting`` (counted) and ``02_bigram_neural`` (trained);
- :mod:`.mlp` — :class:`MLP`: ``03_mlp``, Bengio et al. (2003);
- :mod:`.wavenet` — :class:`WaveNet`: ``04_training_dynamics``, the hierarchical MLP;
- :mod:`.recurrent` — :class:`RecurrentLM` with :class:`RNNCell`, :class:`GRUCell` or :class:`LSTMCell`
  (:func:`recurrent_lm`): ``05_rnn_gru``;
- :mod:`.bow` — :class:`BagOfWords`: ``06_transformer``'s baseline;
- :mod:`.transformer` — :class:`GPT`: ``06_transformer``'s decoder.

Each family module also holds its recipe's per-family settings, its notebook's final recipe and its
:class:`~.registry.ModelSpec`, registered by name (:mod:`.registry`): ``RECIPES["mlp"]``,
``build(recipe, ...)`` and ``get("mlp")`` look a type up, so no caller branches on its name.

Built with a CPU ``generator``, each class draws its parameters exactly as its notebook does (same
order, same distributions), so the same seed gives the same initial weights; built without one, the
parameters are zeros, to be filled with ``load_state_dict`` (the notebooks load their inline model's
weights this way and assert identical logits). Each notebook's own code is the teaching copy.
"""

from __future__ import annotations

import torch.nn as nn

from . import bigram, bow, mlp, recurrent, transformer, wavenet  # noqa: F401  (each registers its types)
from ._init import init_weights
from .bigram import Bigram
from .bow import BagOfWords, causal_average
from .mlp import MLP
from .recurrent import CELLS, GRUCell, LSTMCell, RecurrentLM, RNNCell, recurrent_lm
from .registry import RECIPES, ModelSpec, SettingError, build, get, recipe_from_dict, register, types
from .transformer import GPT, init_gpt
from .wavenet import WaveNet

#: The course's model types, in the course's order (``sequentia train --type``).
TYPES = types()

__all__ = [
    "Bigram", "MLP", "WaveNet", "RNNCell", "GRUCell", "LSTMCell", "RecurrentLM", "recurrent_lm", "CELLS",
    "BagOfWords", "causal_average", "GPT", "init_gpt", "init_weights", "n_params",
    "RECIPES", "TYPES", "ModelSpec", "SettingError", "build", "get", "recipe_from_dict", "register", "types",
]


def n_params(model: nn.Module) -> int:
    """The number of parameters of ``model`` (a tied matrix counted once). Used from ``03_mlp`` on."""
    return sum(p.numel() for p in model.parameters())
