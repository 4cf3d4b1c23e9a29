"""Tests for utils.matmul_viz.show_matmul: self-contained, deterministic, escaped, validated."""

import base64
import re
import xml.etree.ElementTree as ET

import pytest
import torch

from utils.matmul_viz import MAX_DIM, MatmulDiagram, show_matmul

SVG_NS = "{http://www.w3.org/2000/svg}"


def _svg_from_html(page: str) -> str:
    b64 = re.search(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page).group(1)
    return base64.b64decode(b64).decode("utf-8")


def _fills(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [r.get("fill") for r in root.iter(f"{SVG_NS}rect")]


def _texts(svg):
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]


def test_returns_displayable_self_contained_html():
    d = show_matmul(5, 27, 27, 27, highlight_row=3, highlight_col=13)
    assert isinstance(d, MatmulDiagram)
    page = d._repr_html_()
    assert page == d.html
    assert page.startswith('<div class="sequentia-matmul"><img src="data:image/svg+xml;base64,')
    for banned in ("<script", "<svg", "<style", "http://", "https://", " id=", "onload", "<iframe"):
        assert banned not in page
    svg = _svg_from_html(page)
    assert svg == d.svg
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag == f"{SVG_NS}svg"
    assert not list(root.iter(f"{SVG_NS}script"))
    assert not list(root.iter(f"{SVG_NS}image"))
    width, height = int(root.get("width")), int(root.get("height"))
    assert f'width="{width}" height="{height}"' in page
    assert 400 < width < 1200 and 300 < height < 1000
    assert len(page) < 60_000  # a 27×27 picture stays small


def test_deterministic_and_plain_text_repr():
    a = show_matmul(5, 27, 27, 27, highlight_row=1, highlight_col=2, onehot_indices=[0, 5, 13, 13, 1])
    b = show_matmul(5, 27, 27, 27, highlight_row=1, highlight_col=2, onehot_indices=[0, 5, 13, 13, 1])
    assert a.html == b.html and a == b
    assert repr(a) == "MatmulDiagram(A ℝ5×27 @ B ℝ27×27 → A @ B ℝ5×27; row 1; column 2; A one-hot)"
    assert "0x" not in repr(a)


def test_shapes_shown_in_svg_and_caption():
    d = show_matmul(5, 27, 27, 1, label_A="xenc", label_B="W", label_out="xenc @ W")
    texts = _texts(d.svg)
    assert "∈ ℝ5×27" in texts and "∈ ℝ27×1" in texts and "∈ ℝ5×1" in texts
    assert {"xenc", "W", "xenc @ W"} <= set(texts)
    assert "ℝ<sup>5×27</sup>" in d.html and "ℝ<sup>27×1</sup>" in d.html and "ℝ<sup>5×1</sup>" in d.html


def test_highlights_row_column_and_cell():
    plain = show_matmul(5, 27, 27, 27)
    d = show_matmul(5, 27, 27, 27, highlight_row=3, highlight_col=13)
    assert "#9e9ac8" not in _fills(plain.svg)
    fills = _fills(d.svg)
    assert fills.count("#9e9ac8") == 1  # the output cell [3, 13]
    assert fills.count("#fdd9b5") == 27 + 26  # row 3 of A and the rest of row 3 of the output
    assert fills.count("#c6dbef") == 27 + 4  # column 13 of B and the rest of column 13 of the output
    assert "Row 3 of <b>A</b> (orange) times column 13 of <b>B</b> (blue) gives cell [3, 13]" in d.html
    row_only = show_matmul(5, 27, 27, 27, highlight_row=0)
    assert "makes row 0 of <b>A @ B</b>" in row_only.html
    col_only = show_matmul(5, 27, 27, 27, highlight_col=26)
    assert "makes column 26 of <b>A @ B</b>" in col_only.html


def test_onehot_positions_marked_and_picked_row_explained():
    kw = dict(highlight_row=3, highlight_col=13)
    plain = show_matmul(5, 27, 27, 27, **kw)
    d = show_matmul(5, 27, 27, 27, **kw, onehot_indices=torch.tensor([0, 5, 13, 9, 1]))
    fills = [r.get("fill") for r in ET.fromstring(d.svg).iter(f"{SVG_NS}rect")]
    assert fills.count("#252525") == 5  # one black cell per one-hot row
    # index ticks already print "1" several times: count only what the one-hot rows add
    assert _texts(d.svg).count("1") - _texts(plain.svg).count("1") == 5
    assert fills.count("#9e9ac8") == 2  # the output cell, and B[9, 13], the only term that survives
    assert "Row 3 has its 1 at position 9" in d.html
    assert "is just <b>B</b>[9, 13]" in d.html
    assert 'stroke="#238b45"' in d.svg  # the picked row of B outlined in green


def test_labels_and_title_are_escaped():
    evil = '<img src=x onerror="alert(1)">&'
    d = show_matmul(2, 3, 3, 2, label_A=evil, label_B="B<", label_out="out&", title="<b>t</b>")
    assert evil not in d.html and "<b>t</b>." not in d.html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;" in d.html
    assert "&lt;b&gt;t&lt;/b&gt;" in d.html
    texts = _texts(d.svg)  # parsed back, the SVG text is the raw label
    assert evil in texts and "B<" in texts and "out&" in texts and "<b>t</b>" in texts


def test_values_printed_in_cells():
    # A @ B = [[19, 22], [43, 50]]: no product value is also an entry of A or B
    A = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    B = torch.tensor([[5.0, 6.0], [7.0, 8.0]])
    texts = _texts(show_matmul(2, 2, 2, 2, highlight_row=1, highlight_col=0, A=A, B=B).svg)
    for value in ("1.00", "2.00", "3.00", "4.00", "5.00", "6.00", "7.00", "8.00"):  # A and B
        assert texts.count(value) == 1, value
    for value in ("19.00", "22.00", "43.00", "50.00"):  # the computed A @ B
        assert texts.count(value) == 1, value
    with pytest.raises(ValueError, match=r"A has shape \(2, 2\) but the diagram's A is 3×2"):
        show_matmul(3, 2, 2, 2, A=A)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(rows_A=0), r"rows_A must be a positive integer, got 0"),
        (dict(cols_B=-2), r"cols_B must be a positive integer, got -2"),
        (dict(rows_A=2.5), r"rows_A must be a positive integer, got 2.5"),
        (dict(rows_A=True), r"rows_A must be a positive integer, got True"),
        (dict(rows_A=MAX_DIM + 1), r"too large to draw"),
        (dict(rows_B=26), r"columns of A \(27\) must match the rows of B \(26\)"),
        (dict(highlight_row=5), r"highlight_row=5 is out of range: A has 5 rows, so it must be between 0 and 4"),
        (dict(highlight_row=-1), r"highlight_row=-1 is out of range"),
        (dict(highlight_col=27), r"highlight_col=27 is out of range: B has 27 columns"),
        (dict(highlight_col=1.5), r"highlight_col must be an integer index or None"),
        (dict(onehot_indices=[0, 1, 2]), r"onehot_indices has 3 entries but A has 5 rows"),
        (dict(onehot_indices=[0, 1, 2, 3, 27]), r"onehot_indices\[4\]=27 is out of range: A has 27 columns"),
        (dict(onehot_indices=[0, 1, 2, 3, "a"]), r"onehot_indices\[4\] must be an integer"),
        (dict(onehot_indices="abcde"), r"not a string"),
        (dict(onehot_indices=[[0]] * 5), r"flat sequence"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    args = dict(rows_A=5, cols_A=27, rows_B=27, cols_B=27)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        show_matmul(**args)


def test_tensor_indices_accepted():
    d = show_matmul(5, 27, 27, 27, highlight_row=torch.tensor(2), highlight_col=torch.tensor(4))
    assert "cell [2, 4]" in d.html


def test_large_matrices_keep_every_index_labelled():
    d = show_matmul(5, 27, 27, 27)
    texts = _texts(d.svg)
    for i in range(27):
        assert texts.count(str(i)) >= 2  # B's rows and columns at least
    root = ET.fromstring(d.svg)
    sizes = {float(t.get("font-size")) for t in root.iter(f"{SVG_NS}text")}
    assert min(sizes) >= 8
