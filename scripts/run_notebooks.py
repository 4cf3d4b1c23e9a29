#!/usr/bin/env python
"""Execute notebooks in fresh kernels into an output folder; optionally write the benchmark table.

Used by ``make course`` (``--out _build/notebooks``) and ``make bench`` (``--bench _build/bench.md``).

Each notebook is copied to ``--out`` and executed there, top to bottom, in a new kernel of the
current environment (the ``python3`` kernel, which runs this interpreter), with the output folder
as its working directory, so relative links between notebooks keep working and the tracked
notebooks are never touched. One line per notebook reports its status and wall seconds; the exit
status is 1 if any notebook failed (its partially executed copy is still written, with the error in
its outputs, for inspection).

With ``--bench FILE`` each row also gets the kernel's peak resident memory (``VmHWM`` of the
kernel process, read from ``/proc`` after every cell, so it is the kernel's own high-water mark)
and the dev/test losses the notebook published with :func:`utils.results.publish`, read back from
the executed copy with :func:`utils.results.read_results`. The table is written to FILE as
Markdown and printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from utils.results import read_results

#: ARCHITECTURE.md §6: the most seconds each notebook may take on a quiet 2-core CPU, by number.
TIME_BUDGET_S = {"01": 30, "02": 90, "03": 180, "04": 240, "05": 240, "06": 300}
#: ARCHITECTURE.md §6: any notebook's kernel stays under this peak memory.
MEMORY_BUDGET_MIB = 2048


@dataclass
class Run:
    """What happened to one notebook."""

    name: str
    ok: bool = False
    error: str = ""
    seconds: float = 0.0
    peak_mib: float | None = None
    results: list[dict] = field(default_factory=list)


def peak_rss_mib(pid: int | None) -> float | None:
    """The high-water mark of the resident memory of process ``pid`` in MiB (Linux), else None."""
    if pid is None:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # the value is in kB
    return None


def _kernel_pid(client: NotebookClient) -> int | None:
    provisioner = getattr(client.km, "provisioner", None)
    process = getattr(provisioner, "process", None)
    return getattr(process, "pid", None)


def _one_line(text: str, limit: int = 160) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def run_notebook(src: Path, out_dir: Path, timeout: int, kernel: str) -> Run:
    """Execute ``src`` in a fresh kernel; write the executed copy to ``out_dir / src.name``."""
    run = Run(name=src.stem)
    dest = out_dir / src.name
    nb = nbformat.read(src, as_version=4)
    peak: list[float] = []

    def sample_memory(**_):
        value = peak_rss_mib(_kernel_pid(client))
        if value is not None:
            peak.append(value)

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        resources={"metadata": {"path": str(out_dir)}},
        on_cell_executed=sample_memory,
    )
    start = time.perf_counter()
    # The kernel process's own stderr (not the cells' output, which goes into the notebook) goes to a
    # log beside the copy: it holds ipykernel's start-up notices, or the reason a kernel died.
    log = out_dir / f"{src.stem}.kernel.log"
    try:
        with log.open("w") as stderr:
            client.execute(stderr=stderr)
        run.ok = True
    except CellExecutionError as exc:
        run.error = f"{exc.ename}: {_one_line(exc.evalue)}" if exc.ename else "a cell raised an error"
    except CellTimeoutError:
        run.error = f"a cell ran longer than {timeout} s"
    except DeadKernelError as exc:
        run.error = f"the kernel died ({_one_line(str(exc))}); see {log}"
    except Exception as exc:  # a kernel that cannot start, a corrupt notebook: report, do not crash
        run.error = f"{type(exc).__name__}: {_one_line(str(exc))}"
    run.seconds = time.perf_counter() - start
    run.peak_mib = max(peak) if peak else None
    nbformat.write(nb, dest)
    if run.ok:
        try:
            run.results = read_results(dest)
        except (ValueError, KeyError) as exc:
            run.ok, run.error = False, f"unreadable results: {exc}"
    return run


def _losses(rows: list[dict], key: str) -> str:
    return " / ".join("–" if r.get(key) is None else f"{r[key]:.4f}" for r in rows) or "–"


def bench_table(runs: list[Run]) -> str:
    """The Markdown table of ``make bench``: one row per notebook."""
    lines = [
        "| notebook | status | wall s | budget s | peak memory MiB | models | dev | test |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in runs:
        budget = TIME_BUDGET_S.get(r.name[:2])
        notes = []
        if r.ok and budget is not None and r.seconds > budget:
            notes.append("over time budget")
        if r.ok and r.peak_mib is not None and r.peak_mib > MEMORY_BUDGET_MIB:
            notes.append("over memory budget")
        status = ("ok" if r.ok else f"FAILED: {r.error}") + "".join(f"; {n}" for n in notes)
        status = status.replace("|", "\\|")
        lines.append(
            f"| {r.name} | {status} | {r.seconds:.1f} | {budget if budget is not None else '–'} | "
            f"{'–' if r.peak_mib is None else f'{r.peak_mib:.0f}'} | "
            f"{' / '.join(x['model'] for x in r.results) or '–'} | "
            f"{_losses(r.results, 'dev')} | {_losses(r.results, 'test')} |"
        )
    return "\n".join(lines)


def cpu_description() -> str:
    """The CPU's model name (``lscpu``'s, from /proc/cpuinfo) and PyTorch's CPU capability (AVX512, AVX2…)."""
    import torch  # only here: the rest of this script does not need it

    from utils.device import cpu_model

    return f"{cpu_model()}, PyTorch CPU capability {torch.backends.cpu.get_cpu_capability()}"


def bench_report(runs: list[Run]) -> str:
    device = os.environ.get("SEQUENTIA_DEVICE") or "cpu"
    header = (
        "# Sequentia benchmark (`make bench`)\n\n"
        f"CPU: {cpu_description()}.\n\n"
        f"Every notebook executed top to bottom in a fresh kernel on {datetime.now():%Y-%m-%d %H:%M}: "
        f"{os.cpu_count()} CPU cores, {platform.machine()}, Python {platform.python_version()}, "
        f"torch {version('torch')}, device {device}. Wall seconds include the kernel's start; peak "
        "memory is the kernel's resident high-water mark (VmHWM); dev/test are the losses (nats per "
        "character) the notebook published, one per model. Budgets from ARCHITECTURE.md §6 "
        f"(quiet 2-core CPU; peak memory ≤ {MEMORY_BUDGET_MIB} MiB).\n\n"
    )
    return header + bench_table(runs) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="the .ipynb files to execute, in order")
    parser.add_argument("--out", required=True, type=Path, help="folder for the executed copies")
    parser.add_argument("--bench", type=Path, help="also write the benchmark table (Markdown) to this file")
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may run (default 900)")
    parser.add_argument("--kernel", default="python3", help="kernel name (default: python3, this environment)")
    args = parser.parse_args(argv)

    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        print(f"run_notebooks: no such notebook: {', '.join(missing)}", file=sys.stderr)
        return 2
    # Kernels inherit the environment: keep string hashing fixed, as `make` does.
    os.environ.setdefault("PYTHONHASHSEED", "0")
    args.out.mkdir(parents=True, exist_ok=True)

    runs: list[Run] = []
    total = time.perf_counter()
    for folder in {src.parent for src in args.notebooks}:  # images or files the notebooks link to, if any
        for extra in folder.iterdir():
            if extra.is_file() and extra.suffix not in (".ipynb", ".py") and not extra.name.startswith("."):
                shutil.copy2(extra, args.out / extra.name)
    for i, src in enumerate(args.notebooks, 1):
        print(f"[{i}/{len(args.notebooks)}] {src.name} ...", flush=True)
        run = run_notebook(src, args.out.resolve(), args.timeout, args.kernel)
        runs.append(run)
        memory = "" if run.peak_mib is None else f", peak {run.peak_mib:.0f} MiB"
        status = "ok" if run.ok else f"FAILED ({run.error})"
        print(f"    {status} in {run.seconds:.1f} s{memory} -> {args.out / src.name}", flush=True)

    failed = [r.name for r in runs if not r.ok]
    print(
        f"{len(runs) - len(failed)}/{len(runs)} notebooks executed in {time.perf_counter() - total:.1f} s"
        + (f"; FAILED: {', '.join(failed)}" if failed else "")
    )
    if args.bench:
        report = bench_report(runs)
        args.bench.parent.mkdir(parents=True, exist_ok=True)
        args.bench.write_text(report, encoding="utf-8")
        print()
        print(report, end="")
        print(f"(written to {args.bench})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
