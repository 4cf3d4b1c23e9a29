"""scripts/annotate_cells.py: every notebook carries the slide breaks and exercise/solution tags it derives.

A notebook edited without `make annotate` (or `make sync`, which runs it) fails here, so slides and
handouts never silently miss a new section or a new solution.
"""

import re
import tomllib

import nbformat
import pytest

from scripts import annotate_cells
from utils import REPO_ROOT, notebooks

NOTEBOOKS = notebooks()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_is_annotated(path):
    problems = annotate_cells.problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name} lacks its annotations: run 'make annotate'.\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_py_pair_keeps_the_slide_metadata(path):
    nb = nbformat.read(path, as_version=4)
    text = path.with_suffix(".py").read_text(encoding="utf-8")
    for kind in ("slide", "subslide"):
        in_nb = sum(c.metadata.get("slideshow", {}).get("slide_type") == kind for c in nb.cells)
        in_py = len(re.findall(rf'^# %%.*slideshow={{"slide_type": "{kind}"}}', text, flags=re.M))
        assert in_py == in_nb, f"{path.with_suffix('.py').name}: {in_py} {kind}s, the notebook has {in_nb}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_exercise_has_one_worked_solution(path):
    cells = nbformat.read(path, as_version=4).cells
    tagged = [t for c in cells for t in c.metadata.get("tags", []) if t in ("exercise", "solution")]
    code_solutions = [c for c in cells if c.cell_type == "code" and "solution" in c.metadata.get("tags", [])]
    assert tagged.count("exercise") == len(code_solutions)
    # an exercise comes before its solution: the tags alternate exercise, solution(s), exercise, ...
    assert "".join("e" if t == "exercise" else "s" for t in tagged).replace("s", "") == "e" * tagged.count("exercise")
    assert not tagged or tagged[0] == "exercise"


def test_jupytext_keeps_slideshow_metadata():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "slideshow" in config["tool"]["jupytext"]["cell_metadata_filter"].split(",")


def _cells():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    return [
        md("# 01 — Title\n\nIntro."),                                            # 0 slide
        code("x = 1"),                                                            # 1
        md("More about x."),                                                      # 2 subslide (after code)
        md("And more."),                                                          # 3 continues
        md("## 1. A section"),                                                    # 4 slide
        md("### A detail"),                                                       # 5 subslide
        code("y = 2"),                                                            # 6
        md("Text, then\n\n## Exercises\n\n**Exercise 1 — one.** Do it."),         # 7 subslide; opens exercises
        code("answer = ...\ncheck('Exercise 1', answer, expected=2)"),            # 8 exercise
        code("# Solution\nanswer = 2\nassert check('Exercise 1', answer, expected=2)",
             metadata={"tags": ["hide-input"], "jupyter": {"source_hidden": True}}),  # 9 solution, subslide
        md("Why 2: because."),                                                    # 10 solution (a comment)
        md("**Exercise 2 — two.** Again."),                                       # 11 subslide
        code("answer = ...\ncheck('Exercise 2', answer, expected=3)"),            # 12 exercise
        code("# NBVAL_IGNORE_OUTPUT\n# Solution: three.\nanswer = 3\nassert check('Exercise 2', answer)"),  # 13 solution
        md("The end of it.\n\n### Exercise 3 — three"),                           # 14 not a solution: states one
        md("## Results"),                                                         # 15 slide; closes exercises
        code("check('not an exercise', 1, expected=1)", metadata={"tags": ["hide-input"]}),  # 16 neither
    ]


def test_rules_on_a_small_notebook():
    got = annotate_cells.annotations(_cells())
    assert [a["slide_type"] for a in got] == [
        "slide", "-", "subslide", "-", "slide", "subslide", "-", "subslide", "-", "subslide", "-",
        "subslide", "-", "subslide", "subslide", "slide", "-"]
    solution, comment = ["hide-cell", "solution"], ["remove-cell", "solution"]
    assert [sorted(a["tags"]) for a in got] == [
        [], [], [], [], [], [], [], [], ["exercise"], solution, comment, [], ["exercise"], solution,
        [], [], []]
    hidden = {"source_hidden": True, "outputs_hidden": True}
    assert [a["jupyter"] for a in got][8:11] == [{}, hidden, {"source_hidden": True}]
    assert got[13]["jupyter"] == hidden  # found by its "# Solution" line, with no tag at all


def test_annotate_is_idempotent_and_keeps_other_tags():
    nb = nbformat.v4.new_notebook()
    nb.cells = _cells()
    assert annotate_cells.problems(nb)
    assert annotate_cells.annotate(nb) is True
    assert annotate_cells.problems(nb) == []
    assert annotate_cells.annotate(nb) is False
    assert nb.cells[9].metadata["tags"] == ["hide-cell", "solution"]  # hide-input left the outputs in view
    assert nb.cells[9].metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert nb.cells[10].metadata["tags"] == ["remove-cell", "solution"]
    assert "slideshow" not in nb.cells[1].metadata  # a continuing cell carries nothing
    assert nb.metadata["jupytext"]["cell_metadata_filter"] == annotate_cells.cell_metadata_filter()
    # a cell that stops being a solution loses the tag, and one that becomes a plain cell its slide type
    nb.cells[10].source = "**Exercise 9 — new.**"
    annotate_cells.annotate(nb)
    assert "tags" not in nb.cells[10].metadata and nb.cells[10].metadata["slideshow"]["slide_type"] == "subslide"
    assert "jupyter" not in nb.cells[10].metadata  # shown again, in JupyterLab and in the HTML course


def test_a_solution_that_shows_its_outputs_is_reported():
    nb = nbformat.v4.new_notebook()
    nb.cells = _cells()
    annotate_cells.annotate(nb)
    nb.cells[9].metadata["jupyter"] = {"source_hidden": True}
    nb.cells[13].metadata["tags"] = ["hide-input", "solution"]
    found = "\n".join(annotate_cells.problems(nb))
    assert "jupyter.outputs_hidden = True" in found
    assert "should be tagged 'hide-cell'" in found and "should not be tagged 'hide-input'" in found


def test_check_mode_reports_a_stale_notebook(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    nb.cells = _cells()
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    assert annotate_cells.main(["--check", str(path)]) == 1
    assert "make annotate" in capsys.readouterr().out
    assert annotate_cells.main([str(path)]) == 0  # no .py pair: annotates the notebook alone
    assert annotate_cells.main(["--check", str(path)]) == 0
