#!/usr/bin/env python
"""Open the built HTML course and a lecture deck in headless Chromium and check what a reader sees.

``make site-check`` runs it. The site in ``--html`` (default ``_build/html``) and the decks in
``--slides`` (default ``_build/slides``) are served on 127.0.0.1 by a local HTTP server, and the
system Chromium is driven by Playwright with every request to any other host blocked (routed to an
abort), so the check sees what an offline reader sees; a page that asks for anything outside the
site fails. For the landing page and every notebook page it checks:

- the page loads (HTTP 200) without a JavaScript exception, a failed request to the site itself or
  a request to another host;
- the landing page links to every notebook, and the sidebar lists them all;
- a notebook page shows the notebook's title (its first ``#`` heading) as ``<h1>`` and in the tab;
- every figure the notebook's outputs hold (PNG, SVG, JPEG, GIF) is an ``<img>`` on the page that
  the browser decoded, with a non-zero size and more than one colour;
- every output of a cell that calls ``show_matmul`` appears as rendered HTML (not escaped text),
  visible, with the same text and its images decoded;
- every code cell that has outputs shows them, every cell tagged ``hide-input`` shows its source
  as a collapsed toggle, and every cell tagged ``hide-cell`` (a worked solution) shows nothing but
  a closed toggle, its source and its outputs both hidden;
- every equation of the notebook's Markdown (``$...$``, ``$$...$$``) is on the page and typeset by
  MathJax (served by the site itself), and no raw TeX (``$$``, ``\\frac``, ``\\(``) is left in the text;
- the previous/next links chain the notebooks in order.

Then every notebook must have a deck (``NN_name.slides.html``), and one deck (``--deck``, default the
notebook with the most equations) is opened and stepped through with the keyboard as a presenter
would: reveal.js must start, each key press must move to a new slide that shows something, and the
deck's equations must be typeset.

What a page should contain is read from the notebook the page was built from
(``_sources/notebooks/NN_name.ipynb`` in the site). The list of notebooks that must have a page is
the tracked ``notebooks/NN_*.ipynb`` (or the paths given). Screenshots go to ``--out`` (default
``_build/site-check``): ``NAME.png`` (the top of the page as a reader first sees it) and, where the
page has them, ``NAME.figure.png`` (the first figure), ``NAME.matmul.png`` (the first matrix
diagram) and ``NAME.math.png`` (the first equation); ``NAME.deck.K.png`` for each slide the deck
check visits, and ``NAME.deck.math.png`` for the deck's first slide with an equation. Exit status 1 if any check fails, 2 if the site or Chromium is missing.
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import json
import re
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[1]

VIEWPORT = {"width": 1280, "height": 900}
# Playwright blocks other hosts per request; the resolver rule is a second fence for anything that
# would bypass routing (a service worker, a prefetch).
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--hide-scrollbars", "--mute-audio",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
DECK_STEPS = 4  # key presses in the deck check (DECK_STEPS + 1 screenshots)

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


# --------------------------------------------------------------------------------------------
# What a page should show, read from its notebook


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
# What the browser sees, gathered by one script once images, fonts and equations are ready

# The text of ROOT outside code, outputs and typeset math, and the raw TeX found in it.
_RAW_TEX = r"""
const rawTeX = root => {
  const skip = 'pre, code, script, style, mjx-container, .cell_output, .jp-OutputArea, .highlight';
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT,
    {acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const found = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const m = n.textContent.match(/\$\$|\\[()\[\]]|\\(frac|sum|log|exp|mathbf|mathrm|text|left|right|cdot|sigma|odot|top)\b|\$[^$\s][^$]*\$/);
    if (m) found.push(n.textContent.trim().slice(0, 80));
  }
  return found;
};
const mathReady = async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) { /* reported as untypeset equations */ }
  }
  await document.fonts.ready;
};
"""

PAGE_SCRIPT = "async () => {" + _RAW_TEX + r"""
  const article = document.querySelector('article.bd-article') || document.body;
  const imgs = [...article.querySelectorAll('img')];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  await mathReady();
  const oneColour = img => {
    try {
      const w = Math.min(img.naturalWidth, 600), h = Math.min(img.naturalHeight, 600);
      if (!w || !h) return null;
      const c = document.createElement('canvas'); c.width = w; c.height = h;
      const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0, w, h);
      const d = ctx.getImageData(0, 0, w, h).data;
      for (let k = 4; k < d.length; k += 4)
        if (d[k] !== d[0] || d[k+1] !== d[1] || d[k+2] !== d[2] || d[k+3] !== d[3]) return false;
      return true;
    } catch (e) { return null; }
  };
  const box = e => { const r = e.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; };
  const h1 = article.querySelector('h1');
  const href = sel => { const a = document.querySelector(sel); return a ? a.getAttribute('href') : null; };
  const maths = [...article.querySelectorAll('span.math, div.math')];
  const firstMath = article.querySelector('div.math') || maths[0];
  return {
    title: document.title,
    h1: h1 ? h1.textContent.replace(/#\s*$/, '').replace(/\s+/g, ' ').trim() : null,
    images: imgs.map(i => ({src: i.getAttribute('src').slice(0, 60), complete: i.complete,
      natural: [i.naturalWidth, i.naturalHeight], box: box(i), oneColour: oneColour(i),
      inHtml: !!i.closest('.text_html')})),
    outputs: article.querySelectorAll('.cell > .cell_output').length,
    htmlOutputs: [...article.querySelectorAll('.cell_output .text_html')].map(e => ({
      text: e.textContent.replace(/\s+/g, ' ').trim(), box: box(e),
      escaped: /<(div|svg|img|table)\b/i.test(e.textContent),
      images: [...e.querySelectorAll('img')].map(i => i.naturalWidth > 0 && i.naturalHeight > 0)})),
    hidden: [...article.querySelectorAll('.cell.tag_hide-input, .cell.tag_hide-cell')].map(c => {
      const d = c.querySelector('details'), inp = c.querySelector('.cell_input'), out = c.querySelector('.cell_output');
      return {toggle: !!d, open: d ? d.open : null, summary: d ? d.querySelector('summary').textContent.trim() : null,
              inputVisible: inp ? inp.checkVisibility() : null,
              outputVisible: c.classList.contains('tag_hide-cell') && out ? out.checkVisibility() : null}; }),
    math: {count: maths.length, typeset: maths.filter(m => m.querySelector('mjx-container')).length,
           raw: rawTeX(article), box: firstMath ? box(firstMath.closest('p, div.math, li') || firstMath) : null},
    prev: href('.prev-next-area a.left-prev'),
    next: href('.prev-next-area a.right-next'),
    articleLinks: [...article.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    navLinks: [...document.querySelectorAll('nav.bd-docs-nav a[href]')].map(a => a.getAttribute('href')),
  };
}"""

DECK_SCRIPT = "async () => {" + _RAW_TEX + r"""
  await mathReady();
  const slide = Reveal.getCurrentSlide(), r = slide.getBoundingClientRect();
  return {indices: Reveal.getIndices(), total: Reveal.getTotalSlides(),
          text: slide.textContent.replace(/\s+/g, ' ').trim().slice(0, 60),
          visible: r.width > 0 && r.height > 0 && slide.checkVisibility(),
          math: document.querySelectorAll('.slides mjx-container').length,
          raw: rawTeX(document.querySelector('.slides'))};
}"""


GOTO_MATH_SLIDE = r"""() => {
  const math = document.querySelector('.slides section > section mjx-container');
  if (!math) return false;
  const i = Reveal.getIndices(math.closest('.slides section > section'));
  Reveal.slide(i.h, i.v);
  return true;
}"""


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


NOT_LOCAL = re.compile(r"^(?!(http://127\.0\.0\.1:\d+/|data:|blob:|about:))")


def is_local(url: str, base: str) -> bool:
    """A request the site may make: to the local server, or with no network at all (data:, blob:)."""
    parts = urlsplit(url)
    return url.startswith(base + "/") or url == base or parts.scheme in ("data", "blob", "about")


# A harmless exception on every Jupyter Book 1.0.4 page with Sphinx 7.4: sphinx-thebe's configuration
# script (`const THEBE_JS_URL = ...`) is included twice, so the second copy throws. Thebe (live code)
# is not used by this course; nothing else on the page depends on that script.
KNOWN_EXCEPTIONS = ("Identifier 'THEBE_JS_URL' has already been declared",)


# --------------------------------------------------------------------------------------------
# A local web server, and the browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # the browser hung up (e.g. on a 404): not our problem
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(root: Path):
    """Serve ``root`` on 127.0.0.1 (a free port) for the duration of the ``with``; yields the base URL."""
    server = _Server(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Tab:
    """One browser page whose requests to other hosts are blocked, and what went wrong on it."""

    def __init__(self, context) -> None:
        self.page = context.new_page()
        self.base = ""
        self.problems: list[str] = []
        self.blocked: set[str] = set()
        # Only requests that leave the machine are intercepted (the local ones load at full speed).
        self.page.route(NOT_LOCAL, self._route)
        self.page.on("pageerror", self._exception)
        self.page.on("response", self._response)
        self.page.on("requestfailed", self._failed)

    def _route(self, route, request) -> None:
        self.blocked.add(request.url.split("?")[0])
        route.abort("blockedbyclient")

    def _exception(self, error) -> None:
        text = str(error)
        if not any(known in text for known in KNOWN_EXCEPTIONS):
            self.problems.append(f"JavaScript exception: {text.splitlines()[0] if text else error!r}")

    def _response(self, response) -> None:
        url = response.url
        if url.startswith(self.base) and response.status >= 400 and not url.endswith("/favicon.ico"):
            self.problems.append(f"HTTP {response.status} for {url[len(self.base):]}")

    def _failed(self, request) -> None:
        url = request.url
        if url.startswith(self.base) and "ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"failed to load {url[len(self.base):]}: {request.failure}")
        elif not is_local(url, self.base):
            self.blocked.add(url.split("?")[0])

    def goto(self, base: str, path: str) -> None:
        """Open ``path`` of the site at ``base``, forgetting what happened on the previous page."""
        self.base, self.problems, self.blocked = base, [], set()
        self.page.goto(f"{base}/{path}", wait_until="load")

    def report(self) -> list[str]:
        """The page's problems, a request to another host among them."""
        return self.problems + [f"needed a request to another host (blocked): {u}" for u in sorted(self.blocked)]

    def shot(self, path: Path, box: dict | None = None, pad: int = 16) -> None:
        """A screenshot of the viewport, or of ``box`` (page coordinates) with a margin.

        The box is scrolled to 200 px below the top of the window, clear of the page's sticky header,
        and cut from the viewport (a full-page capture costs about a second a shot).
        """
        if box is None:
            self.page.screenshot(path=path)
        elif box["w"] > 0 and box["h"] > 0:
            scroll_y = self.page.evaluate("y => { window.scrollTo(0, y); return window.scrollY; }",
                                          max(0, box["y"] - 200))
            top = max(0, box["y"] - scroll_y - pad)
            clip = {"x": max(0, box["x"] - pad), "y": top,
                    "width": min(box["w"] + 2 * pad, VIEWPORT["width"] - max(0, box["x"] - pad)),
                    "height": min(box["h"] + 2 * pad, VIEWPORT["height"] - top)}
            self.page.screenshot(path=path, clip=clip)


def find_chromium(explicit: str | None) -> str | None:
    for name in [explicit] if explicit else ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]:
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


# --------------------------------------------------------------------------------------------
# The run


def check_site(html_root: Path, notebooks: list[Path], out: Path, chromium: str,
               slides: Path | None = None, deck: str | None = None) -> int:
    """Check every page (and, with ``slides``, the decks); print and write a report; 1 if anything failed."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    names = [nb.stem for nb in notebooks]
    report: list[str] = []
    checked = failures = 0

    def record(page: str, text: str, problems: list[str]) -> None:
        nonlocal checked, failures
        checked += 1
        failures += bool(problems)
        lines = [f"{'FAIL' if problems else 'ok  '} {page}: {text}"] + [f"       - {p}" for p in problems]
        print("\n".join(lines), flush=True)
        report.extend(lines)

    with sync_playwright() as pw, serve(html_root) as base:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, service_workers="block")
        tab = Tab(context)
        try:
            # The landing page: index.html redirects to the introduction, which links every notebook.
            problems, text = [], "did not load"
            try:
                tab.goto(base, "index.html")
                tab.page.wait_for_function(
                    "location.pathname.endsWith('/intro.html') && document.readyState === 'complete'", timeout=15_000)
                seen = tab.page.evaluate(PAGE_SCRIPT)
                tab.shot(out / "index.png")
                for name in names:
                    if not any(h.split("#")[0] == f"notebooks/{name}.html" for h in seen["articleLinks"]):
                        problems.append(f"the landing page does not link notebooks/{name}.html")
                    if not any(h.split("#")[0] == f"notebooks/{name}.html" for h in seen["navLinks"]):
                        problems.append(f"the sidebar does not list notebooks/{name}.html")
                text = f"{seen['h1']!r}, links to {len(names)} notebooks; screenshot {out / 'index.png'}"
            except Exception as exc:  # report and go on with the other pages
                problems.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
            record("index.html", text, tab.report() + problems)

            wants = {}
            for k, name in enumerate(names):
                page = f"notebooks/{name}.html"
                source = html_root / "_sources" / "notebooks" / f"{name}.ipynb"
                if not (html_root / page).is_file() or not source.is_file():
                    record(page, "missing", [f"no page for notebooks/{name}.ipynb in {html_root}"])
                    continue
                want = wants[name] = expectations(source)
                problems, text = [], "did not load"
                try:
                    tab.goto(base, page)
                    seen = tab.page.evaluate(PAGE_SCRIPT)
                    tab.shot(out / f"{name}.png")
                    figures = [i for i in seen["images"] if not i["inHtml"]]
                    matmul = [h["box"] for h in seen["htmlOutputs"] if h["text"] in want["matmul"]]
                    for suffix, box in (("figure", figures[0]["box"] if figures else None),
                                        ("matmul", matmul[0] if matmul else None),
                                        ("math", seen["math"]["box"])):
                        if box:
                            tab.shot(out / f"{name}.{suffix}.png", box)
                    problems += page_problems(seen, want)
                    prev_want = "../intro.html" if k == 0 else f"{names[k - 1]}.html"
                    if seen["prev"] != prev_want:
                        problems.append(f"'previous' links to {seen['prev']!r}, expected {prev_want!r}")
                    if k + 1 < len(names) and seen["next"] != f"{names[k + 1]}.html":
                        problems.append(f"'next' links to {seen['next']!r}, expected {names[k + 1]}.html")
                    text = (f"{seen['h1']!r}: {len(figures)} figures, {len(want['matmul'])} show_matmul views, "
                            f"{seen['outputs']} cell outputs, {len(seen['hidden'])} collapsed solutions, "
                            f"{seen['math']['typeset']} typeset equations; screenshot {out / (name + '.png')}")
                except Exception as exc:
                    problems.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
                record(page, text, tab.report() + problems)

            if slides is not None:
                check_decks(tab, slides, names, wants, deck, out, record)
        finally:
            context.close()
            browser.close()
    (out / "report.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"site check: {checked - failures}/{checked} pages and decks passed (report and screenshots in {out})")
    return 1 if failures else 0


def check_decks(tab: Tab, slides: Path, names: list[str], wants: dict, deck: str | None, out: Path,
                record) -> None:
    """Every notebook has a deck; one deck is stepped through with the keyboard and screenshotted."""
    missing = [f"no deck {n}.slides.html in {slides} (make slides)" for n in names
               if not (slides / f"{n}.slides.html").is_file()]
    if deck is None:  # the deck with the most equations, else the first
        deck = max(names, key=lambda n: wants.get(n, {}).get("math", 0)) if names else None
    if deck is None or missing:
        record("slides", "missing", missing or ["no notebooks, no decks"])
        return
    problems, steps, text = [], [], "did not start"
    with serve(slides) as base:
        try:
            tab.goto(base, f"{deck}.slides.html")
            tab.page.wait_for_function("typeof Reveal !== 'undefined' && Reveal.isReady()", timeout=15_000)
            for k in range(DECK_STEPS + 1):
                if k:
                    tab.page.keyboard.press("Space")  # reveal.js: the next slide, down a column first
                    tab.page.wait_for_timeout(150)
                steps.append(tab.page.evaluate(DECK_SCRIPT))
                tab.shot(out / f"{deck}.deck.{k}.png")
            if tab.page.evaluate(GOTO_MATH_SLIDE):  # and the first slide with an equation
                tab.page.wait_for_timeout(150)
                tab.shot(out / f"{deck}.deck.math.png")
            text = (f"{len(names)} decks; {deck}: {steps[0]['total']} slides, stepped through "
                    f"{[tuple(s['indices'].values())[:2] for s in steps]}, {steps[-1]['math']} typeset equations; "
                    f"screenshots {out / (deck + '.deck.*.png')}")
        except Exception as exc:
            problems.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        want_math = wants.get(deck, {}).get("math", 0)
        record(f"slides/{deck}.slides.html", text, tab.report() + problems + deck_problems(steps, want_math))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks that must have a page "
                        "(default: the tracked notebooks/NN_*.ipynb)")
    parser.add_argument("--html", type=Path, default=REPO_ROOT / "_build" / "html", help="the built site")
    parser.add_argument("--slides", type=Path, default=REPO_ROOT / "_build" / "slides", help="the decks")
    parser.add_argument("--deck", help="the deck to step through (NN_name; default: the one with most equations)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "_build" / "site-check", help="screenshots")
    parser.add_argument("--chromium", help="the Chromium executable (default: found on PATH)")
    args = parser.parse_args(argv)

    notebooks = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not (args.html / "index.html").is_file():
        print(f"site check: {args.html}/index.html does not exist: build the course first (make course).")
        return 2
    chromium = find_chromium(args.chromium)
    if not chromium:
        print("site check: Chromium not found (make chromium installs it where it can).")
        return 2
    if not notebooks:
        print("site check: no notebooks to check.")
        return 2
    return check_site(args.html, notebooks, args.out, chromium, slides=args.slides, deck=args.deck)


if __name__ == "__main__":
    sys.exit(main())
