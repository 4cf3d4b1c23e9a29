#!/usr/bin/env python
"""The small sweep that chose notebook 06's Transformer recipe, on the dev split only.

``make sweep-transformer`` trains each setting of :data:`SETTINGS` with
:func:`utils.transformer.train_recipe` (the notebook's model, packed rows, single-threaded, the course's
seed), evaluates it on the dev split and on a fixed sample of training names, and writes
``notebooks/transformer_sweep.json``, which ``06_transformer`` reads and shows as its recipe table.
The test split is never read here. Every setting gets about the same training compute (characters
processed × the model's cost per character); the chosen recipe is the one with the lowest dev loss.

The file is rewritten after every setting, so an interrupted sweep keeps what it measured; settings
already in the file are skipped unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import torch

from utils import REPO_ROOT
from utils.data import Vocab, load_words, padded_sequences, split_words
from utils.device import SEED
from utils.models import n_params
from utils.train import evaluate
from utils.transformer import RECIPE_KEYS, train_recipe

OUT = REPO_ROOT / "notebooks" / "transformer_sweep.json"

#: The notebook's starting point (the recipe of the padded notebook: lr 8e-3 with a cosine to 2%, dropout
#: 0.1, 5,000 steps of 128 names), cut to 4,000 steps of 128 names, in packed rows of 32 positions.
BASE = dict(n_embd=64, n_head=4, n_layer=3, dropout=0.1, lr=8e-3, steps=4000, batch=128, warmup=200,
            floor=0.02, weight_decay=0.1, row_len=32)

#: (name, changes to BASE): one or two knobs at a time, each at about BASE's training compute.
SETTINGS = [
    ("base: dropout 0.1", {}),
    ("dropout 0.05", dict(dropout=0.05)),
    ("dropout 0.05, 256 names × 2,000 steps, lr 1.2e-2", dict(dropout=0.05, batch=256, steps=2000, lr=1.2e-2)),
    ("dropout 0.05, 4 blocks × 3,000 steps", dict(dropout=0.05, n_layer=4, steps=3000)),
    ("no dropout", dict(dropout=0.0)),
    ("dropout 0.05, lr 1.2e-2", dict(dropout=0.05, lr=1.2e-2)),
]


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--force", action="store_true", help="retrain settings already in the file")
    parser.add_argument("--only", nargs="*", help="train only the settings with these names")
    args = parser.parse_args()
    torch.set_num_threads(1)

    words = load_words()
    vocab = Vocab.from_words(words)
    train_words, dev_words, _ = split_words(words)  # the test split is not used
    max_len = max(len(w) for w in words)
    Xtr, Ytr = padded_sequences(train_words, vocab, max_len)
    Xdev, Ydev = padded_sequences(dev_words, vocab, max_len)
    Xsub, Ysub = Xtr[: len(dev_words)], Ytr[: len(dev_words)]  # as many training names as dev names

    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    done = {r["name"]: r for r in previous.get("runs", [])}
    result = {
        "what": "notebook 06's Transformer recipe sweep: dev split only (the test split is not read)",
        "made_by": "make sweep-transformer (scripts/sweep_transformer.py)",
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "seed": SEED,
        "runs": [],
    }
    for name, change in SETTINGS:
        if name in done and not args.force or (args.only and name not in args.only):
            if name in done:
                result["runs"].append(done[name])
            continue
        recipe = dict(BASE, **change)
        print(f"== {name}: {recipe}", flush=True)
        model, history = train_recipe(recipe, len(vocab), max_len + 1, Xtr, Ytr, seed=SEED,
                                      dev=(Xdev, Ydev), eval_every=recipe["steps"], progress=False)
        t0 = time.perf_counter()
        dev = evaluate(model, Xdev, Ydev)
        train_sub = evaluate(model, Xsub, Ysub)
        run = {"name": name, **{k: recipe[k] for k in RECIPE_KEYS},
               "params": n_params(model),
               "dev": round(dev, 4), "train_sample": round(train_sub, 4),
               "train_seconds": round(history.seconds, 1)}
        print(f"   dev {dev:.4f}, train sample {train_sub:.4f}, {history.seconds:.1f} s "
              f"({time.perf_counter() - t0:.1f} s to evaluate)", flush=True)
        result["runs"].append(run)
        result["runs"].sort(key=lambda r: [n for n, _ in SETTINGS].index(r["name"]))
        result["chosen"] = min(result["runs"], key=lambda r: r["dev"])["name"]
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    if result["runs"]:
        result["chosen"] = min(result["runs"], key=lambda r: r["dev"])["name"]
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print("chosen on dev:", result["chosen"])


if __name__ == "__main__":
    main()
