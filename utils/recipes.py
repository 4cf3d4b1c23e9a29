"""One recipe per model: the settings of each notebook's final model, typed and in one place.

The notebooks read their final model's settings from here, and ``sequentia train`` (:mod:`utils.cli`)
trains with them, so the command on ``data/names.txt`` reproduces each notebook's dev and test
figures (same split, seed, steps and schedule). ``make reproduce`` checks that.

- ``bigram``: ``01_bigram_counting``, α chosen on dev among 0 … 100 (it trains by counting);
- ``mlp``: ``03_mlp``'s final model (sizes from a dev study, lr from the learning-rate finder);
- ``rnn``, ``gru``, ``lstm``: ``05_rnn_gru``'s one recipe for the three cells;
- ``bow``: ``06_transformer``'s bag-of-words baseline;
- ``transformer``: ``06_transformer``, the run ``notebooks/transformer_sweep.json`` chose on dev.

A recipe's learning rate follows :func:`utils.train.warmup_cosine` (``schedule="cosine"``), or, for
the bag of words, ``lr`` for the first half of the steps and ``lr · floor`` after
(``schedule="step"``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .device import SEED
from .train import ShuffledPasses, warmup_cosine

#: The model types of ``sequentia train --type``.
TYPES = ("bigram", "mlp", "rnn", "gru", "lstm", "bow", "transformer")


@dataclass(frozen=True)
class Recipe:
    """Everything needed to build and train one model type, besides the data.

    ``block_size``: the MLP's context window; ``None`` for the sequence models, whose block size is
    the longest word of the file plus one (its leading boundary token). ``n_embd``/``n_hidden``:
    widths (``n_head``, ``n_layer`` for the Transformer). ``optimizer``: ``"sgd"`` (03), ``"adamw"``
    (05 and the bag of words: AdamW on every parameter) or ``"adamw-matrices"`` (06's Transformer:
    decay on the matrices only, betas (0.9, 0.99), the fused update). ``row_len``: pack the names of
    each batch into rows of this length (06). ``sampling``: ``"random"`` (each batch drawn with
    replacement, 03–05) or ``"passes"`` (shuffled passes over the training items,
    :class:`utils.train.ShuffledPasses`, 06's Transformer). ``alpha``: the bigram's smoothing (it trains by counting).
    """

    type: str
    notebook: str
    block_size: int | None = None
    n_embd: int = 0
    n_hidden: int = 0
    n_head: int = 0
    n_layer: int = 0
    dropout: float = 0.0
    steps: int = 0
    batch: int = 0
    lr: float = 0.0
    schedule: str = "cosine"
    warmup: int = 0
    floor: float = 1.0
    weight_decay: float = 0.0
    grad_clip: float | None = None
    optimizer: str = "sgd"
    row_len: int | None = None
    sampling: str = "random"
    alpha: float = 0.0
    seed: int = SEED
    eval_every: int = 1000

    def replace(self, **changes) -> Recipe:
        """A copy with ``changes`` (the command's options)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Recipe:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown recipe fields {sorted(unknown)}")
        return cls(**d)

    def lr_schedule(self) -> Callable[[int], float]:
        """The learning rate of each step."""
        if self.schedule == "cosine":
            return warmup_cosine(self.lr, self.warmup, self.steps, self.floor)
        if self.schedule == "step":
            half, lr, low = self.steps // 2, self.lr, self.lr * self.floor
            return lambda step: lr if step < half else low
        raise ValueError(f"unknown schedule {self.schedule!r}: use 'cosine' or 'step'.")

    def make_optimizer(self, model: torch.nn.Module) -> torch.optim.Optimizer:
        if self.optimizer == "sgd":
            return torch.optim.SGD(model.parameters(), lr=self.lr)
        if self.optimizer == "adamw":
            return torch.optim.AdamW(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        if self.optimizer == "adamw-matrices":
            from .transformer import make_optimizer

            return make_optimizer(model, self.lr, self.weight_decay)
        raise ValueError(f"unknown optimizer {self.optimizer!r}: use 'sgd', 'adamw' or 'adamw-matrices'.")

    def sampler(self, n: int) -> Callable[[int], torch.Tensor] | None:
        """What :func:`utils.train.train` takes as ``sampler`` for ``n`` training items (None: at random)."""
        if self.sampling == "random":
            return None
        if self.sampling == "passes":
            return ShuffledPasses(n, self.batch, self.seed)
        raise ValueError(f"unknown sampling {self.sampling!r}: use 'random' or 'passes'.")


#: 01: add-α smoothing of the counts, α = 0.3 chosen on dev (the bigram trains by counting).
BIGRAM = Recipe("bigram", "01_bigram_counting", block_size=1, alpha=0.3, steps=0, batch=1, eval_every=1)

#: 03's final model: k = 3, d = 12, H = 300; SGD, lr 0.5 (the finder's choice) decaying along a cosine
#: to 5% over 20,000 steps of 256 windows.
MLP = Recipe("mlp", "03_mlp", block_size=3, n_embd=12, n_hidden=300, steps=20_000, batch=256, lr=0.5,
             floor=0.05, optimizer="sgd", eval_every=2000)

#: 05's recipe for the three cells: E = 64, H = 128; AdamW (weight decay 0.01), lr 0.01 → 0.001 along a
#: cosine, 800 steps of 256 names, gradient norm clipped at 1.
RNN = Recipe("rnn", "05_rnn_gru", n_embd=64, n_hidden=128, steps=800, batch=256, lr=1e-2, floor=0.1,
             weight_decay=0.01, grad_clip=1.0, optimizer="adamw", eval_every=200)
GRU = RNN.replace(type="gru")
LSTM = RNN.replace(type="lstm")

#: 06's bag of words: C = 32, H = 128; AdamW (weight decay 0.01), lr 3e-3 then 1e-3 for the second
#: half of 3,000 steps of 64 names.
BOW = Recipe("bow", "06_transformer", n_embd=32, n_hidden=128, steps=3000, batch=64, lr=3e-3, schedule="step",
             floor=1 / 3, weight_decay=0.01, optimizer="adamw", eval_every=500)

#: 06's Transformer: the run that ``notebooks/transformer_sweep.json`` chose on dev (tests/test_models.py
#: checks that they agree).
TRANSFORMER = Recipe("transformer", "06_transformer", n_embd=64, n_head=2, n_layer=3, dropout=0.05, steps=6000,
                     batch=128, lr=8e-3, warmup=200, floor=0.02, weight_decay=0.3, grad_clip=1.0,
                     optimizer="adamw-matrices", row_len=32, sampling="passes", eval_every=1000)

RECIPES: dict[str, Recipe] = {r.type: r for r in (BIGRAM, MLP, RNN, GRU, LSTM, BOW, TRANSFORMER)}
assert tuple(RECIPES) == TYPES
