"""scripts/site_check.py: what a page must show is read from its notebook; the browser check catches broken pages.

The end-to-end tests drive headless Chromium on a tiny hand-written site (a few seconds) and are
skipped where Chromium is not installed (`make chromium`); `make site-check` runs the real site.
"""

import importlib.util
import struct
import sys
import zlib

import nbformat
import pytest

from utils import REPO_ROOT

spec = importlib.util.spec_from_file_location("site_check", REPO_ROOT / "scripts" / "site_check.py")
site_check = sys.modules["site_check"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(site_check)

MATMUL_HTML = '<div class="sequentia-matmul"><p><b>A</b> ∈ ℝ<sup>2×3</sup> &amp; more</p></div>'


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    md = nbformat.v4.new_markdown_cell("# 01 — The *first* `model_name` [notebook](x.ipynb)\n\nText.")
    plot = nbformat.v4.new_code_cell("plt.show()")
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})]
    viz = nbformat.v4.new_code_cell("show_matmul(2, 3, 3, 1)")
    viz.outputs = [nbformat.v4.new_output("execute_result", data={"text/html": MATMUL_HTML, "image/png": "x",
                                                                  "text/plain": "MatmulDiagram()"},
                                          execution_count=2)]
    other_html = nbformat.v4.new_code_cell("df")
    other_html.outputs = [nbformat.v4.new_output("execute_result", data={"text/html": "<table></table>"},
                                                 execution_count=3)]
    solution = nbformat.v4.new_code_cell("answer = 1\nprint(answer)", metadata={"tags": ["hide-input"]})
    solution.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    removed = nbformat.v4.new_code_cell("secret", metadata={"tags": ["remove-output"]})
    removed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    silent = nbformat.v4.new_code_cell("x = 1")
    nb.cells = [md, plot, viz, other_html, solution, removed, silent]
    nbformat.write(nb, path)
    return path


def test_expectations_come_from_the_notebook(tmp_path):
    want = site_check.expectations(_notebook(tmp_path / "01_first.ipynb"))
    assert want == {
        "title": "01 — The first model_name notebook",
        "figures": 1,  # the matmul output shows as HTML (myst-nb prefers text/html), not as a figure
        "outputs": 4,  # plot, viz, table, solution; remove-output and silent cells show none
        "hidden": 1,
        "matmul": ["A ∈ ℝ2×3 & more"],
    }


def _seen(**changes):
    seen = {
        "title": "01 — The first model_name notebook — Sequentia",
        "h1": "01 — The first model_name notebook",
        "images": [{"src": "a.png", "complete": True, "natural": [40, 30], "box": {"x": 0, "y": 0, "w": 40, "h": 30},
                    "oneColour": False, "inHtml": False}],
        "outputs": 4,
        "htmlOutputs": [{"text": "A ∈ ℝ2×3 & more", "box": {"x": 0, "y": 0, "w": 300, "h": 40}, "escaped": False,
                         "images": []}],
        "hidden": [{"toggle": True, "open": False, "summary": "Show code cell source", "inputVisible": False}],
    }
    seen.update(changes)
    return seen


def test_a_page_that_matches_its_notebook_passes(tmp_path):
    want = site_check.expectations(_notebook(tmp_path / "01_first.ipynb"))
    assert site_check.page_problems(_seen(), want) == []


@pytest.mark.parametrize("changes, message", [
    ({"h1": "Something else"}, "the page's <h1> is 'Something else'"),
    ({"images": []}, "0 figures on the page, the notebook's outputs hold 1"),
    ({"images": [dict(_seen()["images"][0], natural=[0, 0])]}, "did not load"),
    ({"images": [dict(_seen()["images"][0], oneColour=True)]}, "is blank"),
    ({"htmlOutputs": []}, "show_matmul output 1"),
    ({"htmlOutputs": [dict(_seen()["htmlOutputs"][0], escaped=True)]}, "is not displayed"),
    ({"outputs": 3}, "3 cells show outputs, 4 code cells have outputs"),
    ({"hidden": [dict(_seen()["hidden"][0], open=True)]}, "not a collapsed toggle"),
])
def test_each_broken_part_is_reported(tmp_path, changes, message):
    want = site_check.expectations(_notebook(tmp_path / "01_first.ipynb"))
    problems = site_check.page_problems(_seen(**changes), want)
    assert any(message in p for p in problems), problems


# --- end to end, in headless Chromium ---------------------------------------------------------

CHROMIUM = site_check.find_chromium(None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make chromium)")


def _png(colours, width=24, height=12):
    """A PNG whose rows cycle through ``colours`` (RGB triples)."""
    raw = b"".join(b"\0" + bytes(colours[y % len(colours)]) * width for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>01 — The first model_name notebook</title></head>
<body><nav class="bd-docs-nav"><a href="../intro.html">Intro</a><a href="01_first.html">01</a></nav>
<article class="bd-article"><h1>01 — The <em>first</em> <code>model_name</code> notebook<a href="#">#</a></h1>
<div class="cell"><div class="cell_input"><pre>plt.show()</pre></div>
<div class="cell_output"><img src="../_images/plot.png" alt="plot"></div></div>
<div class="cell"><div class="cell_input"><pre>show_matmul(2, 3, 3, 1)</pre></div>
<div class="cell_output"><div class="output text_html">{matmul}</div></div></div>
<div class="cell"><div class="cell_output"><div class="output text_html"><table></table></div></div></div>
<div class="cell tag_hide-input"><details class="hide above-input"><summary>Show code cell source</summary>
<div class="cell_input"><pre>answer = 1</pre></div></details><div class="cell_output"><pre>1</pre></div></div>
</article><div class="prev-next-area"><a class="left-prev" href="../intro.html">previous</a></div></body></html>
"""


@pytest.fixture()
def site(tmp_path):
    root = tmp_path / "html"
    (root / "notebooks").mkdir(parents=True)
    (root / "_images").mkdir()
    (root / "_sources" / "notebooks").mkdir(parents=True)
    _notebook(root / "_sources" / "notebooks" / "01_first.ipynb")
    (root / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=intro.html" />')
    (root / "intro.html").write_text(
        '<title>Course</title><nav class="bd-docs-nav"><a href="notebooks/01_first.html">01</a></nav>'
        '<article class="bd-article"><h1>Course</h1><a href="notebooks/01_first.html">01</a></article>')
    (root / "_images" / "plot.png").write_bytes(_png([(255, 255, 255), (31, 119, 180)]))
    (root / "notebooks" / "01_first.html").write_text(PAGE.replace("{matmul}", MATMUL_HTML), encoding="utf-8")
    return root


@needs_chromium
def test_a_good_site_passes_and_leaves_screenshots(site, tmp_path, capsys):
    out = tmp_path / "shots"
    assert site_check.check_site(site, [tmp_path / "01_first.ipynb"], out, CHROMIUM) == 0, capsys.readouterr().out
    for name in ("index.png", "01_first.png", "01_first.figure.png", "01_first.matmul.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert "2/2 pages passed" in capsys.readouterr().out


@needs_chromium
def test_a_blank_figure_escaped_html_and_a_missing_page_fail(site, tmp_path, capsys):
    (site / "_images" / "plot.png").write_bytes(_png([(255, 255, 255)]))
    page = site / "notebooks" / "01_first.html"
    page.write_text(PAGE.replace("{matmul}", MATMUL_HTML.replace("<", "&lt;")), encoding="utf-8")
    notebooks = [tmp_path / "01_first.ipynb", tmp_path / "02_missing.ipynb"]
    assert site_check.check_site(site, notebooks, tmp_path / "shots", CHROMIUM) == 1
    out = capsys.readouterr().out
    assert "is blank (one colour)" in out
    assert "show_matmul output 1" in out
    assert "no page for notebooks/02_missing.ipynb" in out
    assert "the landing page does not link notebooks/02_missing.html" in out
