#!/usr/bin/env python
"""The ablations behind notebook 04's claims and its WaveNet-style recipe, on the dev split only.

``make sweep-wavenet`` trains every setting of :data:`SETTINGS` once per seed of :data:`SEEDS` (a seed
draws both the initial weights and the order of the batches) and writes ``notebooks/wavenet_sweep.json``:
one entry per group, setting and seed with its dev loss, its dev curve and its training time. The
groups:

- ``search``: the WaveNet-style recipe's learning rate and optimiser (AdamW on every parameter, as
  published before, against the weight-decay policy of 04 section 5), a small grid around the chosen
  setting (trained with :func:`utils.run.fit`, exactly as ``sequentia train`` does);
- ``flat-vs-hierarchical``: a flat MLP over the same 8 characters, with about the same number of
  parameters, the same BatchNorm, optimiser, schedule and steps, against the hierarchical model;
- ``batchnorm``: notebook 04's deep MLP with and without BatchNorm (each at its best SGD rate), and
  BatchNorm evaluated with statistics calibrated over the whole training set after training
  (``dev_calibrated``) instead of its running estimates;
- ``output-fix``: the deep MLP trained from an output layer scaled by 10, 1 and 0.1;
- ``warmup``: Adam at a high rate (0.03) for 600 steps with and without a 100-step linear warmup;
- ``optimizers``: SGD, momentum, Adam and AdamW on the deep MLP, each over a grid of four rates;
- ``muon``: the chosen recipe with its AdamW and with Muon (:mod:`utils.muon`) at the same rate.

``chosen`` is the ``search`` setting notebook 04 packages (``utils/models/wavenet.py``'s ``RECIPE``;
``tests/test_wavenet.py`` checks it): the lowest mean dev loss over the seeds, or, among the settings
whose mean is within the spread (max − min over the seeds) of the best, the one with the fewest
parameters, then the one that follows the course's weight-decay policy (decay matrices only).

``--jobs N`` trains N runs at once, one process and one thread each. The file is rewritten after
every run (keeping the runs another sweep process added meanwhile), so an interrupted sweep keeps what
it measured; runs already in the file are skipped unless ``--force`` is given. ``--only GROUP ...`` and
``--names SETTING ...`` train only those groups or settings. The test split is never read.
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
import torch.nn as nn

from utils import REPO_ROOT
from utils.data import Vocab, context_windows, load_words, split_words
from utils.device import SEED, cpu_model, make_generator
from utils.models import RECIPES, n_params
from utils.models.wavenet import TANH_GAIN, BatchNorm
from utils.run import fit, prepare
from utils.train import evaluate, lr_schedule, make_optimizer, train

OUT = REPO_ROOT / "notebooks" / "wavenet_sweep.json"

#: Three seeds per setting: the course's seed first (the notebook's own run), then two more.
SEEDS = (SEED, SEED - 1, SEED - 2)

#: The WaveNet-style setting the others are varied around: d = 24, H = 128, 2,000 steps of 1,024
#: windows, lr 8e-3 ramped over 100 steps and cosine-decayed to 2%, AdamW with the course's decay
#: policy (weight decay 0.01 on the matrices only, betas (0.9, 0.99)), a dev point every 200 steps.
BASE = RECIPES["wavenet"].replace(block_size=8, n_embd=24, n_hidden=128, steps=2000, batch=1024, lr=8e-3,
                                  schedule="ramped-cosine", warmup=100, floor=0.02, weight_decay=0.01,
                                  optimizer="adamw-matrices", eval_every=200, seed=SEED)

#: The flat MLP's width: 27·24 + 192·H + 2H + 27H + 27 ≈ the hierarchical model's 76,579 parameters.
FLAT_HIDDEN = 343

#: The deep MLP's default training (notebook 04 section 5): 800 steps of 64, a dev point every 100.
DEEP = dict(depth=5, batchnorm=False, gain=5 / 3, last_scale=0.1, opt="sgd", lr=0.1, steps=800, batch=64,
            warmup=0, eval_every=100)


def wn(name, **change):
    return ("wavenet", name, change)


def deep(name, **change):
    return ("deep", name, DEEP | change)


SEARCH = [
    wn("d 24, H 128, lr 8e-3, AdamW on matrices"),
    wn("d 24, H 128, lr 8e-3, AdamW on every parameter", optimizer="adamw"),
    wn("d 24, H 128, lr 4e-3, AdamW on matrices", lr=4e-3),
    wn("d 24, H 128, lr 1.6e-2, AdamW on matrices", lr=1.6e-2),
]

#: The model's size around the lecture's (d 24, H 128: 76,579 parameters), for the record: the search
#: above holds the size at the lecture's, so that 04 compares training recipes at the reference
#: model's size; these rows show what a smaller and a larger model reach with the same recipe.
SIZE = [
    wn("d 16, H 96 (43,563 parameters)", n_embd=16, n_hidden=96),
    wn("d 24, H 128 (76,579 parameters, the lecture's)"),
    wn("d 32, H 160 (118,811 parameters)", n_embd=32, n_hidden=160),
]
LONG = dict(steps=1000, eval_every=100)

#: (group, [(kind, name, config)]); a setting that appears in two groups is trained once per seed.
SETTINGS = [
    ("search", SEARCH),
    ("size", SIZE),
    ("flat-vs-hierarchical", [
        wn("hierarchical: d 24, H 128 (3 levels)"),
        ("flat", f"flat: d 24, one layer of H {FLAT_HIDDEN}", {"n_hidden": FLAT_HIDDEN}),
    ]),
    ("batchnorm", [
        *[deep(f"no BatchNorm, SGD lr {lr}", lr=lr, **LONG) for lr in (0.03, 0.1, 0.3)],
        *[deep(f"BatchNorm, SGD lr {lr}", lr=lr, batchnorm=True, **LONG) for lr in (0.1, 0.3, 1.0)],
    ]),
    ("output-fix", [deep(f"output weights × {s}", last_scale=s, **LONG) for s in (10.0, 1.0, 0.1)]),
    ("warmup", [deep(f"depth 5, Adam lr 0.03, warmup {w}", opt="adam", lr=0.03, steps=600, warmup=w) for w in (0, 100)]),
    ("optimizers", [
        *[deep(f"SGD lr {lr}", opt="sgd", lr=lr) for lr in (0.03, 0.1, 0.3, 1.0)],
        *[deep(f"momentum lr {lr}", opt="momentum", lr=lr) for lr in (0.003, 0.01, 0.03, 0.1)],
        *[deep(f"Adam lr {lr}", opt="adam", lr=lr) for lr in (3e-4, 1e-3, 3e-3, 1e-2)],
        *[deep(f"AdamW lr {lr}", opt="adamw", lr=lr) for lr in (3e-4, 1e-3, 3e-3, 1e-2)],
    ]),
    ("muon", [
        wn("AdamW on matrices, lr 8e-3"),
        wn("Muon, lr 0.008", optimizer="muon", lr=8e-3),
    ]),
]
GROUPS = [g for g, _ in SETTINGS]

#: The order the runs are trained in (lowest first; a setting not named here: 1), so that an
#: interrupted sweep has measured what decides the recipe: the recipe against the old optimiser,
#: the flat model and Muon at the same rate, then the deep MLP's groups, the rates, the rest.
PRIORITY = {
    "d 24, H 128, lr 8e-3, AdamW on matrices": 0, "d 24, H 128, lr 8e-3, AdamW on every parameter": 0,
    f"flat: d 24, one layer of H {FLAT_HIDDEN}": 0, "Muon, lr 0.008": 0,
    "d 24, H 128, lr 4e-3, AdamW on matrices": 2, "d 24, H 128, lr 1.6e-2, AdamW on matrices": 2,
}


def deep_model(generator, *, depth=5, n_hidden=100, batchnorm=True, gain=5 / 3, last_scale=0.1, block_size=3,
               V=27, n_embd=10):
    """Notebook 04's deep MLP (section 5's ``deep_model``): embedding, ``depth`` × (Linear [→ BatchNorm]
    → tanh), output; C ~ N(0, 1), W ~ N(0, 1)·gain/√fan_in, the output weights times ``last_scale``."""
    layers, fan_in = [nn.Embedding(V, n_embd), nn.Flatten()], block_size * n_embd
    for _ in range(depth):
        layers += [nn.Linear(fan_in, n_hidden, bias=not batchnorm), nn.BatchNorm1d(n_hidden), nn.Tanh()]
        if not batchnorm:
            del layers[-2]
        fan_in = n_hidden
    layers.append(nn.Linear(fan_in, V))
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for i, layer in enumerate(model):
            if isinstance(layer, nn.Embedding | nn.Linear):
                last = i == len(model) - 1
                scale = 1.0 if isinstance(layer, nn.Embedding) else (1.0 if last else gain) / layer.in_features**0.5
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * scale)
            if isinstance(layer, nn.Linear) and layer.bias is not None:
                layer.bias.zero_()
        model[-1].weight *= last_scale
    return model


@torch.no_grad()
def calibrate(model: nn.Sequential, X: torch.Tensor) -> None:
    """Replace every BatchNorm's running estimates by the mean and (biased) variance of its input over
    all of ``X``, layer after layer (each layer calibrated on the already calibrated layers' outputs)."""
    model.eval()
    x = X
    for layer in model:
        if isinstance(layer, nn.BatchNorm1d):
            layer.running_mean.copy_(x.mean(0))
            layer.running_var.copy_(x.var(0, unbiased=False))
        x = layer(x)


class Flat(nn.Module):
    """The flat MLP over ``k`` characters: embedding → Linear (no bias) → BatchNorm → tanh → logits,
    initialised as the WaveNet-style model is (N(0, 1) embeddings, gain 5/3, output a tenth)."""

    def __init__(self, V, k, n_embd, n_hidden, generator):
        super().__init__()
        self.C = nn.Embedding(V, n_embd)
        self.hidden = nn.Sequential(nn.Flatten(), nn.Linear(k * n_embd, n_hidden, bias=False), BatchNorm(n_hidden),
                                    nn.Tanh())
        self.out = nn.Linear(n_hidden, V)
        with torch.no_grad():
            self.C.weight.copy_(torch.randn(self.C.weight.shape, generator=generator))
            lin = self.hidden[1]
            lin.weight.copy_(torch.randn(lin.weight.shape, generator=generator) * TANH_GAIN / lin.in_features**0.5)
            self.out.weight.copy_(torch.randn(self.out.weight.shape, generator=generator) * 0.1 / n_hidden**0.5)
            self.out.bias.zero_()

    def forward(self, X):
        return self.out(self.hidden(self.C(X)))


def curve(history) -> list[list]:
    return [[s, round(loss, 4)] for s, loss in zip(history.dev_steps, history.dev_loss, strict=True)]


def run_wavenet(config: dict, seed: int) -> dict:
    recipe = BASE.replace(**config, seed=seed)
    p = prepare(recipe, load_words(), only=("train", "dev"))  # the test split is not made
    model, history, _, _ = fit(p, progress=False)
    return {"recipe": recipe.to_dict(), "params": n_params(model), "dev": round(evaluate(model, *p.data["dev"]), 4),
            "dev_curve": curve(history), "train_seconds": round(history.seconds, 1)}


def run_flat(config: dict, seed: int) -> dict:
    recipe = BASE.replace(seed=seed)
    p = prepare(recipe, load_words(), only=("train", "dev"))
    model = Flat(len(p.vocab), 8, recipe.model.n_embd, config["n_hidden"], make_generator(seed))
    history = train(model, *p.data["train"], optimizer=make_optimizer(recipe, model), steps=recipe.steps,
                    generator=make_generator(seed), batch_size=recipe.batch, lr_schedule=lr_schedule(recipe),
                    dev=p.data["dev"], eval_every=recipe.eval_every, progress=False)
    return {"recipe": None, "settings": {"model": "flat MLP", "block_size": 8, "n_embd": recipe.model.n_embd,
                                         "n_hidden": config["n_hidden"], "training": "as the hierarchical model"},
            "params": n_params(model), "dev": round(history.dev_loss[-1], 4), "dev_curve": curve(history),
            "train_seconds": round(history.seconds, 1)}


def deep_data():
    words = load_words()
    vocab = Vocab.from_words(words)
    tr, dv, _ = split_words(words)
    return context_windows(tr, vocab, 3), context_windows(dv, vocab, 3)


def make_deep_optimizer(name, params, lr):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    raise ValueError(name)


def run_deep(config: dict, seed: int) -> dict:
    (Xtr, Ytr), (Xdev, Ydev) = deep_data()
    c = config
    model = deep_model(make_generator(seed), depth=c["depth"], batchnorm=c["batchnorm"], gain=c["gain"],
                       last_scale=c["last_scale"])
    lr, w = c["lr"], c["warmup"]
    schedule = (lambda step: lr * min(1.0, (step + 1) / w)) if w else None
    try:
        history = train(model, Xtr, Ytr, optimizer=make_deep_optimizer(c["opt"], model.parameters(), lr),
                        steps=c["steps"], generator=make_generator(seed), batch_size=c["batch"], lr_schedule=schedule,
                        dev=(Xdev, Ydev), eval_every=c["eval_every"], progress=False)
    except FloatingPointError:  # a rate too high for the setting: recorded as diverged
        return {"recipe": None, "settings": c, "params": n_params(model), "dev": None, "diverged": True,
                "dev_curve": [], "train_seconds": None}
    run = {"recipe": None, "settings": c, "params": n_params(model), "dev": round(history.dev_loss[-1], 4),
           "dev_curve": curve(history), "train_seconds": round(history.seconds, 1)}
    if c["batchnorm"]:
        calibrate(model, Xtr)
        run["dev_calibrated"] = round(evaluate(model, Xdev, Ydev), 4)
    return run


def run_one(kind: str, config: dict, seed: int) -> dict:
    torch.set_num_threads(1)
    return {"wavenet": run_wavenet, "flat": run_flat, "deep": run_deep}[kind](config, seed)


def key(kind: str, config: dict, seed: int) -> str:
    return json.dumps([kind, config, seed], sort_keys=True)


def summary(runs: list[dict], group: str) -> dict[str, dict]:
    """Per setting of ``group``: mean, min, max and std of dev over the seeds, and the parameters."""
    out = {}
    for r in runs:
        if r["group"] == group and r["dev"] is not None:
            out.setdefault(r["name"], {"devs": [], "params": r["params"]})["devs"].append(r["dev"])
    for s in out.values():
        d = s["devs"]
        s |= {"mean": statistics.fmean(d), "min": min(d), "max": max(d), "spread": max(d) - min(d)}
    return out


def choose(runs: list[dict]) -> str | None:
    """The search's choice: the best mean dev, or, among the settings within the spread of the best
    (the larger of the two settings' max − min), the fewest parameters, then the decay policy's optimiser."""
    s = {n: v for n, v in summary(runs, "search").items() if len(v["devs"]) == len(SEEDS)}
    if not s:
        return None
    best = min(s, key=lambda n: s[n]["mean"])
    tied = [n for n in s if s[n]["mean"] - s[best]["mean"] <= max(s[n]["spread"], s[best]["spread"])]
    opt = {n: next(r["recipe"]["optimizer"] for r in runs if r["group"] == "search" and r["name"] == n) for n in tied}
    return min(tied, key=lambda n: (s[n]["params"], opt[n] != "adamw-matrices", s[n]["mean"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--force", action="store_true", help="retrain runs already in the file")
    parser.add_argument("--only", nargs="*", choices=GROUPS, help="train only these groups")
    parser.add_argument("--names", nargs="*", help="train only the settings with these names")
    parser.add_argument("--seeds", nargs="*", type=int, help="train only these seeds")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs trained at once")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be 1 or more")

    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    done = {} if args.force else {r["key"]: r for r in previous.get("runs", [])}
    entries = [(g, kind, name, config, seed) for g, settings in SETTINGS for kind, name, config in settings
               for seed in SEEDS]
    order = {}
    for i, (_, k, _, c, s) in enumerate(entries):
        order.setdefault(key(k, c, s), i)
    result = {
        "what": "notebook 04's ablations and WaveNet-style recipe search: dev split only (the test split is not read)",
        "made_by": "make sweep-wavenet (scripts/sweep_wavenet.py)",
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "threads": 1,
        "jobs": args.jobs,
        "seeds": list(SEEDS),
        "spread": "max - min of dev over the seeds",
        "chosen": previous.get("chosen"),
        "runs": [],
    }
    measured = dict(done)

    def write() -> None:
        if args.out.exists():  # runs another sweep process wrote meanwhile are kept
            for r in json.loads(args.out.read_text()).get("runs", []):
                measured.setdefault(r["key"], r)
        runs = []
        for g, kind, name, config, seed in entries:
            k = key(kind, config, seed)
            if k in measured:
                runs.append(measured[k] | {"group": g, "name": name, "seed": seed, "key": k})
        fields = ("group", "name", "seed", "recipe", "settings", "params", "dev", "dev_calibrated", "diverged",
                  "dev_curve", "train_seconds", "key")
        result["runs"] = [{f: r[f] for f in fields if f in r} for r in runs]
        result["chosen"] = choose(result["runs"])
        tmp = args.out.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        tmp.replace(args.out)  # atomic: another sweep process never reads half a file

    todo, seen = [], set()
    for g, kind, name, config, seed in entries:
        k = key(kind, config, seed)
        if k in measured or k in seen or (args.only and g not in args.only) or (args.names and name not in args.names) \
                or (args.seeds and seed not in args.seeds):
            continue
        seen.add(k)
        todo.append((PRIORITY.get(name, 1), order[k], kind, config, seed, k))
    todo = [t[2:] for t in sorted(todo)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_one, kind, config, seed): (kind, k) for kind, config, seed, k in todo}
        for future in as_completed(futures):
            kind, k = futures[future]
            try:
                run = future.result()
            except Exception as err:  # noqa: BLE001  (one failed run must not lose the others)
                print(f"FAILED {k}: {err!r}", flush=True)
                continue
            measured[k] = run
            write()
            print(f"{k}: dev {run['dev']}, {run['train_seconds']} s ({time.perf_counter() - t0:.0f} s into the sweep)",
                  flush=True)
    write()
    print("chosen on dev:", result["chosen"])


if __name__ == "__main__":
    main()
