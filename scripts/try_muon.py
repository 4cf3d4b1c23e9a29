#!/usr/bin/env python
"""Muon against AdamW on notebook 05's GRU and LSTM, on the dev split only, over three seeds.

``make try-muon`` trains each packaged recipe (``RECIPES["gru"]``, ``RECIPES["lstm"]``) as published
(AdamW) and with ``optimizer="muon"`` (:func:`utils.muon.muon_adamw`: Muon on the cell's two
matrices, AdamW on the embedding, the read-out, the biases and the start state), everything else
unchanged, at each of :data:`SEEDS`, and writes ``notebooks/muon_trials.json``: each run's recipe,
dev loss and dev curve, and per type the mean, the spread (max − min over the seeds), the margin
and the verdict. A recipe would adopt Muon only where it wins on dev by more than the larger spread
(DESIGN §2); ``tests/test_models.py`` checks that the packaged recipes follow the verdict. Notebook
04's WaveNet-style model has the same trial in ``make sweep-wavenet`` and notebook 06's Transformer
in ``make sweep-transformer``. The test split is never read.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch

from utils import REPO_ROOT
from utils.data import load_words
from utils.device import SEED, cpu_model
from utils.models import RECIPES
from utils.run import fit, prepare

OUT = REPO_ROOT / "notebooks" / "muon_trials.json"
TYPES = ("gru", "lstm")
SEEDS = (SEED, SEED - 1, SEED - 2)
OPTIMIZERS = ("adamw", "muon")


def run(t: str, optimizer: str, seed: int) -> dict:
    """One training run of ``t``'s recipe with ``optimizer`` and ``seed``, in its own process, one thread."""
    torch.set_num_threads(1)
    recipe = RECIPES[t].replace(optimizer=optimizer, seed=seed)
    p = prepare(recipe, load_words(), only=("train", "dev"))
    _, history, _, best = fit(p, progress=False)
    return {"type": t, "optimizer": optimizer, "seed": seed, "recipe": recipe.to_dict(),
            "dev": round(history.dev_loss[-1], 4),
            "dev_curve": [[s, round(v, 4)] for s, v in zip(history.dev_steps, history.dev_loss, strict=True)],
            "train_seconds": round(history.seconds, 1)}


def verdicts(runs: list[dict]) -> dict:
    """Per type: each optimiser's mean dev and spread over the seeds, AdamW's mean minus Muon's, the verdict."""
    out = {}
    for t in TYPES:
        stats = {}
        for o in OPTIMIZERS:
            devs = [r["dev"] for r in runs if r["type"] == t and r["optimizer"] == o]
            if len(devs) == len(SEEDS):
                stats[o] = {"mean": round(sum(devs) / len(devs), 4), "spread": round(max(devs) - min(devs), 4)}
        if len(stats) == len(OPTIMIZERS):
            margin = round(stats["adamw"]["mean"] - stats["muon"]["mean"], 4)
            spread = max(s["spread"] for s in stats.values())
            verdict = "muon" if margin > spread else "adamw" if -margin > spread else "tie"
            out[t] = stats | {"margin": margin, "spread": spread, "verdict": verdict}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs trained at once")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be 1 or more")
    result = {"what": "Muon against AdamW on notebook 05's recurrent models: dev split only (test not read)",
              "made_by": "make try-muon (scripts/try_muon.py)", "cpu": cpu_model(),
              "cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__,
              "threads": 1, "jobs": args.jobs, "seeds": list(SEEDS), "runs": []}
    todo = [(t, o, s) for t in TYPES for s in SEEDS for o in OPTIMIZERS]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for future in as_completed([pool.submit(run, *job) for job in todo]):
            r = future.result()
            print(f"{r['type']} {r['optimizer']} seed {r['seed']}: dev {r['dev']:.4f}, {r['train_seconds']:.0f} s "
                  f"({time.perf_counter() - t0:.0f} s in)", flush=True)
            result["runs"] = sorted(result["runs"] + [r], key=lambda r: todo.index((r["type"], r["optimizer"], r["seed"])))
            result["verdicts"] = verdicts(result["runs"])
            args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["verdicts"], indent=1))


if __name__ == "__main__":
    main()
