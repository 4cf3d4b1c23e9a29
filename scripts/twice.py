#!/usr/bin/env python
"""Execute each notebook twice in fresh kernels and require identical outputs: ``make twice``.

nbval compares a fresh execution with the stored outputs, but it skips the cells marked
``# NBVAL_IGNORE_OUTPUT`` (training logs, losses after training), because those may legitimately
differ on another CPU. On *one* machine they must not: the same notebook executed twice has to print
the same losses, draw the same figures and sample the same names. This script checks exactly that,
for every output of every cell, ignored cells included. Only what varies by nature is masked first:
the patterns of ``tests/nbval_sanitize.cfg`` (timings, memory addresses, figure reprs), tqdm's
progress-bar redraws (how many appear depends on the clock), other clock readings (durations, rates,
measured speed-ups, tables' "training s" columns, published ``train_seconds``) and the outputs of
cells tagged ``clock`` (a plot with training seconds on an axis, a summary quoting measured speeds).

The two executions of a notebook run at the same time, one per core (each notebook uses one thread).
Exit status 1 names the first differing output of each notebook that differs; 2 for bad arguments.
``tests/test_twice.py`` shows that it catches a planted non-deterministic cell.
"""

from __future__ import annotations

import argparse
import configparser
import json
import re
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import nbformat

from scripts import run_notebooks
from utils import REPO_ROOT

SANITIZE_CFG = REPO_ROOT / "tests" / "nbval_sanitize.cfg"
PROGRESS = re.compile(r"^\s*\d+%\|.*$")
#: Beyond nbval's sanitize file (whose patterns only need to cover strictly compared cells): any
#: duration, and what a clock measures: rates ("12,692 useful characters per second") and speed-ups
#: ("1,651× faster", "1.45× the characters per second").
CLOCK = [
    (re.compile(r"\b\d[\d,]*(?:\.\d+)?\s?(?:s|ms|µs|us|ns|seconds)\b"), "TIME"),
    (re.compile(r"\b\d[\d,]*(?:\.\d+)?×(?=[^\n]*(?:faster|slower|cheaper|quicker|per second))"), "RATIO×"),
    (re.compile(r"\b\d[\d,]*(?:\.\d+)?(?=\s+(?:\w+\s+){0,2}per second)"), "RATE"),
]


def sanitizers(path: Path = SANITIZE_CFG) -> list[tuple[re.Pattern, str]]:
    """The (regex, replacement) pairs of nbval's sanitize file, in file order."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(path, encoding="utf-8")
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()] + CLOCK


def _clean_text(text: str, subs: list[tuple[re.Pattern, str]]) -> str:
    pieces = re.split(r"[\r\n]", text)
    kept = [p for p in pieces if not PROGRESS.match(p)]  # tqdm redraws: their number depends on timing
    text = "\n".join(p for p in kept if p.strip())
    for regex, replacement in subs:
        text = regex.sub(replacement, text)
    return text


#: The tag of a cell whose outputs are made of clock readings throughout (a figure with training
#: seconds on an axis, a summary quoting measured speeds): its outputs are not compared.
CLOCK_TAG = "clock"
TIME_COLUMN = re.compile(r"(^|\s)(s|seconds)$")  # a table column of seconds: "training s", "seconds"


def _mask_seconds(value):
    """Timings inside structured outputs (the published results' ``train_seconds``) replaced by TIME."""
    if isinstance(value, dict):
        return {k: "TIME" if "seconds" in k else _mask_seconds(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_seconds(v) for v in value]
    return value


def _mask_table_timings(text: str) -> str:
    """Markdown tables: the cells of a column headed "… s" or "seconds" replaced by TIME."""
    out, timed = [], set()
    for line in text.split("\n"):
        cells = line.split("|")
        if line.startswith("|") and not timed and not set(line) <= set("|-: "):
            timed = {i for i, c in enumerate(cells) if TIME_COLUMN.search(c.strip())}
            header = True
        else:
            header = False
        if line.startswith("|") and timed and not header and not set(line) <= set("|-: "):
            cells = ["TIME" if i in timed else c for i, c in enumerate(cells)]
        if not line.startswith("|"):
            timed = set()
        out.append("|".join(cells))
    return "\n".join(out)


def comparable(nb: nbformat.NotebookNode, subs: list[tuple[re.Pattern, str]]) -> list[list[str]]:
    """Each code cell's outputs as sanitized strings (stream chunks of one name merged)."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outs: list[str] = []
        streams: dict[str, str] = {}
        clock = CLOCK_TAG in cell.get("metadata", {}).get("tags", [])
        for out in [] if clock else cell.get("outputs", []):  # clock readings throughout: not compared
            if out.output_type == "stream":
                streams[out.name] = streams.get(out.name, "") + out.text
            elif out.output_type == "error":
                outs.append(f"error: {out.ename}: {out.evalue}")
            else:
                for mime, data in sorted(out.get("data", {}).items()):
                    if mime.endswith("json"):
                        text = str(_mask_seconds(json.loads(data) if isinstance(data, str) else data))
                    else:
                        text = data if isinstance(data, str) else str(data)
                    if mime.startswith("text/"):
                        text = _mask_table_timings(_clean_text(text, subs))
                    outs.append(f"{mime}: {text}")
        outs[:0] = [f"{name}: {_clean_text(text, subs)}" for name, text in sorted(streams.items())]
        cells.append(outs)
    return cells


def first_difference(a: nbformat.NotebookNode, b: nbformat.NotebookNode) -> str | None:
    """A one-line description of the first output that differs between two executions, or None."""
    subs = sanitizers()
    ca, cb = comparable(a, subs), comparable(b, subs)
    for i, (x, y) in enumerate(zip(ca, cb, strict=True)):
        if x != y:
            for u, v in zip(x + [""] * len(y), y + [""] * len(x), strict=False):
                if u != v:
                    lu, lv = u.splitlines(), v.splitlines()
                    j = next(
                        (k for k, (p, q) in enumerate(zip(lu, lv, strict=False)) if p != q),
                        min(len(lu), len(lv)),
                    )
                    first, second = (lu[j] if j < len(lu) else "<end>"), (lv[j] if j < len(lv) else "<end>")
                    return f"code cell {i + 1}, line {j + 1}: {first[:150]!r} != {second[:150]!r}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may run (default 900)")
    parser.add_argument("--keep", type=Path, help="keep the two executed copies in KEEP/a and KEEP/b")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        print(f"twice: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    different = []
    with tempfile.TemporaryDirectory(prefix="twice-") as tmp:
        tmp = args.keep or tmp
        for src in args.notebooks:
            outs = [Path(tmp) / "a", Path(tmp) / "b"]
            for out in outs:
                out.mkdir(parents=True, exist_ok=True)
                for extra in src.parent.iterdir():  # files a notebook reads beside itself, if any
                    if (
                        extra.is_file()
                        and extra.suffix not in (".ipynb", ".py")
                        and not extra.name.startswith(".")
                    ):
                        shutil.copy2(extra, out / extra.name)
            with ThreadPoolExecutor(2) as pool:
                runs = list(
                    pool.map(
                        partial(run_notebooks.run_notebook, src, timeout=args.timeout, kernel="python3"), outs
                    )
                )
            if not all(r.ok for r in runs):
                print(f"{src.name}: FAILED to execute: {'; '.join(r.error for r in runs if not r.ok)}")
                different.append(src.name)
                continue
            diff = first_difference(*(nbformat.read(o / src.name, as_version=4) for o in outs))
            seconds = " and ".join(f"{r.seconds:.0f} s" for r in runs)
            print(
                f"{src.name}: {'identical outputs' if diff is None else 'DIFFERENT, ' + diff} ({seconds})",
                flush=True,
            )
            if diff is not None:
                different.append(src.name)
    print(
        f"twice: {len(args.notebooks) - len(different)}/{len(args.notebooks)} notebooks gave identical outputs twice"
    )
    return 1 if different else 0


if __name__ == "__main__":
    sys.exit(main())
