"""scripts/make_handouts.py: no worked solution survives in any handout, and the exercises still run."""

import ast

import nbformat
import pytest
from nbclient import NotebookClient

from scripts import annotate_cells, make_handouts
from utils import notebooks

NOTEBOOKS = notebooks()


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=lambda p: p.name)
def pair(request):
    """(the notebook, its handout)"""
    return nbformat.read(request.param, as_version=4), make_handouts.handout(request.param)


def test_no_solution_survives(pair):
    nb, handout = pair
    solutions = [c.source.strip() for c in nb.cells if "solution" in _tags(c)]
    for cell in handout.cells:
        assert not _tags(cell) & {"solution", "hide-input", "hide_input", "hide-cell", "remove-cell"}, cell.source[:80]
        assert cell.source.strip() not in solutions, f"a worked solution is in the handout: {cell.source[:80]!r}"
        if cell.cell_type == "code":
            assert not cell.source.lstrip().startswith("# Solution"), cell.source[:80]


def test_exercises_are_kept_with_their_checks_and_no_outputs(pair):
    nb, handout = pair
    exercises = [c for c in nb.cells if "exercise" in _tags(c)]
    kept = [c for c in handout.cells if "exercise" in _tags(c)]
    assert [c.source for c in kept] == [c.source for c in exercises]
    for cell in kept:
        assert "check(" in cell.source
        assert cell.outputs == [] and cell.execution_count is None
    if exercises:
        assert handout.cells[1].metadata["tags"] == [make_handouts.NOTE_TAG]


def test_the_lecture_keeps_its_outputs(pair):
    nb, handout = pair
    lecture = [c for c in nb.cells if c.cell_type == "code" and not _tags(c) & {"exercise", "solution"}]
    assert [c.outputs for c in handout.cells if c.cell_type == "code" and "exercise" not in _tags(c)] == \
        [c.outputs for c in lecture]


def _bound_and_used(source):
    """Names a cell binds at top level (assignments, defs, imports, loops) and names it reads."""
    tree = ast.parse(source)
    bound, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return bound, used


def test_nothing_after_an_exercise_needs_a_removed_solution(pair):
    """The handout runs top to bottom: no kept cell reads a name that only a worked solution defined."""
    nb, handout = pair
    only_in_solutions = set()
    kept_bound = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        bound, _ = _bound_and_used(cell.source)
        if "solution" in _tags(cell):
            only_in_solutions |= bound
        else:
            kept_bound |= bound
    only_in_solutions -= kept_bound
    for cell in handout.cells:
        if cell.cell_type == "code":
            _, used = _bound_and_used(cell.source)
            assert not used & only_in_solutions, f"needs {used & only_in_solutions} from a removed solution"


def _small_notebook(path):
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        md("# 01 — A small notebook"),
        code('from utils.exercises import check\nwords = ["ab", "cde"]'),
        md("## Exercises\n\n**Exercise 1 — count the targets.** How many targets do `words` give?"),
        code('answer = ...\ncheck("05.1", answer, dev_words=words)'),
        code('# Solution\nanswer = sum(len(w) + 1 for w in words)\nprint("the answer is", answer)\n'
             'assert check("05.1", answer, dev_words=words)'),
        md("One target per character, plus one for the end token: 3 + 4."),
        md("## Summary"),
        code('print("done")'),
    ]
    nbformat.write(nb, path)
    return path


def test_a_handout_executes_with_its_exercise_checks(tmp_path):
    path = _small_notebook(tmp_path / "01_small.ipynb")
    with pytest.raises(SystemExit, match="make annotate"):
        make_handouts.handout(path)  # refused: its solution is not tagged yet
    assert annotate_cells.main([str(path)]) == 0
    assert make_handouts.main(["--out", str(tmp_path / "out"), str(path)]) == 0
    handout = nbformat.read(tmp_path / "out" / "01_small.ipynb", as_version=4)
    text = nbformat.writes(handout)
    assert "the answer is" not in text and "for the end token" not in text
    NotebookClient(handout, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    exercise = next(c for c in handout.cells if "exercise" in _tags(c))
    printed = "".join(o.get("text", "") for o in exercise.outputs)
    assert "Exercise 1: not attempted yet" in printed
    assert handout.cells[-1].outputs[0]["text"] == "done\n"
