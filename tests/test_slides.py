"""scripts/make_slides.py: decks with the slide breaks of the annotations, and nothing loaded from a CDN."""

import html.parser

import nbformat

from scripts import annotate_cells, make_slides
from utils import REPO_ROOT


class _Refs(html.parser.HTMLParser):
    """Every URL the page loads by itself (scripts, style sheets, images, module imports)."""

    def __init__(self):
        super().__init__()
        self.loads, self.sections, self.depth, self.top = [], 0, 0, 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.loads.append(a["src"])
        if tag == "link" and a.get("href"):
            self.loads.append(a["href"])
        if tag == "section":
            self.top += self.depth == 0
            self.depth += 1
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and ("import " in data and "http" in data):
            self.loads.append(data.strip()[:80])


def _refs(path):
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _deck_notebook(path):
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [md("# 01 — Title\n\nSee [the next one](02_next.ipynb)."), code("1 + 1"),
                md("## Math\n\n$$\\frac{a}{b}$$ and $x^2$"), md("### Detail"), md("## The end")]
    annotate_cells.annotate(nb)
    nbformat.write(nb, path)
    return path


def test_a_deck_loads_only_its_own_files(tmp_path):
    nb = _deck_notebook(tmp_path / "01_title.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 02")]), tmp_path / "02_next.ipynb")
    out = tmp_path / "slides"
    make_slides.build([nb, tmp_path / "02_next.ipynb"], out)
    deck = out / "01_title.slides.html"
    refs = _refs(deck)
    assert refs.loads, "the deck loads nothing?"
    for url in refs.loads:
        assert not url.startswith(("http:", "https:", "//")) and "http" not in url, f"loaded from the network: {url}"
        if not url.startswith("data:"):
            assert (out / url).is_file(), f"{url} is not in the deck's folder"
    assert refs.top == 3  # the title, "## Math" and "## The end"; "### Detail" is a sub-slide of "## Math"
    text = deck.read_text(encoding="utf-8")
    assert 'href="02_next.slides.html"' in text and "$$\\frac{a}{b}$$" in text
    assert (out / "index.html").read_text().count(".slides.html") == 2


def test_the_assets_come_from_the_pinned_packages():
    found = make_slides.assets()
    assert (found["reveal.js"] / "dist" / "reveal.js").read_text()[:200].count("reveal.js 5.2.0") == 1
    assert (found["mathjax"] / "tex-chtml.js").is_file()
    assert (found["mathjax"] / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    assert "white" == make_slides.slides_config().SlidesExporter.reveal_theme  # "simple" imports web fonts
    theme = (found["reveal.js"] / "dist" / "theme" / "white.css").read_text()
    assert "http" not in theme.split("*/", 1)[-1][:2000]


def test_a_course_deck_is_offline(tmp_path):
    nb = REPO_ROOT / "notebooks" / "00_start_here.ipynb"
    make_slides.build([nb], tmp_path)
    for url in _refs(tmp_path / "00_start_here.slides.html").loads:
        assert not url.startswith(("http:", "https:", "//")), f"loaded from the network: {url}"
