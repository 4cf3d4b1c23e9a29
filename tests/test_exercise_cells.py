"""The notebooks' exercises leak no answer, and their worked solutions are hidden wherever the course is read.

A learner's exercise cell calls ``check("NN.k", answer, **state)``: the expected value lives in
utils/exercises.py (or is computed there from the state passed), never in the cell's source or its
output. A worked solution is collapsed in JupyterLab (input and outputs) and a closed toggle in the
HTML course (``hide-cell``); a Markdown comment on a solution is left out of the HTML course.
"""

import ast
import re

import nbformat
import pytest

from utils import notebooks
from utils.exercises import EXERCISES

NOTEBOOKS = notebooks()

# How each answer would be spelled if a cell gave it away (the value, or the code that computes it).
LEAKS = {
    "01.1": ["102", "(N == 0)"],
    "01.2": ["1.905", "1.906"],
    "01.3": ['== "a"', "== 'a'", "argmax"],
    "02.1": ["3.29", "log(27)", "log(V)", "log(len"],
    "02.2": ["cross_entropy(", "final_loss", "count_loss"],
    "02.3": ['"q"', "'q'", ".max(dim=1)"],
    "03.1": ["14283", "14,283", "n_params("],
    "03.2": ["* 0.001", "W2_e *"],
    "03.3": ["dev_final:", "< dev_final"],
    "04.1": ["x_e.grad", ".backward()"],
    "04.2": ["RMSprop("],
    "04.3": ["running_var", "running_mean"],
    "05.1": ["22655", "22_655", "22,655", "!= IGNORE_INDEX"],
    "05.2": ["0.5**10", "0.5 ** 10", "0.000976", "9.76"],
    "05.3": ["1.0", "expected"],
    "06.1": ["0.5 **", "0.5**", "softmax("],
    "06.2": ["49984", "49,984", "49_984", "numel"],
    "06.3": ["cumsum", "argsort"],
}
FORBIDDEN_KEYWORDS = {"expected", "test", "hint", "atol", "rtol"}


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def _text(cell):
    out = []
    for o in cell.get("outputs", []):
        out.append(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"]))
        for value in o.get("data", {}).values():
            out.append(value if isinstance(value, str) else "".join(map(str, value)))
    return "\n".join(out)


def _check_calls(source):
    return [node for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check"]


def _exercises(path):
    """(key, exercise cell, [solution cells]) for each exercise of the notebook, in order."""
    cells = nbformat.read(path, as_version=4).cells
    found = []
    for cell in cells:
        if "exercise" in _tags(cell):
            calls = _check_calls(cell.source)
            assert len(calls) == 1, f"{path.name}: an exercise cell calls check() once: {cell.source[:80]!r}"
            key = calls[0].args[0].value if isinstance(calls[0].args[0], ast.Constant) else None
            found.append((key, cell, []))
        elif "solution" in _tags(cell):
            found[-1][2].append(cell)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_cells_leak_no_answer(path):
    for key, cell, _ in _exercises(path):
        assert key in EXERCISES and key.startswith(path.name[:2] + "."), f"{path.name}: unknown exercise {key!r}"
        call = _check_calls(cell.source)[0]
        # the answer and the state are names, attributes or items of notebook objects, never a literal
        assert len(call.args) == 2 and not isinstance(call.args[1], ast.Constant), ast.unparse(call)
        assert {kw.arg for kw in call.keywords} == set(EXERCISES[key].needs), ast.unparse(call)
        assert not {kw.arg for kw in call.keywords} & FORBIDDEN_KEYWORDS, ast.unparse(call)
        for kw in call.keywords:
            assert not isinstance(kw.value, ast.Constant | ast.Lambda | ast.BinOp), ast.unparse(call)
        assert "expected=" not in cell.source
        shown = cell.source + "\n" + _text(cell)
        for leak in LEAKS[key]:
            assert leak not in shown, f"{path.name}, exercise {key}: the cell shows {leak!r}"
        # as stored, the learner's cell is not attempted: it shows the verdict line only
        assert "⏳" in _text(cell) and "✅" not in _text(cell), _text(cell)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_solution_checks_its_exercise_and_is_hidden(path):
    for key, _, solutions in _exercises(path):
        code = [c for c in solutions if c.cell_type == "code"]
        assert len(code) == 1, f"{path.name}, exercise {key}: one worked solution"
        assert [ast.unparse(c.args[0]) for c in _check_calls(code[0].source)] == [repr(key)]
        assert re.search(rf"assert check\(['\"]{re.escape(key)}['\"]", code[0].source)
        for cell in solutions:
            jupyter = cell.metadata.get("jupyter", {})
            if cell.cell_type == "code":  # collapsed in JupyterLab, a closed toggle in the HTML course
                assert jupyter.get("source_hidden") is True and jupyter.get("outputs_hidden") is True, key
                assert "hide-cell" in _tags(cell) and not _tags(cell) & {"hide-input", "hide_input"}, key
            else:  # a Markdown comment cannot be a toggle: collapsed in JupyterLab, not in the HTML course
                assert jupyter.get("source_hidden") is True and "remove-cell" in _tags(cell), key


def test_every_registered_exercise_is_in_a_notebook():
    used = [key for path in NOTEBOOKS for key, _, _ in _exercises(path)]
    assert sorted(used) == sorted(EXERCISES), "utils/exercises.py and the notebooks disagree"
