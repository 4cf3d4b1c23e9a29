#!/usr/bin/env python
"""``make sweep-lists``: the dev-only sweep behind ``utils/sizing.py``, on four real lists that are not the names.

For each list of ``make data`` other than names.txt (:data:`utils.provision.LISTS`: the subdivisions,
sympy's dotted module names, territory names in Russian, language names in Japanese) and each of the
command's main types (``transformer``, ``gru``, ``mlp``), it trains:

- **the default**: exactly what ``sequentia train -i LIST --type TYPE`` trains with no tuning flag (the
  notebook's recipe sized to the list by :func:`utils.sizing.size_to`, best checkpoint on dev, early
  stopping after 5 evaluations without improvement);
- **a grid around it**: steps × ½, 1, 2 (the evaluations scaled along), the regulariser at none, the
  rule's and twice the rule's (dropout for the Transformer, weight decay for the GRU; the MLP, trained
  with plain SGD, has none, so its grid varies the embedding width, ½, 1 and 2 times), and the width
  at the default's and half of it — 18 settings, the default among them.

``--rule-only`` keeps the recorded grid after a change of :mod:`utils.sizing` and trains only the
defaults of the new rule that are not already among its runs (the recorded grid was made around the
rule's first version; the rule was then chosen on its dev figures).

Each run's figure is its best dev loss (the checkpoint the command would keep); the test split is
never made. ``notebooks/lists_sweep.json`` records every run (settings, best dev, best step, steps run,
seconds) and, per list and type, the default's margin over the grid's best and the counting bigram's
dev on the same split. README's "Make more of your own list" quotes the table this prints; ``make
bench`` runs the defaults again (``--defaults-only``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch

from utils import REPO_ROOT
from utils.data import load_words, split_words
from utils.device import SEED, cpu_model
from utils.models import RECIPES, get, recipe_from_dict
from utils.provision import LISTS
from utils.run import bigram_dev, fit, prepare
from utils.sizing import examples_of, size_to

OUT = REPO_ROOT / "notebooks" / "lists_sweep.json"
TYPES = ("transformer", "gru", "mlp")
PATIENCE = 5
#: What the bar asks of the default: within this of the grid's best dev.
MARGIN = 0.03


def default_recipe(t: str, words: list[str]):
    """What ``sequentia train`` trains on ``words`` with no tuning flag."""
    train_words = split_words(words)[0]
    n_examples, names_examples, n_chars = examples_of(train_words, get(t).windowed)
    return size_to(RECIPES[t], len(train_words), n_examples, names_examples, n_chars=n_chars)


def grid(t: str, base) -> list[tuple[str, dict]]:
    """The 18 settings around the default ``base``: (name, changes)."""
    out = []
    for k in (0.5, 1, 2):
        steps = max(1, round(base.steps * k))
        timing = {"steps": steps, "eval_every": max(1, steps // 20), "warmup": min(base.warmup, steps // 10)}
        m = base.model
        if t == "transformer":
            rule = m.dropout
            regs = [("dropout 0", {"dropout": 0.0}), (f"dropout {rule:.2f}", {}),
                    (f"dropout {min(0.6, 2 * rule):.2f}", {"dropout": min(0.6, 2 * rule)})]
            widths = [(f"width {m.n_embd}", {}), (f"width {m.n_embd // 2}", {"n_embd": m.n_embd // 2})]
        elif t == "gru":
            rule = base.weight_decay
            regs = [("decay 0", {"weight_decay": 0.0}), (f"decay {rule:.2f}", {}),
                    (f"decay {2 * rule:.2f}", {"weight_decay": 2 * rule})]
            widths = [(f"hidden {m.n_hidden}", {}), (f"hidden {m.n_hidden // 2}", {"n_hidden": m.n_hidden // 2})]
        else:
            regs = [(f"embedding {m.n_embd // 2}", {"n_embd": m.n_embd // 2}), (f"embedding {m.n_embd}", {}),
                    (f"embedding {2 * m.n_embd}", {"n_embd": 2 * m.n_embd})]
            widths = [(f"hidden {m.n_hidden}", {}), (f"hidden {m.n_hidden // 2}", {"n_hidden": m.n_hidden // 2})]
        for rname, reg in regs:
            for wname, width in widths:
                out.append((f"steps ×{k:g}, {rname}, {wname}", timing | reg | width))
    return out


def run_one(list_name: str, t: str, name: str, changes: dict) -> dict:
    """Train one setting (own process, one thread) and return its best dev."""
    torch.set_num_threads(1)
    words = load_words(LISTS[list_name].path)
    base = default_recipe(t, words)
    recipe = base.replace(**changes)
    splits = dict(zip(("train", "dev", "test"), split_words(words), strict=True))
    p = prepare(recipe, splits=splits, only=("train", "dev"))
    t0 = time.perf_counter()
    _, history, state, best = fit(p, progress=False, patience=PATIENCE)
    return {"list": list_name, "type": t, "name": name, "default": recipe == base,
            "recipe": p.recipe.to_dict(), "dev": round(best.dev, 4), "best_step": best.step,
            "steps_run": len(history.step_loss), "stopped_early": state["stopped_early"],
            "seconds": round(time.perf_counter() - t0, 1)}


SEEDS = (SEED, SEED - 1, SEED - 2)


def seed_check(list_name: str, t: str, runs: list[dict]) -> dict:
    """A default more than :data:`MARGIN` behind the grid's best on one seed, checked over :data:`SEEDS`: the
    default and that best setting (its recorded recipe) each trained from three seeds; their means, spreads
    (max − min), the margin between the means and the verdict (a margin below the larger spread is a tie)."""
    torch.set_num_threads(1)
    words = load_words(LISTS[list_name].path)
    splits = dict(zip(("train", "dev", "test"), split_words(words), strict=True))
    mine = [r for r in runs if r["list"] == list_name and r["type"] == t]
    default, best = next(r for r in mine if r["default"]), min(mine, key=lambda r: r["dev"])
    out = {"list": list_name, "type": t}
    for role, run in (("default", default), ("best", best)):
        devs = []
        for seed in SEEDS:
            p = prepare(recipe_from_dict(run["recipe"]).replace(seed=seed), splits=splits, only=("train", "dev"))
            devs.append(round(fit(p, progress=False, patience=PATIENCE)[3].dev, 4))
        out[role] = {"name": run["name"], "devs": devs, "mean": round(statistics.fmean(devs), 4),
                     "spread": round(max(devs) - min(devs), 4)}
    out["margin"] = round(out["default"]["mean"] - out["best"]["mean"], 4)
    out["spread"] = max(out["default"]["spread"], out["best"]["spread"])
    out["verdict"] = "tie" if abs(out["margin"]) <= out["spread"] else "default behind" if out["margin"] > 0 else "default ahead"
    return out


def summary(runs: list[dict], recorded: list[dict] = ()) -> list[dict]:
    """Per list and type: the default's best dev, the sweep's best (among ``runs`` and the ``recorded``
    grid), the margin, the bigram's dev."""
    rows = []
    for list_name in LISTS:
        words = load_words(LISTS[list_name].path)
        for t in TYPES:
            mine = [r for r in runs if r["list"] == list_name and r["type"] == t]
            default = next((r for r in mine if r["default"]), None)
            if not mine or default is None:
                continue
            grid_runs = [r for r in recorded if r["list"] == list_name and r["type"] == t and not r["default"]]
            best = min(mine + grid_runs, key=lambda r: r["dev"])
            p = prepare(default_recipe(t, words), words, only=("train", "dev"))
            rows.append({"list": list_name, "items": len(words), "type": t, "default_dev": default["dev"],
                         "best_dev": best["dev"], "best": best["name"], "margin": round(default["dev"] - best["dev"], 4),
                         "bigram_dev": round(bigram_dev(p), 4), "runs": len(mine)})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| list | items | type | default dev | sweep's best dev | its setting | margin | bigram dev |",
             "|---|---:|---|---:|---:|---|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['list']} | {r['items']:,} | {r['type']} | {r['default_dev']:.4f} | {r['best_dev']:.4f} | "
                     f"{r['best']} | {r['margin']:+.4f} | {r['bigram_dev']:.4f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs at once (one thread each)")
    parser.add_argument("--defaults-only", action="store_true", help="only the command's defaults (make bench)")
    parser.add_argument("--rule-only", action="store_true",
                        help="keep the recorded grid, train only the defaults of today's rule that it lacks, "
                             "and rewrite the summary (after a change to utils/sizing.py)")
    parser.add_argument("--lists", nargs="+", choices=list(LISTS), default=list(LISTS))
    parser.add_argument("--types", nargs="+", choices=TYPES, default=list(TYPES))
    parser.add_argument("--append", type=Path, help="append the Markdown table to this file")
    args = parser.parse_args(argv)
    todo, runs = [], []
    kept = json.loads(args.out.read_text())["runs"] if args.rule_only else []
    runs += [r for r in kept if r["type"] not in args.types or r["list"] not in args.lists]  # not re-run: kept
    for list_name in args.lists:
        words = load_words(LISTS[list_name].path)
        for t in args.types:
            base = default_recipe(t, words)
            if args.rule_only:
                mine = [dict(r) for r in kept if r["list"] == list_name and r["type"] == t]
                shaped = prepare(base, words, only=()).recipe  # today's default, as prepare() shapes it
                for r in mine:
                    r["default"] = recipe_from_dict(r["recipe"]) == shaped
                runs += [r for r in mine if not (r["default"] is False and r["name"] == "default")]
                if not any(r["default"] for r in mine):
                    todo.append((list_name, t, "default", {}))
                continue
            settings = [("default", {})] if args.defaults_only else grid(t, base)
            todo += [(list_name, t, n, c) for n, c in settings]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_one, *job) for job in todo]
        for future in as_completed(futures):
            r = future.result()
            runs.append(r)
            print(f"{r['list']:>15} {r['type']:<11} {r['name']:<42} dev {r['dev']:.4f} (best at {r['best_step']} "
                  f"of {r['steps_run']}) {r['seconds']:.0f} s · {time.perf_counter() - t0:.0f} s in", flush=True)
    recorded = json.loads(args.out.read_text())["runs"] if args.defaults_only and args.out.exists() else []
    rows = summary(runs, recorded)
    text = table(rows)
    print(f"\nThe command's defaults against a dev-only sweep (best dev of each run; margin = default − best):\n\n{text}")
    checks = []
    if not args.defaults_only:
        beyond = [r for r in rows if r["margin"] > MARGIN]
        checks = [seed_check(r["list"], r["type"], runs) for r in beyond]
        for c in checks:
            print(f"{c['list']} {c['type']}, three seeds: default {c['default']['mean']:.4f} (spread "
                  f"{c['default']['spread']:.4f}), best setting {c['best']['mean']:.4f} (spread {c['best']['spread']:.4f}): "
                  f"{c['verdict']}")
        seconds = round(time.perf_counter() - t0) + (json.loads(args.out.read_text())["seconds"] if args.rule_only else 0)
        key = lambda r: (list(LISTS).index(r["list"]), TYPES.index(r["type"]), r["name"])  # noqa: E731
        result = {
            "what": "utils/sizing.py's rule against a dev-only sweep of steps × regulariser × width on four lists "
                    "(best dev of each run; the test split is never made)",
            "made_by": "make sweep-lists (scripts/sweep_lists.py)", "cpu": cpu_model(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__, "threads": 1,
            "patience": PATIENCE, "margin_allowed": MARGIN, "summary": rows, "seed_checks": checks,
            "runs": sorted(runs, key=key),
            "seconds": seconds,
        }
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    if args.append:
        with open(args.append, "a", encoding="utf-8") as f:
            f.write(f"\n## `sequentia train` with its defaults on four lists\n\n{text}\n")
    tied = {(c["list"], c["type"]) for c in checks if c["verdict"] != "default behind"}
    bad = [r for r in rows if (r["margin"] > MARGIN and (r["list"], r["type"]) not in tied)
           or not r["default_dev"] < r["bigram_dev"]]
    for r in bad:
        print(f"{r['list']} {r['type']}: the default is {r['margin']:+.4f} from the sweep's best "
              f"(allowed {MARGIN}) or not below the bigram ({r['bigram_dev']:.4f})")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
