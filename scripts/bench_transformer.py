#!/usr/bin/env python
"""Training throughput of notebook 06's Transformer: padded rows against packed rows, side by side.

``make bench`` (and ``make bench-transformer``) runs this after the notebooks and appends its table to
``_build/bench.md``. Every variant trains the same model from the same initialisation on the same
batches of 128 training names (single-threaded, the course's seed); the variants take turns, a few
times over, and each keeps its fastest round, so a busy machine slows all of them alike. Reported:
useful characters per second (targets that are not padding), steps per second, and the ratio to
the notebook's training step before packing (padded rows trimmed to the batch's longest name,
``SkipPadding``; AdamW's per-parameter update; ``nn.Dropout``).

- ``padded``: one name per row, rows cut after the batch's longest name, causal attention, ``nn.Dropout``.
- ``padded, fused AdamW``: the same, with AdamW's single-kernel update (``fused=True``).
- ``packed, nn.Dropout``: names packed whole into rows of 32 (utils.packing), positions restarting at
  each name, block-diagonal causal mask; fused AdamW.
- ``packed, byte-mask dropout``: the same with :class:`utils.models.transformer.Dropout`, which draws one
  random byte per activation instead of one random number.
- ``packed, byte-mask dropout, Muon + AdamW``: the same with :func:`utils.muon.muon_adamw` (Muon's
  five Newton–Schulz steps on the blocks' matrices, same-shaped ones together; AdamW on the rest).

The row marked "notebook 06" is the step of the packaged recipe's optimiser (``RECIPES["transformer"]``).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from utils.data import IGNORE_INDEX, Vocab, load_words, padded_sequences, split_words
from utils.device import SEED, cpu_model
from utils.models import RECIPES
from utils.models.transformer import GPT, Dropout, init_gpt
from utils.muon import muon_adamw
from utils.packing import pack_rows
from utils.train import lm_loss


def forward_causal(model: GPT, idx: torch.Tensor) -> torch.Tensor:
    """The model as notebook 06 ran it before packing: positions 0..T-1 and a plain causal mask."""
    T = idx.shape[1]
    x = model.drop(model.tok(idx) + model.pos(torch.arange(T)))
    for block in model.blocks:
        x = block(x, None)
    return model.head(model.ln_f(x))


def with_torch_dropout(model: GPT) -> GPT:
    """Every :class:`utils.models.transformer.Dropout` of ``model`` replaced by ``nn.Dropout`` of the same rate."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, Dropout):
                setattr(module, name, torch.nn.Dropout(child.p))
    return model


def skip_padding(xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    used = int((yb != IGNORE_INDEX).sum(dim=1).max())  # the longest name of the batch, with its end token
    return xb[:, :used], yb[:, :used]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--append", type=Path, help="append the Markdown table to this file")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(1)

    words = load_words()
    vocab = Vocab.from_words(words)
    train_words, _, _ = split_words(words)
    max_len = max(len(w) for w in words)
    Xtr, Ytr = padded_sequences(train_words, vocab, max_len)
    recipe = RECIPES["transformer"].to_dict()  # the recipe the sweep chose (tests/test_models.py checks it)

    def variant(packed: bool, fused: bool, byte_dropout: bool, muon: bool = False):
        model = init_gpt(GPT(len(vocab), max_len + 1, recipe["n_embd"], recipe["n_head"], recipe["n_layer"],
                             recipe["dropout"]), torch.Generator().manual_seed(SEED), recipe["n_layer"])
        if not byte_dropout:
            with_torch_dropout(model)
        opt = (muon_adamw(model, 1e-3, recipe["weight_decay"]) if muon else
               torch.optim.AdamW(model.parameters(), lr=1e-3, fused=fused, foreach=None if fused else True))
        gen = torch.Generator().manual_seed(SEED)

        def step() -> int:
            ix = torch.randint(0, Xtr.shape[0], (recipe["batch"],), generator=gen)
            xb, yb = Xtr[ix], Ytr[ix]
            if packed:
                xb, yb = pack_rows(xb, yb, recipe["row_len"])
                loss = lm_loss(model(xb), yb)
            else:
                xb, yb = skip_padding(xb, yb)
                loss = lm_loss(forward_causal(model, xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            return int((yb != IGNORE_INDEX).sum())

        return model, step

    ours = " (notebook 06)"
    adamw_ours, muon_ours = (ours, "") if recipe["optimizer"] != "muon" else ("", ours)
    variants = {
        "padded (before packing)": variant(packed=False, fused=False, byte_dropout=False),
        "padded, fused AdamW": variant(packed=False, fused=True, byte_dropout=False),
        "packed rows of 32, fused AdamW, nn.Dropout": variant(packed=True, fused=True, byte_dropout=False),
        f"packed rows of 32, fused AdamW, byte-mask dropout{adamw_ours}": variant(packed=True, fused=True,
                                                                                byte_dropout=True),
        f"packed rows of 32, Muon + AdamW, byte-mask dropout{muon_ours}": variant(packed=True, fused=True,
                                                                                byte_dropout=True, muon=True),
    }
    best: dict[str, tuple[float, int]] = {}
    torch.manual_seed(SEED)
    for model, step in variants.values():  # warm up: first calls allocate
        model.train()
        for _ in range(5):
            step()
    for _ in range(args.rounds):
        for name, (_, step) in variants.items():
            t0 = time.perf_counter()
            chars = sum(step() for _ in range(args.steps))
            seconds = time.perf_counter() - t0
            if name not in best or seconds / chars < best[name][0] / best[name][1]:
                best[name] = (seconds, chars)
    base_cps = best["padded (before packing)"][1] / best["padded (before packing)"][0]
    lines = [
        "",
        "## Transformer training throughput (notebook 06)",
        "",
        f"CPU: {cpu_model()}; PyTorch {torch.__version__}, CPU capability "
        f"{torch.backends.cpu.get_cpu_capability()}; {torch.get_num_threads()} thread; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Model: {recipe['n_layer']} blocks × {recipe['n_embd']} channels, "
        f"{recipe['n_head']} heads, dropout {recipe['dropout']}, {recipe['batch']} names per step; fastest of {args.rounds} rounds of "
        f"{args.steps} steps each.",
        "",
        "| training step | useful chars/s | steps/s | ms/step | chars/s ÷ padded |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (seconds, chars) in best.items():
        cps = chars / seconds
        lines.append(f"| {name} | {cps:,.0f} | {args.steps / seconds:.1f} | {1000 * seconds / args.steps:.1f} | "
                     f"{cps / base_cps:.2f}× |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.append:
        args.append.parent.mkdir(parents=True, exist_ok=True)
        with args.append.open("a") as f:
            f.write(table)


if __name__ == "__main__":
    main()
