#!/usr/bin/env python
"""Open the built HTML course in headless Chromium and check what a reader sees (``make site-check``).

The site in ``--html`` (default ``_build/html``) is served on 127.0.0.1 by a local HTTP server;
Chromium runs headless with a fresh profile, is driven over the DevTools protocol through a pipe
(no extra Python package), and cannot resolve any host but the loopback one. For the landing page
and every notebook page it checks:

- the page loads (HTTP 200) without a JavaScript exception or a failed request to the site itself;
- the landing page links to every notebook, and the sidebar lists them all;
- a notebook page shows the notebook's title (its first ``#`` heading) as ``<h1>`` and in the tab;
- every figure the notebook's outputs hold (PNG, SVG, JPEG, GIF) is an ``<img>`` on the page that
  the browser decoded, with a non-zero size and more than one colour;
- every output of a cell that calls ``show_matmul`` appears as rendered HTML (not escaped text),
  visible, with the same text and its images decoded;
- every code cell that has outputs shows them, and every cell tagged ``hide-input`` shows its source
  as a collapsed toggle;
- the previous/next links chain the notebooks in order.

What the page should contain is read from the notebook the page was built from
(``_sources/notebooks/NN_name.ipynb`` in the site). The list of notebooks that must have a page is
the tracked ``notebooks/NN_*.ipynb`` (or the paths given). Screenshots go to ``--out`` (default
``_build/site-check``): ``NAME.png`` (the top of the page as a reader first sees it) and, where the
page has them, ``NAME.figure.png`` (the first figure) and ``NAME.matmul.png`` (the first matrix
diagram). Exit status 1 if any check fails, 2 if the site or Chromium is missing.
"""

from __future__ import annotations

import argparse
import base64
import functools
import html.parser
import http.server
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--force-device-scale-factor=1",
    # Nothing but the local server: every other host name fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--remote-debugging-pipe",
]
VIEWPORT = {"width": 1280, "height": 900}

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


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def shown_mime_type(data: dict) -> str | None:
    return next((m for m in MIME_PRIORITY if m in data), None)


def expectations(nb_path: Path) -> dict:
    """What the page of the notebook at ``nb_path`` must show."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    title = None
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in _source(cell).splitlines():
                if line.startswith("# "):
                    title = markdown_text(line[2:])
                    break
        if title:
            break
    figures = outputs = hidden = 0
    matmul: list[str] = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"remove-cell", "remove_cell"}:
            continue
        if tags & {"hide-input", "hide_input"}:
            hidden += 1
        if not cell.get("outputs") or tags & {"remove-output", "remove_output"}:
            continue
        outputs += 1
        for out in cell["outputs"]:
            mime = shown_mime_type(out.get("data", {}))
            if mime in IMAGE_TYPES:
                figures += 1
            if mime == "text/html" and "show_matmul(" in _source(cell):
                fragment = out["data"]["text/html"]
                matmul.append(html_text("".join(fragment) if isinstance(fragment, list) else fragment))
    return {"title": title, "figures": figures, "outputs": outputs, "hidden": hidden, "matmul": matmul}


# --------------------------------------------------------------------------------------------
# A local web server and Chromium over the DevTools protocol


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # the browser hung up (e.g. on a 404): not our problem
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class Chromium:
    """Headless Chromium driven through ``--remote-debugging-pipe`` (fd 3 in, fd 4 out)."""

    def __init__(self, executable: str, profile: Path, log: Path) -> None:
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def wire_pipes() -> None:  # in the child: its fd 3 reads our commands, fd 4 writes replies
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            preexec_fn=wire_pipes,
            close_fds=False,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = bytearray()
        self._id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def _read(self, deadline: float) -> dict:
        while True:
            end = self._buf.find(b"\0")
            if end >= 0:
                msg = bytes(self._buf[:end])
                del self._buf[: end + 1]
                return json.loads(msg)
            ready, _, _ = select.select([self._r], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited (status {self.proc.poll()}); see {self._log.name}")
            self._buf += chunk

    def call(self, method: str, timeout: float = 60, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self._w, data) :]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if ev.get("method") == method:
                    return ev
            self.events.append(self._read(deadline))

    def open_page(self) -> None:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", deviceScaleFactor=1, mobile=False, **VIEWPORT)

    def goto(self, url: str) -> dict:
        self.events.clear()
        nav = self.call("Page.navigate", url=url)
        if nav.get("errorText"):
            raise RuntimeError(f"{url}: {nav['errorText']}")
        self.wait_for("Page.loadEventFired")
        return nav

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_until(self, condition: str, timeout: float = 15) -> bool:
        """Poll a JavaScript condition (across navigations, such as a redirect) until it holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(condition):
                    return True
            except RuntimeError:  # the page is between two documents
                pass
            time.sleep(0.2)
        return False

    def screenshot(self, path: Path, clip: dict | None = None) -> None:
        params = {"format": "png"}
        if clip:
            params.update(clip=dict(clip, scale=1), captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", **params)["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._r)
        os.close(self._w)
        self._log.close()


# What the browser sees on a page, gathered in one script once its images are decoded.
PAGE_SCRIPT = r"""
(async () => {
  const article = document.querySelector('article.bd-article') || document.body;
  const imgs = [...article.querySelectorAll('img')];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
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
    hidden: [...article.querySelectorAll('.cell.tag_hide-input')].map(c => {
      const d = c.querySelector('details'), inp = c.querySelector('.cell_input');
      return {toggle: !!d, open: d ? d.open : null, summary: d ? d.querySelector('summary').textContent.trim() : null,
              inputVisible: inp ? inp.checkVisibility() : null}; }),
    prev: href('.prev-next-area a.left-prev'),
    next: href('.prev-next-area a.right-next'),
    articleLinks: [...article.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    navLinks: [...document.querySelectorAll('nav.bd-docs-nav a[href]')].map(a => a.getAttribute('href')),
  };
})()
"""


# --------------------------------------------------------------------------------------------
# The checks


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
        problems.append(f"{len(seen['hidden'])} hide-input cells on the page, the notebook tags {want['hidden']}")
    for h in seen["hidden"]:
        if not h["toggle"] or h["open"] or h["inputVisible"]:
            problems.append(f"a hide-input cell is not a collapsed toggle ({h})")
    return problems


# A harmless exception on every Jupyter Book 1.0.4 page with Sphinx 7.4: sphinx-thebe's configuration
# script (`const THEBE_JS_URL = ...`) is included twice, so the second copy throws. Thebe (live code)
# is not used by this course; nothing else on the page depends on that script.
KNOWN_EXCEPTIONS = ("Identifier 'THEBE_JS_URL' has already been declared",)


def browser_problems(events: list[dict], base: str) -> list[str]:
    """JavaScript exceptions and failed requests to the local site (other hosts are unreachable by design)."""
    problems = []
    requests = {}
    for ev in events:
        method, params = ev.get("method"), ev.get("params", {})
        if method == "Network.requestWillBeSent":
            requests[params["requestId"]] = params["request"]["url"]
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            if not any(known in str(text) for known in KNOWN_EXCEPTIONS):
                problems.append(f"JavaScript exception: {str(text).splitlines()[0]}")
        elif method == "Network.responseReceived":
            resp = params["response"]
            if resp["url"].startswith(base) and resp["status"] >= 400 and not resp["url"].endswith("/favicon.ico"):
                problems.append(f"HTTP {resp['status']} for {resp['url'][len(base):]}")
        elif method == "Network.loadingFailed":
            url = requests.get(params["requestId"], "")
            if url.startswith(base) and not params.get("canceled"):
                problems.append(f"failed to load {url[len(base):]}: {params.get('errorText')}")
    return problems


def external_requests(events: list[dict], base: str) -> list[str]:
    urls = {
        ev["params"]["request"]["url"].split("?")[0]
        for ev in events
        if ev.get("method") == "Network.requestWillBeSent"
    }
    return sorted(u for u in urls if u.startswith("http") and not u.startswith(base))


def find_chromium(explicit: str | None) -> str | None:
    for name in [explicit] if explicit else ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]:
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


def check_site(html_root: Path, notebooks: list[Path], out: Path, chromium: str) -> int:
    out.mkdir(parents=True, exist_ok=True)
    names = [nb.stem for nb in notebooks]
    failures = 0
    server, base = serve(html_root)
    with tempfile.TemporaryDirectory(prefix="sequentia-chromium-") as profile:
        browser = Chromium(chromium, Path(profile), out / "chromium.log")
        try:
            browser.call("Browser.getVersion")
            browser.open_page()
            report: list[str] = []
            external: set[str] = set()

            def record(ok: bool, page: str, text: str, problems: list[str]) -> None:
                nonlocal failures
                failures += not ok
                line = f"{'ok  ' if ok else 'FAIL'} {page}: {text}"
                print(line, flush=True)
                report.append(line)
                for p in problems:
                    print(f"       - {p}", flush=True)
                    report.append(f"       - {p}")

            # The landing page: index.html redirects to the introduction, which links every notebook.
            problems = []
            try:
                browser.goto(f"{base}/index.html")
                if not browser.wait_until("location.pathname.endsWith('/intro.html') && document.readyState === 'complete'"):
                    problems.append("index.html does not lead to the introduction (intro.html)")
                seen = browser.evaluate(PAGE_SCRIPT)
                browser.screenshot(out / "index.png")
                problems += browser_problems(browser.events, base)
                external.update(external_requests(browser.events, base))
                for name in names:
                    if not any(h.split("#")[0] == f"notebooks/{name}.html" for h in seen["articleLinks"]):
                        problems.append(f"the landing page does not link notebooks/{name}.html")
                    if not any(h.split("#")[0] == f"notebooks/{name}.html" for h in seen["navLinks"]):
                        problems.append(f"the sidebar does not list notebooks/{name}.html")
                text = f"{seen['h1']!r}, links to {len(names)} notebooks; screenshot {out / 'index.png'}"
            except Exception as exc:  # report and go on with the other pages
                problems.append(f"{type(exc).__name__}: {exc}")
                text = "did not load"
            record(not problems, "index.html", text, problems)

            for k, name in enumerate(names):
                page = f"notebooks/{name}.html"
                problems = []
                source = html_root / "_sources" / "notebooks" / f"{name}.ipynb"
                if not (html_root / page).is_file() or not source.is_file():
                    record(False, page, "missing", [f"no page for notebooks/{name}.ipynb in {html_root}"])
                    continue
                want = expectations(source)
                try:
                    browser.goto(f"{base}/{page}")
                    seen = browser.evaluate(PAGE_SCRIPT)
                    browser.screenshot(out / f"{name}.png")
                    figures = [i for i in seen["images"] if not i["inHtml"]]
                    for suffix, boxes in (
                        ("figure", [i["box"] for i in figures]),
                        ("matmul", [h["box"] for h in seen["htmlOutputs"] if h["text"] in want["matmul"]]),
                    ):
                        if boxes and boxes[0]["w"] > 0:
                            b = boxes[0]
                            clip = {"x": max(0, b["x"] - 16), "y": max(0, b["y"] - 16),
                                    "width": b["w"] + 32, "height": min(b["h"], 4000) + 32}
                            browser.screenshot(out / f"{name}.{suffix}.png", clip=clip)
                    problems += page_problems(seen, want)
                    problems += browser_problems(browser.events, base)
                    external.update(external_requests(browser.events, base))
                    prev_want = "../intro.html" if k == 0 else f"{names[k - 1]}.html"
                    if seen["prev"] != prev_want:
                        problems.append(f"'previous' links to {seen['prev']!r}, expected {prev_want!r}")
                    if k + 1 < len(names) and seen["next"] != f"{names[k + 1]}.html":
                        problems.append(f"'next' links to {seen['next']!r}, expected {names[k + 1]}.html")
                    text = (
                        f"{seen['h1']!r}: {len(figures)} figures, {len(want['matmul'])} show_matmul views, "
                        f"{seen['outputs']} cell outputs, {len(seen['hidden'])} collapsed solutions; "
                        f"screenshot {out / (name + '.png')}"
                    )
                except Exception as exc:
                    problems.append(f"{type(exc).__name__}: {exc}")
                    text = "did not load"
                record(not problems, page, text, problems)

            if external:
                note = "note: offline by design, requests to other hosts were blocked: " + ", ".join(sorted(external))
                print(note)
                report.append(note)
            (out / "report.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
        finally:
            browser.close()
            server.shutdown()
    total = len(names) + 1
    print(f"site check: {total - failures}/{total} pages passed (report and screenshots in {out})")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks that must have a page "
                        "(default: the tracked notebooks/NN_*.ipynb)")
    parser.add_argument("--html", type=Path, default=REPO_ROOT / "_build" / "html", help="the built site")
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
    return check_site(args.html, notebooks, args.out, chromium)


if __name__ == "__main__":
    sys.exit(main())
