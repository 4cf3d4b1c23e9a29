"""scripts/twice.py (`make twice`): two executions of a notebook must give identical outputs."""


import nbformat
from _support import write_notebook

from scripts import twice


def _executed(*outputs_per_cell):
    nb = nbformat.v4.new_notebook()
    for outputs in outputs_per_cell:
        cell = nbformat.v4.new_code_cell("x")
        cell.outputs = outputs
        nb.cells.append(cell)
    return nb


def _stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def test_masks_timings_and_progress_redraws_but_not_losses():
    a = _executed(
        [
            _stream("\r 10%|██  | 1/10 [00:01<00:09]\r100%|████| 10/10 [00:03<00:00]\n"),
            _stream("took 3.1 s\n"),
        ]
    )
    b = _executed([_stream("\r100%|████| 10/10 [00:02<00:00]\n"), _stream("took 2.0 s\n")])
    assert twice.first_difference(a, b) is None
    c = _executed([_stream("dev 1.9843 after 800 steps\n")])
    d = _executed([_stream("dev 1.9850 after 800 steps\n")])
    assert "1.9843" in twice.first_difference(c, d)


def test_figures_are_compared_too():
    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 700x400 with 1 Axes>"}
    other = {**png, "image/png": "iVBORw0KGgX="}
    a = _executed([nbformat.v4.new_output("display_data", data=png)])
    b = _executed([nbformat.v4.new_output("display_data", data=other)])
    assert twice.first_difference(a, a) is None
    assert "image/png" in twice.first_difference(a, b)


def test_catches_a_planted_nondeterministic_cell_and_passes_a_seeded_one(tmp_path, capsys):
    seeded = write_notebook(
        tmp_path / "seeded.ipynb",
        "# NBVAL_IGNORE_OUTPUT\nimport torch\ng = torch.Generator().manual_seed(0)\nprint(torch.randn(3, generator=g))",
    )
    planted = write_notebook(
        tmp_path / "planted.ipynb", "# NBVAL_IGNORE_OUTPUT\nimport torch\nprint(torch.randn(3))"
    )
    assert twice.main([str(seeded)]) == 0
    assert "seeded.ipynb: identical outputs" in capsys.readouterr().out
    assert twice.main([str(planted)]) == 1
    out = capsys.readouterr().out
    assert "planted.ipynb: DIFFERENT, code cell 1" in out and "0/1 notebooks" in out


def test_missing_notebook_is_exit_2(tmp_path, capsys):
    assert twice.main([str(tmp_path / "nope.ipynb")]) == 2
    assert "no such notebook" in capsys.readouterr().err


def test_timings_in_tables_and_published_results_are_masked():
    table = "| model | training s | dev |\n|---|---:|---:|\n| MLP | 50.7 | 2.0891 |\n"
    mime = "application/vnd.sequentia.results+json"
    a = _executed(
        [
            nbformat.v4.new_output("display_data", data={"text/markdown": table}),
            nbformat.v4.new_output(
                "display_data", data={mime: {"rows": [{"dev": 2.0891, "train_seconds": 50.7}]}}
            ),
        ]
    )
    b = _executed(
        [
            nbformat.v4.new_output("display_data", data={"text/markdown": table.replace("50.7", "116.4")}),
            nbformat.v4.new_output(
                "display_data", data={mime: {"rows": [{"dev": 2.0891, "train_seconds": 116.4}]}}
            ),
        ]
    )
    assert twice.first_difference(a, b) is None
    c = _executed(
        [nbformat.v4.new_output("display_data", data={"text/markdown": table.replace("2.0891", "2.0892")})]
    )
    d = _executed([nbformat.v4.new_output("display_data", data={"text/markdown": table})])
    assert (
        twice.first_difference(c, d)
        == "code cell 1, line 3: '| MLP |TIME| 2.0892 |' != '| MLP |TIME| 2.0891 |'"
    )


def test_clock_readings_anywhere_are_masked():
    a = _executed(
        [_stream("logits by one-hot matmul: 16.2 ms; vectorised: 1.1 ms, 9,785× faster than the loop\n")]
    )
    b = _executed(
        [_stream("logits by one-hot matmul: 16.4 ms; vectorised: 1.3 ms, 6,974× faster than the loop\n")]
    )
    assert twice.first_difference(a, b) is None
    c = _executed([_stream("a 27×27 table, 12 steps\n")])
    d = _executed([_stream("a 27×28 table, 12 steps\n")])
    assert twice.first_difference(c, d) is not None  # shapes are not clock readings


def test_measured_rates_and_speedups_are_masked():
    a = _executed(
        [
            _stream(
                "padded:  12,692 useful characters per second,  13.9 steps per second\npacking: 1.45× the characters per second\n"
            )
        ]
    )
    b = _executed(
        [
            _stream(
                "padded:  12,684 useful characters per second,  14.1 steps per second\npacking: 1.52× the characters per second\n"
            )
        ]
    )
    assert twice.first_difference(a, b) is None


def test_outputs_of_cells_tagged_clock_are_not_compared():
    png = {"image/png": "iVBORw0KGgo="}
    a = _executed([nbformat.v4.new_output("display_data", data=png)])
    b = _executed([nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgX="})])
    for nb in (a, b):
        nb.cells[0].metadata["tags"] = ["clock"]
    assert twice.first_difference(a, b) is None
