#!/usr/bin/env python
"""``make reproduce``: the ``sequentia`` command against the notebooks' published figures.

For each model type, runs the real command (``python -m utils.cli train -i data/names.txt --type T``,
the type's recipe, single-threaded) into ``_build/reproduce/T/`` and compares its dev and test losses
with the figures the stored notebooks published (:func:`utils.results.read_course_results`): the
same split, seed, steps and schedule must give the same numbers, within ``--tolerance`` (0.003).
Prints a Markdown table (steps, wall seconds, characters per second, dev and test of both); exits 1
when a figure is off. ``make bench`` runs it for the Transformer and appends the table to
``_build/bench.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from utils import DEFAULT_DATA, REPO_ROOT, notebooks
from utils.models import TYPES, get
from utils.results import read_course_results


def published() -> dict[str, dict]:
    """Each type's row in its notebook's published results (its spec says how the row starts)."""
    rows = read_course_results(notebooks())
    out = {}
    for t in TYPES:
        spec = get(t)
        match = [r for r in rows if spec.published_as and r["notebook"] == spec.recipe.notebook
                 and r["model"].startswith(spec.published_as)]
        if match:
            out[t] = match[0]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", nargs="+", choices=TYPES, default=list(TYPES))
    parser.add_argument("-i", "--input", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "_build" / "reproduce")
    parser.add_argument("--tolerance", type=float, default=0.003)
    parser.add_argument("--append", type=Path, help="append the Markdown table to this file")
    args = parser.parse_args(argv)
    figures = published()
    lines = [
        "| type | steps | wall s | train s | chars/s | dev (command) | dev (notebook) | test (command) | test (notebook) | within |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    ok = True
    for t in args.types:
        run_dir = args.out / t
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "utils.cli", "train", "-i", str(args.input), "--type", t, "-o", str(run_dir),
               "--force", "--quiet"]
        print("$", " ".join(cmd[1:]), flush=True)
        done = subprocess.run(cmd, cwd=REPO_ROOT)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            print(f"{t}: the command failed (exit status {done.returncode})")
            ok = False
            continue
        m = json.loads((run_dir / "metrics.json").read_text())
        ref = figures.get(t)
        close = ref is not None and abs(m["dev"] - ref["dev"]) <= args.tolerance and abs(m["test"] - ref["test"]) <= args.tolerance
        ok &= close
        rate = m.get("train_tokens_per_second")
        lines.append(
            f"| {t} | {m['step']:,} | {wall:.1f} | {m['train_seconds']:.1f} | {f'{rate:,.0f}' if rate else '–'} | "
            f"{m['dev']:.4f} | {ref['dev'] if ref else '–'} | {m['test']:.4f} | {ref['test'] if ref else '–'} | "
            f"{'yes' if close else 'NO'} |"
        )
        print(lines[-1], flush=True)
    table = "\n".join(lines)
    print(f"\n`sequentia train` on {args.input.name} against the notebooks (tolerance {args.tolerance}):\n\n{table}")
    if args.append:
        with open(args.append, "a", encoding="utf-8") as f:
            f.write(f"\n## The `sequentia` command against the notebooks\n\n{table}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
