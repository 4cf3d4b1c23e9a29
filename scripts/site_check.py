#!/usr/bin/env python
"""Open the built HTML course and a lecture deck in headless Chromium and check what a reader sees.

``make site-check`` runs it. The site in ``--html`` (default ``_build/html``) and the decks in
``--slides`` (default ``_build/slides``) are served on 127.0.0.1 by a local HTTP server, and the
system Chromium is driven by Playwright with every request to any other host blocked (routed to an
abort), so the check sees what an offline reader sees; a page that asks for anything outside the
site fails. The landing page and every notebook page must load (HTTP 200) without a JavaScript
exception, a failed request to the site itself or a request to another host; the landing page must
link to every notebook and the sidebar list them all; the previous/next links must chain the
notebooks in order.

This file is the browser's side: the server, the Chromium session, the screenshots and the report.
What a notebook's page must show (title, figures, ``show_matmul`` views, outputs, collapsed
solutions, typeset equations) is read from the notebook and compared with what the browser saw by
``scripts/site_pages.py``; what the browser sees is gathered by the JavaScript of
``scripts/site_check.js``, read when the check starts.

Then every notebook must have a deck (``NN_name.slides.html``), every deck from 01 on must hold
equations, and one deck (``--deck``, default the notebook with the most equations) is opened and stepped through with the keyboard as a presenter
would: reveal.js must start, each key press must move to a new slide that shows something, and the
deck's equations must be typeset.

Where the site has a glossary (``glossary.html``, from book/glossary.md), it must load like the other
pages, typeset its equations, and every link into a notebook's section must find an element with that
id on the notebook's page.

The notebook a page was built from is ``_sources/notebooks/NN_name.ipynb`` in the site. The list of notebooks that must have a page is
the tracked ``notebooks/NN_*.ipynb`` (or the paths given). Screenshots go to ``--out`` (default
``_build/site-check``): ``NAME.png`` (the top of the page as a reader first sees it) and, where the
page has them, ``NAME.figure.png`` (the first figure), ``NAME.matmul.png`` (the first matrix
diagram) and ``NAME.math.png`` (the first equation); ``NAME.deck.K.png`` for each slide the deck
check visits, and ``NAME.deck.math.png`` for the deck's first slide with an equation. Exit status 1
if any check fails, 2 if the site or Chromium is missing.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import utils
from scripts.site_pages import (
    deck_math,
    deck_math_problems,
    deck_problems,
    expectations,
    glossary_problems,
    markdown_math,
    page_problems,
)
from utils import REPO_ROOT

VIEWPORT = {"width": 1280, "height": 900}
# Playwright blocks other hosts per request; the resolver rule is a second fence for anything that
# would bypass routing (a service worker, a prefetch).
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--hide-scrollbars", "--mute-audio",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
DECK_STEPS = 4  # key presses in the deck check (DECK_STEPS + 1 screenshots)

#: The JavaScript that gathers what the browser sees (its entry points: pageReport, deckReport, gotoMathSlide).
JS_FILE = Path(__file__).resolve().with_suffix(".js")


def page_function(entry: str) -> str:
    """A function for Playwright's ``page.evaluate``: the code of ``site_check.js``, then a call of ``entry``."""
    return f"async () => {{\n{JS_FILE.read_text(encoding='utf-8')}\nreturn await {entry}();\n}}"


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

    page_js = page_function("pageReport")
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
                seen = tab.page.evaluate(page_js)
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

            wants, ids = {}, {}
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
                    seen = tab.page.evaluate(page_js)
                    tab.shot(out / f"{name}.png")
                    figures = [i for i in seen["images"] if not i["inHtml"]]
                    matmul = [h["box"] for h in seen["htmlOutputs"] if h["text"] in want["matmul"]]
                    for suffix, box in (("figure", figures[0]["box"] if figures else None),
                                        ("matmul", matmul[0] if matmul else None),
                                        ("math", seen["math"]["box"])):
                        if box:
                            tab.shot(out / f"{name}.{suffix}.png", box)
                    problems += page_problems(seen, want)
                    ids[page] = seen["ids"]
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

            if (html_root / "glossary.html").is_file():
                check_glossary(tab, base, html_root, ids, out, record)
            if slides is not None:
                check_decks(tab, slides, names, wants, deck, out, record)
        finally:
            context.close()
            browser.close()
    (out / "report.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"site check: {checked - failures}/{checked} pages and decks passed (report and screenshots in {out})")
    return 1 if failures else 0


def check_glossary(tab: Tab, base: str, html_root: Path, ids: dict, out: Path, record) -> None:
    """The glossary page (book/glossary.md): it loads, typesets its equations, and each link finds its section."""
    source = html_root / "_sources" / "glossary.md"
    want_math = len(markdown_math(source.read_text(encoding="utf-8"))) if source.is_file() else 0
    problems, text = [], "did not load"
    try:
        tab.goto(base, "glossary.html")
        seen = tab.page.evaluate(page_function("pageReport"))
        tab.shot(out / "glossary.png")
        problems += glossary_problems(seen, want_math, ids)
        links = [h for h in seen["articleLinks"] if h.startswith("notebooks/")]
        text = (f"{seen['h1']!r}: {len(links)} links to notebook sections, {seen['math']['typeset']} typeset "
                f"equations; screenshot {out / 'glossary.png'}")
    except Exception as exc:
        problems.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    record("glossary.html", text, tab.report() + problems)


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
    # Every deck from 01 on holds equations (counted in its Markdown; the stepped deck's are typeset below).
    decks = {n: (slides / f"{n}.slides.html").read_text(encoding="utf-8") for n in names}
    counts = ", ".join(f"{n[:2]}: {deck_math(page)}" for n, page in decks.items())
    problems, steps, text = deck_math_problems(decks), [], "did not start"
    deck_js, goto_math_js = page_function("deckReport"), page_function("gotoMathSlide")
    with serve(slides) as base:
        try:
            tab.goto(base, f"{deck}.slides.html")
            tab.page.wait_for_function("typeof Reveal !== 'undefined' && Reveal.isReady()", timeout=15_000)
            for k in range(DECK_STEPS + 1):
                if k:
                    tab.page.keyboard.press("Space")  # reveal.js: the next slide, down a column first
                    tab.page.wait_for_timeout(150)
                steps.append(tab.page.evaluate(deck_js))
                tab.shot(out / f"{deck}.deck.{k}.png")
            if tab.page.evaluate(goto_math_js):  # and the first slide with an equation
                tab.page.wait_for_timeout(150)
                tab.shot(out / f"{deck}.deck.math.png")
            text = (f"{len(names)} decks (equations {counts}); {deck}: {steps[0]['total']} slides, stepped through "
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

    notebooks = args.notebooks or utils.notebooks()
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
