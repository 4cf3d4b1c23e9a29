#!/usr/bin/env python
"""The estimated study time of each notebook, as the syllabus states it (README.md, book/intro.md, notebook 00).

Study time is what a learner spends on a notebook, not what the computer does:

- reading the prose: the words of its Markdown cells (worked solutions' comments included) at
  ``WORDS_PER_MINUTE`` = 200, a common pace for technical text;
- reading the code: its non-blank, non-comment code lines at ``CODE_LINES_PER_MINUTE`` = 10, each
  line read together with the output it produces;
- the exercises: ``EXERCISE_MINUTES`` = 15 for each (trying, checking, reading the worked solution);
- running it: the notebook's execution budget on the slowest CPU the course supports
  (``scripts.run_notebooks.TIME_BUDGET_S``; one minute for notebook 00).

The total is rounded to the nearest 5 minutes. ``python -m scripts.study_time`` prints the table, and
with ``--write`` puts the times into the syllabus tables' "study time" column (``SYLLABI``);
tests/test_study_time.py requires the syllabus to state these times (within ``TOLERANCE``), so the
syllabus follows the notebooks as they grow.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import jupytext

from scripts.run_notebooks import TIME_BUDGET_S
from utils import REPO_ROOT, notebooks

WORDS_PER_MINUTE = 200
CODE_LINES_PER_MINUTE = 10
EXERCISE_MINUTES = 15
DEFAULT_RUN_SECONDS = 60  # notebook 00 has no budget: it checks the environment and plots the data
TOLERANCE = 0.2  # the syllabus may round differently, but not by more than a fifth


def measure(path: Path) -> dict:
    """Words of prose, lines of code and exercises of the notebook at ``path`` (its .py pair)."""
    nb = jupytext.read(Path(path).with_suffix(".py"))
    words = code = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            words += len(re.findall(r"\w\S*", cell.source))  # words, numbers and formulas; not bare | or -
        elif cell.cell_type == "code":
            code += sum(1 for line in cell.source.splitlines() if line.strip() and not line.strip().startswith("#"))
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    exercises = len(set(re.findall(r"""\bcheck\(\s*["'](\d\d\.\d+)["']""", source)))
    run = TIME_BUDGET_S.get(Path(path).name[:2], DEFAULT_RUN_SECONDS)
    return {"words": words, "code_lines": code, "exercises": exercises, "run_s": run}


def minutes(m: dict) -> int:
    """The study time in minutes, rounded to the nearest 5."""
    total = (m["words"] / WORDS_PER_MINUTE + m["code_lines"] / CODE_LINES_PER_MINUTE
             + m["exercises"] * EXERCISE_MINUTES + m["run_s"] / 60)
    return max(5, 5 * round(total / 5))


def spell(total: int) -> str:
    """``95`` → ``"1 h 35 min"``, ``40`` → ``"40 min"``: how the syllabus writes a study time."""
    hours, mins = divmod(total, 60)
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"


def parse(text: str) -> int:
    """The minutes of a study time as the syllabus writes it (``"1 h 35 min"``, ``"40 min"``, ``"2 h"``)."""
    m = re.fullmatch(r"\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*min)?\s*", text)
    if not m or not any(m.groups()):
        raise ValueError(f"not a study time: {text!r}")
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


def table(paths: list[Path]) -> str:
    rows = ["| notebook | words of prose | lines of code | exercises | execution budget | study time |",
            "|---|---:|---:|---:|---:|---:|"]
    for path in paths:
        m = measure(path)
        rows.append(f"| {Path(path).stem} | {m['words']:,} | {m['code_lines']:,} | {m['exercises']} | "
                    f"{m['run_s']} s | {spell(minutes(m))} |")
    return "\n".join(rows)


#: The syllabus tables that state a study time per notebook (a column headed "study time").
SYLLABI = [REPO_ROOT / "README.md", REPO_ROOT / "book" / "intro.md", REPO_ROOT / "notebooks" / "00_start_here.py"]
ROW = re.compile(r"^(?P<lead>(?:# )?)\|(?P<cells>.*)\|\s*$")


def syllabus_times(text: str) -> dict[str, str]:
    """``{"NN": "1 h 35 min"}``: the study time each row of the text's syllabus table gives its notebook."""
    found, column = {}, None
    for line in text.splitlines():
        row = ROW.match(line)
        if not row:
            column = None
            continue
        cells = [c.strip() for c in row["cells"].split("|")]
        if "study time" in cells:
            column = cells.index("study time")
        elif column is not None and (nb := re.search(r"\b(\d\d)_\w+\.ipynb", cells[0])):
            found[nb.group(1)] = cells[column]
    return found


def rewrite(text: str, times: dict[str, str]) -> str:
    """The text with each syllabus row's study time replaced by ``times[NN]``."""
    out, column = [], None
    for line in text.splitlines(keepends=True):
        row = ROW.match(line.rstrip("\n"))
        if not row:
            column = None
        else:
            cells = row["cells"].split("|")
            stripped = [c.strip() for c in cells]
            if "study time" in stripped:
                column = stripped.index("study time")
            elif column is not None and (nb := re.search(r"\b(\d\d)_\w+\.ipynb", cells[0])) and nb.group(1) in times:
                cells[column] = f" {times[nb.group(1)]} "
                line = f"{row['lead']}|{'|'.join(cells)}|\n"
        out.append(line)
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
    parser.add_argument("--write", action="store_true", help="write the times into the syllabus tables "
                        f"({', '.join(p.relative_to(REPO_ROOT).as_posix() for p in SYLLABI)}) and sync notebook 00")
    args = parser.parse_args(argv)
    paths = args.notebooks or notebooks()
    print(table(paths))
    if args.write:
        times = {Path(p).name[:2]: spell(minutes(measure(p))) for p in paths}
        for syllabus in SYLLABI:
            text = syllabus.read_text(encoding="utf-8")
            if rewrite(text, times) != text:
                syllabus.write_text(rewrite(text, times), encoding="utf-8")
                print(f"wrote {syllabus.relative_to(REPO_ROOT)}")
                if syllabus.suffix == ".py":  # the notebook's .ipynb pair follows (Markdown only: no re-execution)
                    subprocess.run([sys.executable, "-m", "jupytext", "--sync", "--quiet",
                                    str(syllabus.with_suffix(".ipynb"))], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
