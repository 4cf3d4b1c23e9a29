"""The notebooks' exercises leak no answer, and their worked solutions are hidden wherever the course is read.

A learner's exercise cell calls ``check("NN.k", answer, **state)``: the expected value lives in
utils/exercises.py (or is computed there from the state passed), never in the cell's source or its
output. Nor does anything a learner reads before it: each exercise's leak strings (``LEAKS``) are
searched in every cell above the exercise (Markdown prose, code, and the text of stored outputs,
worked solutions of earlier exercises included) and in the exercise cell itself. A worked solution
is collapsed in JupyterLab (input and outputs) and a closed toggle in the HTML course
(``hide-cell``); a Markdown comment on a solution is left out of the HTML course.
"""

import ast
import re

import nbformat
import pytest

from utils import notebooks
from utils.exercises import EXERCISES

NOTEBOOKS = notebooks()


class InCell(str):
    """A leak string searched in the exercise cell only (its source and output), not in the cells above.

    For the spelling of a solution's code (``InCell("argmax")``) that the lesson itself rightly uses
    before the exercise; an answer's *value* is a plain string, searched everywhere above.
    """


# How each answer would be spelled if a page gave it away: the value (a plain string, searched in every
# cell above the exercise and in the exercise cell), or the code that computes it (a plain string too
# where the lesson never writes it, else InCell(...): the exercise cell only).
LEAKS = {
    "01.1": [" 109", "109 ", "(N_train == 0)", "N_train == 0)"],
    "01.2": ["1.905", "1.906"],
    "01.3": ['== "a"', "== 'a'", "greedy name from P0", InCell("argmax")],
    "01.4": ["(1 - lam)", "sum(0) / counts.sum()", "lam * rows"],
    "02.1": ["2.822", "2.823", "u * u.log()", "N.sum(0) / N.sum()"],
    "02.2": ["2.944", "2.945", "xs_d == 0", "xs == 0", "xs_d[starts]"],
    "02.3": ["'qu'", '"qu"', "gap.argmax()"],
    "02.4": ["n_i * p", "2 * lam * W", "- N) / N.sum()"],
    "03.1": ["14283", "14,283", "14 283", "V * d + k * d * H", "Vd + kdH", InCell("n_params(")],
    "03.2": [InCell("* 0.001"), InCell("W2_e *"), InCell("zeros_like(W2_e"), InCell("(W2_e, b2_e), C=")],
    "03.3": [InCell("windows[4]"), InCell("(m4, 4)"), InCell("k=4")],
    "03.4": ["context_windows([name]", InCell("cross_entropy(model(")],
    "04.1": ["x_e.grad", "(pre > 0)", InCell(".backward()")],
    "04.2": ["RMSprop(", "0.99 * v +"],
    "04.3": ["b_fold =", "W_f * s", InCell("running_var"), InCell("running_mean")],
    "04.4": ["running_mean.copy_(", "running_mean = x.mean(", "correction=0", InCell("unbiased=False")],
    "05.1": ["13046", "13,046", "13_046", "13 046", InCell("Y_dev[:, 3:]"), InCell("!= IGNORE_INDEX")],
    "05.2": ["0.5**10", "0.5 ** 10", "0.000976", "0.000977", "9.76", "9.77e-04"],
    "05.3": ["0.2810", "0.281,", "0.281 ", "2.81e-01", "σ(2)^10", "σ(2)¹⁰", InCell("1.0")],
    "05.4": ["def loss_by_position(model, X, Y):\n    with", InCell("reduction=")],
    "06.1": ["0.5 **", "0.5**", "16/31", "0.5161", "0.516,", "math.log(2)", InCell("softmax(")],
    "06.2": ["49984", "49,984", "49_984", "49 984", "12C² + 13C", "12 * C_**2", InCell("numel")],
    "06.3": ["cumsum", "argsort"],
    "06.4": ["def local_attention", "lag < w", "(lag >= 0)"],
}
FORBIDDEN_KEYWORDS = {"expected", "test", "hint", "atol", "rtol"}


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def _text(cell):
    """The text of a cell's stored outputs: streams and every text MIME type (not images, whose base64 is noise)."""
    out = []
    for o in cell.get("outputs", []):
        out.append(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"]))
        for mime, value in o.get("data", {}).items():
            if mime.startswith("text/") or mime.endswith("json"):
                out.append(value if isinstance(value, str) else "".join(map(str, value)))
    return "\n".join(out)


def _shown(cell):
    """What a reader of the notebook sees of a cell: its source (prose or code) and its outputs."""
    return cell.source + "\n" + _text(cell)


def _leaks_above(path):
    """(key, problems): for each exercise, the leak strings shown in a cell above it or in its own cell."""
    cells = nbformat.read(path, as_version=4).cells
    found = []
    for k, cell in enumerate(cells):
        if "exercise" not in _tags(cell):
            continue
        calls = _check_calls(cell.source)
        key = calls[0].args[0].value if calls and isinstance(calls[0].args[0], ast.Constant) else None
        problems = []
        for leak in LEAKS.get(key, []):
            where = [k] if isinstance(leak, InCell) else range(k + 1)
            for i in where:
                if leak in _shown(cells[i]):
                    first = cells[i].source.strip().splitlines()[0][:60] if cells[i].source.strip() else ""
                    what = "the exercise cell" if i == k else f"{cells[i].cell_type} cell {i} ({first!r})"
                    problems.append(f"{path.name}, exercise {key}: {what} shows {leak!r}")
        found.append((key, problems))
    return found


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
        assert key in LEAKS, f"{path.name}, exercise {key}: no row in LEAKS"
        # as stored, the learner's cell is not attempted: it shows the verdict line only
        assert "⏳" in _text(cell) and "✅" not in _text(cell), _text(cell)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nothing_above_an_exercise_gives_its_answer_away(path):
    problems = [p for _, found in _leaks_above(path) for p in found]
    assert not problems, "\n".join(problems)


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
