import json

import nbformat
import pytest

from utils.results import MIME_TYPE, markdown_table, publish, read_course_results, read_results


def test_publish_displays_markdown_and_json(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    out = publish("03_mlp", [{"model": "MLP", "params": 11897, "train_seconds": 61.234, "dev": 2.10789, "test": 2.1}])
    assert out is None  # a cell ending with publish(...) shows the table only
    (bundle, raw), = shown
    assert raw is True
    rows = bundle[MIME_TYPE]["rows"]
    assert bundle[MIME_TYPE]["notebook"] == "03_mlp"
    assert rows[0] == {"model": "MLP", "params": 11897, "train_seconds": 61.2, "dev": 2.1079, "test": 2.1}
    assert "| MLP | 11,897 | 61.2 | 2.1079 | 2.1000 |" in bundle["text/markdown"]


def test_rows_are_validated():
    with pytest.raises(ValueError, match=r"needs \['dev'\]"):
        publish("x", [{"model": "m", "params": 1}])
    with pytest.raises(ValueError, match="not a finite number"):
        publish("x", [{"model": "m", "params": 1, "dev": float("nan")}])
    with pytest.raises(ValueError, match="at least one"):
        publish("x", [])


def test_read_results_round_trip(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("publish(...)")
    payload = {"notebook": "01_bigram_counting", "rows": [{"model": "bigram", "params": 729, "train_seconds": None, "dev": 2.45, "test": 2.46}]}
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": "|...|", MIME_TYPE: payload})]
    nb.cells = [nbformat.v4.new_markdown_cell("# x"), cell]
    path = tmp_path / "01.ipynb"
    nbformat.write(nb, path)
    assert read_results(path) == [{**payload["rows"][0], "notebook": "01_bigram_counting"}]


def test_markdown_table_dashes_for_missing_values():
    table = markdown_table([{"model": "m", "params": 5, "train_seconds": None, "dev": 2.0, "test": None}])
    assert table.splitlines()[-1] == "| m | 5 | – | 2.0000 | – |"


def _published(tmp_path, name, models):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("publish(...)")
    rows = [{"model": m, "params": 1, "train_seconds": 1.0, "dev": d, "test": d} for m, d in models]
    cell.outputs = [nbformat.v4.new_output("display_data", data={MIME_TYPE: {"notebook": name, "rows": rows}})]
    nb.cells = [cell]
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def test_read_course_results_keeps_each_model_from_its_first_notebook(tmp_path):
    first = _published(tmp_path, "01_a", [("bigram", 2.45)])
    later = _published(tmp_path, "03_b", [("bigram", 9.99), ("mlp", 2.09)])
    rows = read_course_results([first, tmp_path / "02_missing.ipynb", later])
    assert [(r["model"], r["notebook"], r["dev"]) for r in rows] == [("bigram", "01_a", 2.45), ("mlp", "03_b", 2.09)]


def test_read_results_accepts_a_payload_stored_as_a_json_string_and_an_empty_notebook(tmp_path):
    payload = {"notebook": "02_x", "rows": [{"model": "m", "params": 1, "dev": 2.0, "test": None}]}
    output = {"output_type": "display_data", "metadata": {}, "data": {MIME_TYPE: json.dumps(payload)}}
    path = tmp_path / "02_x.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "", "outputs": [output]}]}))
    assert read_results(path) == [{"model": "m", "params": 1, "dev": 2.0, "test": None, "notebook": "02_x"}]
    empty = tmp_path / "00_empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), empty)
    assert read_results(empty) == []


def test_publish_can_show_fewer_columns_but_keeps_every_field(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    publish("03_mlp", [{"model": "MLP", "params": 11897, "train_seconds": 61.234, "dev": 2.10789, "test": 2.1}],
            columns=("model", "params", "dev", "test"))
    (bundle,) = shown
    assert bundle["text/markdown"].splitlines()[0] == "| model | parameters | dev | test |"
    assert "| MLP | 11,897 | 2.1079 | 2.1000 |" in bundle["text/markdown"]
    assert bundle[MIME_TYPE]["rows"][0]["train_seconds"] == 61.2
