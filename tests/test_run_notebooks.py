"""scripts/run_notebooks.py: fresh kernels, executed copies beside untouched sources, status, peak memory, bench table."""

import sys

import nbformat
import pytest
from _support import write_notebook

from scripts import run_notebooks
from utils.results import MIME_TYPE


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("out")
    good = write_notebook(
        src / "01_good.ipynb",
        "import os, sys\nprint(sys.executable)\nprint(os.getcwd())",
        "block = bytearray(300 * 2**20)  # 300 MiB, touched below so that it is resident\nblock[::4096] = b'x' * len(block[::4096])",
        'from utils.results import publish\n_ = publish("01_good", [dict(model="toy", params=27, dev=2.5, test=2.25)])',
    )
    bad = write_notebook(src / "02_bad.ipynb", "print('before')", "raise ValueError('on purpose')", "print('never')")
    before = {p: p.read_bytes() for p in (good, bad)}
    bench = out / "bench.md"
    status = run_notebooks.main(["--out", str(out), "--bench", str(bench), str(good), str(bad)])
    return dict(src=src, out=out, bench=bench, status=status, before=before)


def test_a_failing_notebook_fails_the_run(ran):
    assert ran["status"] == 1


def test_sources_are_untouched_and_copies_are_executed(ran):
    for path, content in ran["before"].items():
        assert path.read_bytes() == content
    nb = nbformat.read(ran["out"] / "01_good.ipynb", as_version=4)
    assert all(c.execution_count for c in nb.cells)
    printed = nb.cells[0].outputs[0]["text"].splitlines()
    assert printed[0] == sys.executable, "the kernel must run this environment's interpreter"
    assert printed[1] == str(ran["out"].resolve()), "the kernel must start in the output folder"
    assert any(MIME_TYPE in o.get("data", {}) for o in nb.cells[2].outputs)


def test_the_failed_copy_keeps_its_error(ran):
    nb = nbformat.read(ran["out"] / "02_bad.ipynb", as_version=4)
    assert nb.cells[0].outputs[0]["text"] == "before\n"
    assert nb.cells[1].outputs[0]["ename"] == "ValueError"
    assert not nb.cells[2].outputs


def test_bench_table_has_memory_and_published_losses(ran):
    text = ran["bench"].read_text()
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[1:-1]]
            for line in text.splitlines() if line.startswith("| 0")}
    good, bad = rows["01_good"], rows["02_bad"]
    assert good[1] == "ok"
    assert good[3] == "30", "the budget of notebook 01 (ARCHITECTURE.md §6)"
    assert 300 <= float(good[4]) < 1000, "peak memory (MiB) must include the 300 MiB block"
    assert good[5:] == ["toy", "2.5000", "2.2500"]
    assert bad[1] == "FAILED: ValueError: on purpose"
    assert bad[5:] == ["–", "–", "–"]


def test_missing_notebook_is_an_error(tmp_path, capsys):
    assert run_notebooks.main(["--out", str(tmp_path), str(tmp_path / "nope.ipynb")]) == 2
    assert "no such notebook" in capsys.readouterr().err


def test_bench_table_flags_budgets():
    runs = [
        run_notebooks.Run(name="03_mlp", ok=True, seconds=200.0, peak_mib=3000.0,
                          results=[{"model": "MLP", "dev": 2.1, "test": None}]),
    ]
    table = run_notebooks.bench_table(runs)
    assert "| 03_mlp | ok; over time budget; over memory budget | 200.0 | 180 | 3000 | MLP | 2.1000 | – |" in table


def test_bench_report_names_the_cpu_and_torch_capability(monkeypatch):
    import torch

    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    report = run_notebooks.bench_report([])
    cpu_line = report.splitlines()[2]
    assert cpu_line.startswith("CPU: ") and cpu_line.endswith(", PyTorch CPU capability AVX512."), cpu_line
    model = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), None)
    if model:  # Linux: lscpu's model name
        assert cpu_line == f"CPU: {model}, PyTorch CPU capability AVX512."
