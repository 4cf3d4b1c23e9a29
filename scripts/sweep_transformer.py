#!/usr/bin/env python
"""The sweep that chose notebook 06's Transformer recipe, on the dev split only.

``make sweep-transformer`` trains each setting of :data:`SETTINGS` (a :class:`utils.recipes.Recipe`
made from :data:`BASE`) with :func:`utils.run.fit`, as ``sequentia train`` does (the notebook's
model, packed rows, one thread per run, the course's seed), evaluates it on the dev split and on a
fixed sample of training names, and writes ``notebooks/transformer_sweep.json``: each run's whole
recipe (``recipe.to_dict()``) and its figures. ``06_transformer`` reads it and shows it as its
recipe table, and ``tests/test_models.py`` checks that the chosen run's recipe is the packaged one.
The test split is never read here. The chosen recipe is the one with the lowest dev loss; every
setting fits the notebook's time budget (ARCHITECTURE.md §6), which is what caps the number of steps.

``--jobs N`` trains N settings at once, one process and one thread each (the default is the number
of CPU cores). The file is rewritten after every setting, so an interrupted sweep keeps what it
measured; settings already in the file are skipped unless ``--force`` is given.
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
from utils.models import RECIPES, n_params, recipe_from_dict
from utils.run import fit, prepare
from utils.train import evaluate

OUT = REPO_ROOT / "notebooks" / "transformer_sweep.json"

#: The recipe the notebook had before this sweep (chosen by the previous one): 4,000 steps of 128 names
#: drawn at random with replacement, packed into rows of 32; lr 8e-3 with a cosine to 2%; dropout 0.05.
BASE = RECIPES["transformer"].replace(n_embd=64, n_head=4, n_layer=3, dropout=0.05, lr=8e-3, steps=4000, batch=128,
                                     warmup=200, floor=0.02, weight_decay=0.1, row_len=32, sampling="random",
                                     seed=SEED, eval_every=1000)

#: The settings the other knobs are varied around: 5,000 steps (what fits the notebook's budget once a step
#: is cheaper), shuffled passes over the training names, weight decay 0.3.
CHOSEN = dict(steps=5000, sampling="passes", weight_decay=0.3)

#: (name, changes to BASE): one or two knobs at a time; every setting trains in about the time of
#: 5,000 steps or less (2 heads make a step cheaper, so that setting gets 6,000).
ADAMW = [
    ("before: 4,000 steps at random", {}),
    ("5,000 steps at random", dict(steps=5000)),
    ("5,000 steps in shuffled passes", dict(steps=5000, sampling="passes")),
    ("passes, weight decay 0.3", CHOSEN),
    ("passes, weight decay 0.5", dict(CHOSEN, weight_decay=0.5)),
    ("passes, wd 0.3, dropout 0.1", dict(CHOSEN, dropout=0.1)),
    ("passes, wd 0.3, lr 1e-2", dict(CHOSEN, lr=1e-2)),
    ("passes, wd 0.3, 2 heads, 6,000 steps", dict(CHOSEN, n_head=2, steps=6000)),
]

#: The best AdamW recipe of the runs above, which Muon starts from: only the optimiser of the hidden
#: matrices changes (:func:`utils.muon.muon_adamw`); a Muon step costs a little more, so 5,000 steps.
MUON = dict(CHOSEN, n_head=2, steps=5000, optimizer="muon")

#: Muon's own knobs, one at a time around :data:`MUON`: the learning rate (shared with AdamW through
#: the RMS matching), the momentum (Nesterov), the number of Newton–Schulz steps and the warmup.
MUON_SETTINGS = [
    ("muon, 5,000 steps", MUON),
    ("muon, lr 5e-3", dict(MUON, lr=5e-3)),
    ("muon, lr 1.2e-2", dict(MUON, lr=1.2e-2)),
    ("muon, momentum 0.9", dict(MUON, momentum=0.9)),
    ("muon, 3 Newton-Schulz steps", dict(MUON, ns_steps=3)),
    ("muon, warmup 500", dict(MUON, warmup=500)),
]

#: The seeds of the final comparison (initialisation, batch order and dropout all change with it).
SEEDS = (SEED, SEED - 1, SEED - 2)
FINAL = "final: "


def final_settings(runs: list[dict]) -> list[tuple[str, dict]]:
    """The best AdamW and the best Muon setting (lowest dev at the course's seed), each at every
    :data:`SEEDS`, on one machine: the comparison that decides the recipe."""
    by_name = {r["name"]: r for r in runs}
    out = []
    for group in (ADAMW, MUON_SETTINGS):
        measured = [(n, c) for n, c in group if n in by_name]
        if len(measured) < len(group):
            continue  # the search is not finished
        name, change = min(measured, key=lambda nc: by_name[nc[0]]["dev"])
        out += [(f"{FINAL}{name}, seed {seed}", dict(change, seed=seed)) for seed in SEEDS]
    return out


def reuse(runs: list[dict], name: str, change: dict) -> dict | None:
    """A final run at the course's seed is its search run when that ran on this machine (same recipe, same result)."""
    search = name.removeprefix(FINAL).rsplit(", seed ", 1)[0]
    found = next((r for r in runs if r["name"] == search and r.get("cpu") == cpu_model()), None)
    if found is None or change.get("seed", SEED) != SEED or found["recipe"] != BASE.replace(**change).to_dict():
        return None
    return found | {"name": name}


def decide(runs: list[dict]) -> dict:
    """The final comparison: each recipe's mean dev over :data:`SEEDS` and its spread (max − min);
    Muon is chosen when its mean is lower by more than the larger spread, else the simpler AdamW."""
    finals = [r for r in runs if r["name"].startswith(FINAL)]
    groups: dict[str, list[dict]] = {}
    for r in finals:
        groups.setdefault(r["name"].rsplit(", seed ", 1)[0], []).append(r)
    if len(groups) != 2 or any(len(g) != len(SEEDS) for g in groups.values()):
        return {}
    stats = {name: {"mean": round(sum(r["dev"] for r in g) / len(g), 4),
                    "spread": round(max(r["dev"] for r in g) - min(r["dev"] for r in g), 4),
                    "devs": [r["dev"] for r in sorted(g, key=lambda r: -r["recipe"]["seed"])]}
             for name, g in groups.items()}
    muon = next(n for n in stats if runs_optimizer(finals, n) == "muon")
    adamw = next(n for n in stats if n != muon)
    margin = round(stats[adamw]["mean"] - stats[muon]["mean"], 4)
    spread = max(stats[adamw]["spread"], stats[muon]["spread"])
    winner = muon if margin > spread else adamw
    return {"recipes": stats, "margin": margin, "spread": spread, "winner": winner,
            "chosen": f"{winner}, seed {SEED}"}


def runs_optimizer(runs: list[dict], prefix: str) -> str:
    return next(r["recipe"]["optimizer"] for r in runs if r["name"].startswith(prefix + ", seed "))


def run_setting(name: str, change: dict) -> dict:
    """Train one setting from scratch (in its own process, one thread) and measure it on dev."""
    torch.set_num_threads(1)
    recipe = BASE.replace(**change)
    p = prepare(recipe, load_words(), only=("train", "dev"))  # the test split is not made
    Xtr, Ytr = p.data["train"]
    Xdev, Ydev = p.data["dev"]
    Xsub, Ysub = Xtr[: len(Xdev)], Ytr[: len(Xdev)]  # as many training names as dev names
    model, history, _, _ = fit(p, progress=False)
    return {"name": name, "cpu": cpu_model(), "recipe": recipe.to_dict(), "params": n_params(model),
            "dev": round(evaluate(model, Xdev, Ydev), 4), "train_sample": round(evaluate(model, Xsub, Ysub), 4),
            "dev_curve": [[s, round(loss, 4)] for s, loss in zip(history.dev_steps, history.dev_loss, strict=True)],
            "train_seconds": round(history.seconds, 1)}


def save(result: dict, names: list[str], out: Path) -> None:
    """Order the runs as the settings are listed, decide, and write the file (after every run)."""
    if not result["runs"]:
        return
    result["runs"].sort(key=lambda r: names.index(r["name"]) if r["name"] in names else len(names))
    result["final"] = decide(result["runs"])
    searched = [r for r in result["runs"] if not r["name"].startswith(FINAL)]
    result["chosen"] = result["final"].get("chosen") or min(searched, key=lambda r: r["dev"])["name"]
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--force", action="store_true", help="retrain settings already in the file")
    parser.add_argument("--only", nargs="*", help="train only the settings with these names")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="settings trained at once")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be 1 or more")

    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    done = {r["name"]: r | {"recipe": recipe_from_dict(r["recipe"]).to_dict()}  # settings added since: defaults
            for r in previous.get("runs", [])}
    result = {
        "what": "notebook 06's Transformer recipe sweep: dev split only (the test split is not read)",
        "made_by": "make sweep-transformer (scripts/sweep_transformer.py)",
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "threads": 1,
        "jobs": args.jobs,
        "seed": SEED,
        "seeds": list(SEEDS),
        "runs": [] if args.force else list(done.values()),
    }
    t0 = time.perf_counter()
    # Round 1: the search (and the AdamW finals, once its search is measured); round 2: the Muon finals.
    for _ in range(2):
        settings = ADAMW + MUON_SETTINGS + final_settings(result["runs"])
        names = [n for n, _ in settings]
        todo = [(n, c) for n, c in settings if n not in {r["name"] for r in result["runs"]}
                and (not args.only or n in args.only)]
        for n, c in list(todo):
            if n.startswith(FINAL) and (same := reuse(result["runs"], n, c)) is not None:
                result["runs"].append(same)
                todo.remove((n, c))
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = {pool.submit(run_setting, n, c): n for n, c in todo}
            for future in as_completed(futures):
                run = future.result()
                print(f"{run['name']}: dev {run['dev']:.4f}, training names {run['train_sample']:.4f}, "
                      f"{run['train_seconds']:.1f} s ({time.perf_counter() - t0:.0f} s into the sweep)", flush=True)
                result["runs"] = [r for r in result["runs"] if r["name"] != run["name"]] + [run]
                save(result, names, args.out)
        save(result, names, args.out)
    if result["runs"]:
        print("chosen on dev:", result["chosen"], result.get("final", {}))


if __name__ == "__main__":
    main()
