"""What a page of the HTML course and a lecture deck must show, read from the notebook (pure Python).

``scripts/site_check.py`` opens the pages in headless Chromium and gathers what the browser sees
(``scripts/site_check.js``); the functions here say what each page should show and compare. For the
page of a notebook (``_sources/notebooks/NN_name.ipynb`` in the built site) that is:

- the notebook's title (its first ``#`` heading) as ``<h1>`` and at the start of the tab title;
- every figure the notebook's outputs hold (PNG, SVG, JPEG, GIF) as an ``<img>`` that the browser
  decoded, with a non-zero size and more than one colour;
- every output of a cell that calls ``show_matmul`` as rendered HTML (not escaped text), visible,
  with the same text and its images decoded;
- the outputs of every code cell that has some, the source of every cell tagged ``hide-input`` as a
  collapsed toggle, and nothing but a closed toggle (source and outputs hidden) for every cell
  tagged ``hide-cell`` (a worked solution);
- every equation of the notebook's Markdown (``$...$``, ``$$...$$``), typeset by MathJax, and no raw
  TeX (``$$``, ``\\frac``, ``\\(``) left in the text; from notebook 01 on, at least one equation (the
  course states its mathematics in LaTeX, not only in code).

A deck stepped through with the keyboard must move to a new, visible slide at each key press, and
typeset the notebook's equations; every deck from 01 on must hold equations in its Markdown. Nothing here needs a browser: ``tests/test_site_check.py`` feeds
these functions notebooks and hand-written observations.
"""

from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path

# Which MIME type myst-nb shows for an output, highest priority first (its html-builder order).
MIME_PRIORITY = [
    "application/vnd.jupyter.widget-view+json",
    "application/javascript",
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/gif",
    "image/jpeg",
    "text/markdown",
    "text/latex",
    "text/plain",
]
IMAGE_TYPES = {"image/svg+xml", "image/png", "image/gif", "image/jpeg"}

# An equation in Markdown, as MyST's dollarmath reads it: $$display$$ or $inline$ (no space inside
# the dollars, none escaped).
MATH = re.compile(r"\$\$.+?\$\$|(?<![\\$])\$(?!\s)[^$\n]+?(?<![\s\\])\$(?!\$)", re.S)



class _Text(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(fragment: str) -> str:
    """The text of an HTML fragment with whitespace collapsed (what ``textContent`` gives)."""
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return " ".join("".join(parser.parts).split())


def markdown_text(line: str) -> str:
    """Plain text of a one-line Markdown heading: links, emphasis and code marks removed."""
    line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"[*`]|(?<!\w)_+|_+(?!\w)", "", line)
    return " ".join(line.split())


def markdown_math(text: str) -> list[str]:
    """The equations of a Markdown cell (code blocks and inline code are not math)."""
    text = re.sub(r"```.*?```|~~~.*?~~~", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return MATH.findall(text)


def needs_math(nb_path: Path | str) -> bool:
    """Whether the page (and deck) of a notebook must show equations: every notebook from 01 on."""
    number = Path(nb_path).name[:2]
    return number.isdigit() and int(number) >= 1


class _MarkdownText(html.parser.HTMLParser):
    """The text of a deck's rendered Markdown cells (``jp-RenderedMarkdown``), code left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, inside Markdown, inside code)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag in {"br", "img", "hr", "input", "meta", "link", "wbr"}:
            return
        md, code = self.stack[-1][1:] if self.stack else (False, False)
        md = md or "jp-RenderedMarkdown" in (dict(attrs).get("class") or "").split()
        self.stack.append((tag, md, code or tag in {"code", "pre", "script", "style"}))

    def handle_endtag(self, tag) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][1] and not self.stack[-1][2]:
            self.parts.append(data)


def deck_math(deck_html: str) -> int:
    """How many equations the Markdown of a deck (nbconvert's reveal.js HTML) holds, before MathJax runs."""
    parser = _MarkdownText()
    parser.feed(deck_html)
    parser.close()
    return len(MATH.findall("".join(parser.parts)))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def shown_mime_type(data: dict) -> str | None:
    return next((m for m in MIME_PRIORITY if m in data), None)


def expectations(nb_path: Path) -> dict:
    """What the page of the notebook at ``nb_path`` must show."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    title = None
    math = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        math += len(markdown_math(_source(cell)))
        for line in _source(cell).splitlines():
            if title is None and line.startswith("# "):
                title = markdown_text(line[2:])
    figures = outputs = hidden = 0
    matmul: list[str] = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"remove-cell", "remove_cell"}:
            continue
        if tags & {"hide-input", "hide_input", "hide-cell"}:
            hidden += 1
        if not cell.get("outputs") or tags & {"remove-output", "remove_output", "hide-cell"}:
            continue  # a hide-cell cell's outputs are inside its closed toggle
        outputs += 1
        for out in cell["outputs"]:
            mime = shown_mime_type(out.get("data", {}))
            if mime in IMAGE_TYPES:
                figures += 1
            if mime == "text/html" and "show_matmul(" in _source(cell):
                fragment = out["data"]["text/html"]
                matmul.append(html_text("".join(fragment) if isinstance(fragment, list) else fragment))
    return {"title": title, "figures": figures, "outputs": outputs, "hidden": hidden, "matmul": matmul,
            "math": math, "needs_math": needs_math(nb_path)}



# --------------------------------------------------------------------------------------------
# The checks (pure functions of what the notebook holds and what the browser saw)


def page_problems(seen: dict, want: dict) -> list[str]:
    """Compare what the browser saw on a notebook page with what its notebook holds."""
    problems = []
    if want["title"] is None:
        problems.append("the notebook has no '# title' heading")
    elif seen["h1"] != want["title"]:
        problems.append(f"the page's <h1> is {seen['h1']!r}, the notebook's title is {want['title']!r}")
    elif not seen["title"].startswith(want["title"]):
        problems.append(f"the tab title {seen['title']!r} does not start with {want['title']!r}")
    figures = [i for i in seen["images"] if not i["inHtml"]]
    if len(figures) != want["figures"]:
        problems.append(f"{len(figures)} figures on the page, the notebook's outputs hold {want['figures']}")
    for img in seen["images"]:
        if not img["complete"] or min(img["natural"]) <= 0:
            problems.append(f"image {img['src']!r} did not load")
        elif img["box"]["w"] <= 0 or img["box"]["h"] <= 0:
            problems.append(f"image {img['src']!r} is not displayed")
        elif img["oneColour"]:
            problems.append(f"image {img['src']!r} is blank (one colour)")
    for i, text in enumerate(want["matmul"]):
        match = [h for h in seen["htmlOutputs"] if h["text"] == text]
        if not match:
            problems.append(f"show_matmul output {i + 1} ({text[:60]!r}...) is not on the page as rendered HTML")
            continue
        view = match[0]
        if view["escaped"] or view["box"]["w"] <= 0 or view["box"]["h"] <= 0 or not all(view["images"]):
            problems.append(f"show_matmul output {i + 1} is not displayed (escaped, empty or with a broken image)")
    if seen["outputs"] != want["outputs"]:
        problems.append(f"{seen['outputs']} cells show outputs, {want['outputs']} code cells have outputs")
    if len(seen["hidden"]) != want["hidden"]:
        problems.append(f"{len(seen['hidden'])} hide-input/hide-cell cells on the page, the notebook tags {want['hidden']}")
    for h in seen["hidden"]:
        if not h["toggle"] or h["open"] or h["inputVisible"] or h.get("outputVisible"):
            problems.append(f"a hide-input/hide-cell cell is not a collapsed toggle ({h})")
    return problems + math_problems(seen["math"], want["math"], want.get("needs_math", False))


def math_problems(seen: dict, want: int, required: bool = False) -> list[str]:
    """The notebook's ``want`` equations must all be on the page and typeset, with no raw TeX left.

    ``required``: the page must have equations at all (every notebook from 01 on).
    """
    problems = []
    if required and want == 0:
        problems.append("no equation on the page: from notebook 01 on, each notebook states its "
                        "mathematics in LaTeX ($...$, $$...$$) in its Markdown")
    if seen["count"] != want:
        problems.append(f"{seen['count']} equations on the page, the notebook's Markdown has {want}")
    if seen["typeset"] < seen["count"]:
        problems.append(f"{seen['count'] - seen['typeset']} of {seen['count']} equations were not typeset (MathJax)")
    for text in seen["raw"][:3]:
        problems.append(f"raw TeX in the text: {text!r}")
    return problems


def glossary_problems(seen: dict, want_math: int, ids: dict[str, list[str]]) -> list[str]:
    """The glossary page: its title, its equations typeset, and every link into a notebook's section live.

    ``ids`` maps each notebook page checked (``notebooks/NN_name.html``) to the element ids the
    browser found on it; a link ``notebooks/NN_name.html#id`` must name one of them.
    """
    problems = []
    if seen["h1"] != "Glossary":
        problems.append(f"the glossary's <h1> is {seen['h1']!r}, not 'Glossary'")
    links = [h for h in seen["articleLinks"] if h.startswith("notebooks/")]
    if not links:
        problems.append("the glossary links to no notebook")
    for href in links:
        page, _, anchor = href.partition("#")
        if page not in ids:
            problems.append(f"the glossary links to {href}, a page that was not checked")
        elif not anchor:
            problems.append(f"the glossary links to {page} without a section (#id)")
        elif anchor not in ids[page]:
            problems.append(f"the glossary links to {href}, but {page} has no element with id {anchor!r}")
    return problems + math_problems(seen["math"], want_math)


def deck_problems(steps: list[dict], want_math: int) -> list[str]:
    """A deck stepped through: each step on a new, visible slide; its equations typeset."""
    problems = []
    if not steps:
        return ["the deck did not start (reveal.js)"]
    if steps[0]["total"] < len(steps):
        problems.append(f"the deck has {steps[0]['total']} slides, fewer than the {len(steps)} stepped through")
    for k, step in enumerate(steps):
        if k and step["indices"] == steps[k - 1]["indices"]:
            problems.append(f"key press {k} did not move to another slide (still at {step['indices']})")
        if not step["visible"] or not step["text"]:
            problems.append(f"slide {step['indices']} shows nothing")
    last = steps[-1]
    if want_math and not last["math"]:
        problems.append(f"none of the notebook's {want_math} equations is typeset in the deck")
    for text in last["raw"][:3]:
        problems.append(f"raw TeX in the deck: {text!r}")
    return problems


def deck_math_problems(decks: dict[str, str]) -> list[str]:
    """Each deck from notebook 01 on (``{name: its HTML}``) must hold equations in its Markdown."""
    return [f"the deck {name}.slides.html has no equation in its Markdown"
            for name, page in decks.items() if needs_math(name) and deck_math(page) == 0]


# --------------------------------------------------------------------------------------------
# Heading anchors: what a link ``notebooks/NN_name.ipynb#slug`` (the glossary's) may point to

#: The heading levels that get an anchor (``myst_heading_anchors`` in book/_config.yml).
HEADING_ANCHORS = 3


def heading_slugs(markdown_cells: list[str], levels: int = HEADING_ANCHORS) -> list[str]:
    """The anchors MyST gives the headings of one page (its Markdown cells, in order), as the book builds it.

    MyST's own parser and slug function (GitHub-style: lower case, spaces to ``-``, punctuation
    dropped, inline math left out, ``-1``, ``-2`` ... for repeats) on the parser configuration of
    book/_config.yml, so an anchor computed here is one the build resolves.
    """
    from markdown_it.renderer import RendererHTML
    from markdown_it.tree import SyntaxTreeNode
    from myst_parser.config.main import MdParserConfig
    from myst_parser.mdit_to_docutils.base import compute_unique_slug
    from myst_parser.parsers.mdit import create_md_parser

    md = create_md_parser(MdParserConfig(enable_extensions={"colon_fence", "dollarmath", "amsmath"},
                                         heading_anchors=levels), RendererHTML)
    slugs: list[str] = []
    for text in markdown_cells:
        for node in SyntaxTreeNode(md.parse(text)).walk():
            if node.type == "heading" and int(node.tag[1:]) <= levels:
                slugs.append(compute_unique_slug(node, slugs))
    return slugs
