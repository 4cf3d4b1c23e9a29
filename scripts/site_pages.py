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
  TeX (``$$``, ``\\frac``, ``\\(``) left in the text.

A deck stepped through with the keyboard must move to a new, visible slide at each key press, and
typeset the notebook's equations. Nothing here needs a browser: ``tests/test_site_check.py`` feeds
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
            "math": math}



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
    return problems + math_problems(seen["math"], want["math"])


def math_problems(seen: dict, want: int) -> list[str]:
    """The notebook's ``want`` equations must all be on the page and typeset, with no raw TeX left."""
    problems = []
    if seen["count"] != want:
        problems.append(f"{seen['count']} equations on the page, the notebook's Markdown has {want}")
    if seen["typeset"] < seen["count"]:
        problems.append(f"{seen['count'] - seen['typeset']} of {seen['count']} equations were not typeset (MathJax)")
    for text in seen["raw"][:3]:
        problems.append(f"raw TeX in the text: {text!r}")
    return problems


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
