"""scripts/site_pages.py and site_check.py: what a page must show is read from its notebook; the browser check catches broken pages.

The end-to-end tests drive headless Chromium through Playwright on a tiny hand-written site and a
deck built from a tiny notebook (a few seconds), offline, and are skipped where Chromium is not
installed (`make chromium`); `make site-check` runs the real site.
"""

import struct
import zlib

import nbformat
import pytest

from scripts import annotate_cells, make_slides, site_check, site_pages

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
    worked = nbformat.v4.new_code_cell("# Solution\nprint(2)", metadata={"tags": ["hide-cell"]})
    worked.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    removed = nbformat.v4.new_code_cell("secret", metadata={"tags": ["remove-output"]})
    removed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    silent = nbformat.v4.new_code_cell("x = 1")
    maths = [nbformat.v4.new_markdown_cell(text) for text in (
        "## Two\n\nThe square $x^2$ (and `$not math$` in code).",
        "## Three\n\n$$\\frac{a}{b}$$",
        "## Four",
        "## Five\n\nIt costs 5 dollars, or $ 5.")]
    nb.cells = [md, plot, viz, other_html, solution, worked, removed, silent, *maths]
    annotate_cells.annotate(nb)  # slide breaks for the deck
    nbformat.write(nb, path)
    return path


def test_expectations_come_from_the_notebook(tmp_path):
    want = site_pages.expectations(_notebook(tmp_path / "01_first.ipynb"))
    assert want == {
        "title": "01 — The first model_name notebook",
        "figures": 1,  # the matmul output shows as HTML (myst-nb prefers text/html), not as a figure
        "outputs": 4,  # plot, viz, table, solution; remove-output, hide-cell and silent cells show none
        "hidden": 2,  # the hide-input cell and the hide-cell worked solution
        "matmul": ["A ∈ ℝ2×3 & more"],
        "math": 2,  # $x^2$ and $$\frac{a}{b}$$; not code, not a lone dollar
        "needs_math": True,  # notebook 01: from 01 on, a page must show equations
    }


def test_markdown_math_finds_what_dollarmath_typesets():
    assert site_pages.markdown_math("$a$, $$b$$ and $c_1$") == ["$a$", "$$b$$", "$c_1$"]
    assert site_pages.markdown_math("costs $5 or $ 6, `$x$`\n```\n$y$\n```") == []
    assert site_pages.markdown_math("$$\n\\sum_i x_i\n$$") == ["$$\n\\sum_i x_i\n$$"]


def _seen(**changes):
    seen = {
        "title": "01 — The first model_name notebook — Sequentia",
        "h1": "01 — The first model_name notebook",
        "images": [{"src": "a.png", "complete": True, "natural": [40, 30], "box": {"x": 0, "y": 0, "w": 40, "h": 30},
                    "oneColour": False, "inHtml": False}],
        "outputs": 4,
        "htmlOutputs": [{"text": "A ∈ ℝ2×3 & more", "box": {"x": 0, "y": 0, "w": 300, "h": 40}, "escaped": False,
                         "images": []}],
        "hidden": [{"toggle": True, "open": False, "summary": "Show code cell source", "inputVisible": False,
                    "outputVisible": None},
                   {"toggle": True, "open": False, "summary": "Show code cell content", "inputVisible": False,
                    "outputVisible": False}],
        "math": {"count": 2, "typeset": 2, "raw": [], "box": None},
    }
    seen.update(changes)
    return seen


def test_a_page_that_matches_its_notebook_passes(tmp_path):
    want = site_pages.expectations(_notebook(tmp_path / "01_first.ipynb"))
    assert site_pages.page_problems(_seen(), want) == []


@pytest.mark.parametrize("changes, message", [
    ({"h1": "Something else"}, "the page's <h1> is 'Something else'"),
    ({"images": []}, "0 figures on the page, the notebook's outputs hold 1"),
    ({"images": [dict(_seen()["images"][0], natural=[0, 0])]}, "did not load"),
    ({"images": [dict(_seen()["images"][0], oneColour=True)]}, "is blank"),
    ({"htmlOutputs": []}, "show_matmul output 1"),
    ({"htmlOutputs": [dict(_seen()["htmlOutputs"][0], escaped=True)]}, "is not displayed"),
    ({"outputs": 3}, "3 cells show outputs, 4 code cells have outputs"),
    ({"hidden": [dict(_seen()["hidden"][0], open=True), _seen()["hidden"][1]]}, "not a collapsed toggle"),
    ({"hidden": [_seen()["hidden"][0], dict(_seen()["hidden"][1], outputVisible=True)]}, "not a collapsed toggle"),
    ({"hidden": _seen()["hidden"][:1]}, "1 hide-input/hide-cell cells on the page, the notebook tags 2"),
    ({"math": {"count": 1, "typeset": 1, "raw": [], "box": None}}, "1 equations on the page, the notebook's Markdown has 2"),
    ({"math": {"count": 2, "typeset": 0, "raw": [], "box": None}}, "2 of 2 equations were not typeset"),
    ({"math": {"count": 2, "typeset": 2, "raw": ["$$x$$"], "box": None}}, "raw TeX in the text: '$$x$$'"),
])
def test_each_broken_part_is_reported(tmp_path, changes, message):
    want = site_pages.expectations(_notebook(tmp_path / "01_first.ipynb"))
    problems = site_pages.page_problems(_seen(**changes), want)
    assert any(message in p for p in problems), problems


def _without_math(path):
    nb = nbformat.read(_notebook(path), as_version=4)
    nb.cells = [c for c in nb.cells if c.cell_type == "code" or not site_pages.markdown_math(c.source)]
    nbformat.write(nb, path)
    return path


def test_a_page_from_01_on_without_equations_fails_and_00_may_have_none(tmp_path):
    seen = _seen(math={"count": 0, "typeset": 0, "raw": [], "box": None})
    want = site_pages.expectations(_without_math(tmp_path / "01_first.ipynb"))
    assert want["math"] == 0 and want["needs_math"]
    assert any("no equation on the page" in p for p in site_pages.page_problems(seen, want))
    want = site_pages.expectations(_without_math(tmp_path / "00_start.ipynb"))
    assert not want["needs_math"]
    assert not any("equation" in p for p in site_pages.page_problems(seen, want))


DECK = """<html><head><script>MathJax = {{tex: {{inlineMath: [['$', '$']]}}}}</script></head><body>
<div class="reveal"><div class="slides"><section><section>
<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput"><h2>One</h2>
<p>{markdown}</p><p><code>$not math$</code></p></div>
<div class="jp-OutputArea-output"><pre>$ 5 and $6$ printed by a cell</pre></div>
</section></section></div></div></body></html>"""


def test_deck_math_counts_the_equations_of_a_decks_markdown_only():
    assert site_pages.deck_math(DECK.format(markdown="The cost $x^2$ and<br>$$\\frac{a}{b}$$")) == 2
    assert site_pages.deck_math(DECK.format(markdown="No mathematics, 5 dollars.")) == 0
    decks = {"00_start": DECK.format(markdown="none"), "01_first": DECK.format(markdown="none"),
             "02_second": DECK.format(markdown="$p$")}
    assert site_pages.deck_math_problems(decks) == ["the deck 01_first.slides.html has no equation in its Markdown"]


def test_deck_math_reads_a_real_deck(slides):
    assert site_pages.deck_math((slides / "01_first.slides.html").read_text(encoding="utf-8")) == 2


def _glossary(**changes):
    seen = {"h1": "Glossary", "articleLinks": ["notebooks/01_first.html#two", "notebooks/01_first.html#three"],
            "math": {"count": 1, "typeset": 1, "raw": [], "box": None}}
    seen.update(changes)
    return seen


def test_a_glossary_whose_links_find_their_sections_passes():
    ids = {"notebooks/01_first.html": ["two", "three", "other"]}
    assert site_pages.glossary_problems(_glossary(), 1, ids) == []


@pytest.mark.parametrize("changes, message", [
    ({"h1": "Terms"}, "the glossary's <h1> is 'Terms'"),
    ({"articleLinks": []}, "the glossary links to no notebook"),
    ({"articleLinks": ["notebooks/01_first.html#gone"]}, "notebooks/01_first.html has no element with id 'gone'"),
    ({"articleLinks": ["notebooks/01_first.html"]}, "without a section"),
    ({"articleLinks": ["notebooks/09_none.html#two"]}, "a page that was not checked"),
    ({"math": {"count": 1, "typeset": 0, "raw": [], "box": None}}, "1 of 1 equations were not typeset"),
])
def test_each_broken_part_of_the_glossary_is_reported(changes, message):
    problems = site_pages.glossary_problems(_glossary(**changes), 1, {"notebooks/01_first.html": ["two", "three"]})
    assert any(message in p for p in problems), problems


def _step(row, col, **changes):
    step = {"indices": {"h": row, "v": col, "f": None}, "total": 9, "text": "Two", "visible": True,
            "math": 2, "raw": []}
    step.update(changes)
    return step


def test_a_deck_that_steps_passes_and_one_that_sticks_fails():
    good = [_step(0, 0), _step(1, 0), _step(2, 0)]
    assert site_pages.deck_problems(good, want_math=2) == []
    assert site_pages.deck_problems([], 2) == ["the deck did not start (reveal.js)"]
    stuck = site_pages.deck_problems([_step(0, 0), _step(0, 0)], 0)
    assert any("key press 1 did not move" in p for p in stuck)
    assert any("shows nothing" in p for p in site_pages.deck_problems([_step(0, 0, text="")], 0))
    untypeset = site_pages.deck_problems([_step(0, 0, math=0, raw=["\\frac{a}{b}"])], 2)
    assert any("none of the notebook's 2 equations" in p for p in untypeset)
    assert any("raw TeX in the deck" in p for p in untypeset)


def test_only_the_local_server_is_local():
    base = "http://127.0.0.1:8123"
    assert site_check.is_local(base + "/notebooks/a.html", base)
    assert site_check.is_local("data:image/png;base64,xx", base)
    assert not site_check.is_local("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js", base)
    assert not site_check.is_local("http://127.0.0.1:8123.evil.example/x", base)
    assert site_check.NOT_LOCAL.match("https://unpkg.com/thebe@0.8.2/lib/index.js")
    assert not site_check.NOT_LOCAL.match(base + "/_static/mathjax/tex-chtml.js")


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


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>01 — The first model_name notebook</title>
<script>window.MathJax = {"options": {"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}}</script>
<script defer src="../_static/mathjax/tex-chtml.js"></script>{extra}</head>
<body><nav class="bd-docs-nav"><a href="../intro.html">Intro</a><a href="01_first.html">01</a></nav>
<article class="bd-article"><h1>01 — The <em>first</em> <code>model_name</code> notebook<a href="#">#</a></h1>
<div class="cell"><div class="cell_input"><pre>plt.show()</pre></div>
<div class="cell_output"><img src="../_images/plot.png" alt="plot"></div></div>
<div class="cell"><div class="cell_input"><pre>show_matmul(2, 3, 3, 1)</pre></div>
<div class="cell_output"><div class="output text_html">{matmul}</div></div></div>
<div class="cell"><div class="cell_output"><div class="output text_html"><table></table></div></div></div>
<div class="cell tag_hide-input"><details class="hide above-input"><summary>Show code cell source</summary>
<div class="cell_input"><pre>answer = 1</pre></div></details><div class="cell_output"><pre>1</pre></div></div>
<div class="cell tag_hide-cell"><details class="hide above-input"><summary>Show code cell content</summary>
<div class="cell_input"><pre>print(2)</pre></div><div class="cell_output"><pre>2</pre></div></details></div>
<h2>Two</h2><p>The square <span class="math notranslate nohighlight">\\(x^2\\)</span> (and <code>$not math$</code>).</p>
<h2>Three</h2><div class="math notranslate nohighlight">\\[\\frac{a}{b}\\]</div>
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
    (root / "_static").mkdir()
    (root / "_static" / "mathjax").symlink_to(make_slides.assets()["mathjax"])  # what the book build copies
    _page(root, MATMUL_HTML)
    return root


def _page(root, matmul, extra=""):
    page = PAGE.replace("{matmul}", matmul).replace("{extra}", extra)
    (root / "notebooks" / "01_first.html").write_text(page, encoding="utf-8")


@pytest.fixture()
def slides(tmp_path):
    out = tmp_path / "slides"
    make_slides.build([_notebook(tmp_path / "01_first.ipynb")], out)
    return out


@needs_chromium
def test_a_good_site_and_deck_pass_offline_and_leave_screenshots(site, slides, tmp_path, capsys):
    out = tmp_path / "shots"
    status = site_check.check_site(site, [tmp_path / "01_first.ipynb"], out, CHROMIUM, slides=slides)
    printed = capsys.readouterr().out
    assert status == 0, printed
    shots = ["index.png", "01_first.png", "01_first.figure.png", "01_first.matmul.png", "01_first.math.png"]
    shots += [f"01_first.deck.{k}.png" for k in range(site_check.DECK_STEPS + 1)] + ["01_first.deck.math.png"]
    for name in shots:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert "2 typeset equations" in printed
    assert "3/3 pages and decks passed" in printed
    assert "stepped through [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0)]" in printed


GLOSSARY = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Glossary</title>
<script>window.MathJax = {"options": {"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}}</script>
<script defer src="_static/mathjax/tex-chtml.js"></script></head><body><article class="bd-article">
<h1>Glossary</h1><p><strong>Square</strong> — <span class="math notranslate nohighlight">\\(x^2\\)</span>.
<a href="notebooks/01_first.html#{anchor}">01</a></p></article></body></html>"""


@needs_chromium
@pytest.mark.parametrize("anchor, ok", [("two", True), ("gone", False)])
def test_the_glossary_page_is_checked_against_the_notebook_pages(site, tmp_path, capsys, anchor, ok):
    page = site / "notebooks" / "01_first.html"
    page.write_text(page.read_text(encoding="utf-8").replace("<h2>Two</h2>", '<h2 id="two">Two</h2>'), encoding="utf-8")
    (site / "glossary.html").write_text(GLOSSARY.replace("{anchor}", anchor), encoding="utf-8")
    (site / "_sources" / "glossary.md").write_text("# Glossary\n\n**Square** — $x^2$. [01](notebooks/01_first.ipynb#two)\n")
    status = site_check.check_site(site, [tmp_path / "01_first.ipynb"], tmp_path / "shots", CHROMIUM)
    out = capsys.readouterr().out
    assert (status == 0) == ok, out
    assert ("ok   glossary.html: 'Glossary': 1 links to notebook sections, 1 typeset equations" in out) == ok, out
    assert ("notebooks/01_first.html has no element with id 'gone'" in out) != ok, out


@needs_chromium
def test_a_broken_site_fails_on_every_count(site, tmp_path, capsys):
    (site / "_images" / "plot.png").write_bytes(_png([(255, 255, 255)]))
    # escaped HTML, a script from a CDN (blocked), and no MathJax (so raw TeX stays)
    _page(site, MATMUL_HTML.replace("<", "&lt;"), extra='<script src="https://cdn.example.org/lib.js"></script>')
    (site / "_static" / "mathjax").unlink()
    notebooks = [tmp_path / "01_first.ipynb", tmp_path / "02_missing.ipynb"]
    assert site_check.check_site(site, notebooks, tmp_path / "shots", CHROMIUM, slides=tmp_path / "none") == 1
    out = capsys.readouterr().out
    assert "is blank (one colour)" in out
    assert "show_matmul output 1" in out
    assert "no page for notebooks/02_missing.ipynb" in out
    assert "the landing page does not link notebooks/02_missing.html" in out
    assert "needed a request to another host (blocked): https://cdn.example.org/lib.js" in out
    assert "HTTP 404 for /_static/mathjax/tex-chtml.js" in out
    assert "2 of 2 equations were not typeset" in out
    assert "raw TeX in the text" in out
    assert "no deck 01_first.slides.html" in out
