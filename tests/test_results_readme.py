"""The README's results table is generated from the notebooks (scripts/make_results.py), and kept fresh."""

import nbformat
import pytest

from scripts import make_results
from utils.results import MIME_TYPE

README = """# Title

Intro.

<!-- results:start -->
old table
<!-- results:end -->

## After
"""


def test_readme_results_table_is_up_to_date():
    """What `make test` checks: README.md shows what the stored notebooks publish."""
    assert make_results.main(["--check"]) == 0, "README.md's results table is stale: run `make results`"


def _published(path, notebook, rows):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("publish(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": "| table |", MIME_TYPE: {
        "notebook": notebook, "rows": rows}})]
    nb.cells = [cell]
    nbformat.write(nb, path)
    return path


@pytest.fixture()
def repo(tmp_path):
    (tmp_path / "notebooks").mkdir()
    nb1 = _published(tmp_path / "notebooks" / "01_count.ipynb", "01_count", [
        {"model": "counting bigram", "params": 729, "train_seconds": 0.1, "dev": 2.4543, "test": 2.4612}])
    nb2 = _published(tmp_path / "notebooks" / "02_final.ipynb", "02_final", [
        {"model": "counting bigram", "params": 729, "train_seconds": None, "dev": 2.4543, "test": 2.4612},
        {"model": "MLP", "params": 11897, "train_seconds": 60.0, "dev": 2.1234, "test": None}])
    readme = tmp_path / "README.md"
    readme.write_text(README)
    return readme, [nb1, nb2]


def test_regenerates_between_the_markers_and_then_checks_clean(repo, capsys):
    readme, nbs = repo
    args = ["--readme", str(readme), *map(str, nbs)]
    assert make_results.main(["--check", *args]) == 1
    assert readme.read_text() == README, "--check must not change the README"
    assert "stale" in capsys.readouterr().err
    assert make_results.main(args) == 0
    text = readme.read_text()
    assert text.startswith("# Title\n\nIntro.\n\n<!-- results:start -->\n| model | parameters | dev | test | notebook |\n")
    assert text.endswith("<!-- results:end -->\n\n## After\n")
    assert "| counting bigram | 729 | 2.4543 | 2.4612 | [01_count](notebooks/01_count.ipynb) |" in text
    assert "| MLP | 11,897 | 2.1234 | – | [02_final](notebooks/02_final.ipynb) |" in text
    assert text.count("counting bigram") == 1, "a model shown again by a later notebook is listed once"
    assert make_results.main(["--check", *args]) == 0


def test_no_results_yet_gives_a_placeholder(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README)
    assert make_results.main(["--readme", str(readme), str(_empty(tmp_path / "00_start.ipynb"))]) == 0
    assert "<!-- results:start -->\n_No notebook has published results yet._\n<!-- results:end -->" in readme.read_text()


def _empty(path):
    nbformat.write(nbformat.v4.new_notebook(), path)
    return path


@pytest.mark.parametrize("text", ["no markers", "<!-- results:end -->\n<!-- results:start -->",
                                  "<!-- results:start --><!-- results:start --><!-- results:end -->"])
def test_markers_are_required_once_in_order(text):
    with pytest.raises(ValueError, match="must contain the markers"):
        make_results.replace_block(text, "table")


def test_missing_markers_exit_with_a_message(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    assert make_results.main(["--readme", str(readme), str(_empty(tmp_path / "00_start.ipynb"))]) == 2
    assert "must contain the markers" in capsys.readouterr().err
