#!/usr/bin/env python
"""Turn every notebook into a reveal.js deck that works offline (``make slides``).

Each ``notebooks/NN_name.ipynb`` becomes ``OUT/NN_name.slides.html`` (default ``_build/slides``)
with nbconvert's slides exporter and the stored outputs (nothing is executed). Slide breaks come from
the cells' ``slideshow`` metadata (``scripts/annotate_cells.py``): a slide per ``#``/``##`` heading,
a vertical sub-slide per ``###`` heading, exercise, worked solution or new step after a result. A
slide taller than the screen scrolls.

Nothing is fetched from a CDN: reveal.js 5.2.0 (shipped in the pinned ``sphinx-revealjs`` package)
and MathJax 3.2.2 (shipped in ``sphinx-mathjax-offline``) are copied into ``OUT/reveal.js/`` and
``OUT/mathjax/``, and the template (``scripts/templates/sequentia_slides``) loads nothing else, so
the folder can be copied to a lecture-hall machine and opened from disk. ``OUT/index.html`` links
every deck, and a link from one notebook to another leads to its deck. Keys in a deck: arrows or space to move, ``s`` for the speaker view, ``f`` full screen,
``Esc`` the overview.

    python scripts/make_slides.py [--out DIR] [NOTEBOOK.ipynb ...]   # default: notebooks/NN_*.ipynb
"""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
import sys
from pathlib import Path

from nbconvert import SlidesExporter
from traitlets.config import Config

from scripts._cli import notebooks_to_folder
from utils import REPO_ROOT

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"make_slides: the package {name!r} is not installed (make setup).")
    return Path(spec.origin).parent


def assets() -> dict[str, Path]:
    """The folders copied next to the decks, by the name the decks use for them."""
    return {
        "reveal.js": _package_dir("sphinx_revealjs") / "_static" / "revealjs",
        "mathjax": _package_dir("sphinx-mathjax-offline") / "static" / "mathjax",
    }


def slides_config() -> Config:
    """The exporter's configuration: the offline template and the local reveal.js and MathJax."""
    c = Config()
    c.TemplateExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.SlidesExporter.template_name = "sequentia_slides"
    c.SlidesExporter.reveal_url_prefix = "reveal.js"
    c.SlidesExporter.mathjax_url = "mathjax/tex-chtml.js"
    c.SlidesExporter.reveal_theme = "white"  # its fonts are local ("simple" imports web fonts)
    c.SlidesExporter.reveal_transition = "none"
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.reveal_scroll = True
    c.SlidesExporter.reveal_width = "1280"  # the course's code lines are long: a wide 16:10 deck
    c.SlidesExporter.reveal_height = "800"
    return c


def build(notebooks: list[Path], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    for name, src in assets().items():
        if not src.is_dir():
            raise SystemExit(f"make_slides: {src} is missing (make setup).")
        shutil.copytree(src, out / name, dirs_exist_ok=True)
    exporter = SlidesExporter(config=slides_config())
    # A link to another notebook of the course leads to its deck.
    stems = "|".join(re.escape(nb.stem) for nb in notebooks)
    link = re.compile(rf'href="({stems})\.ipynb(#[^"]*)?"')
    decks = []
    for nb in notebooks:
        body, _ = exporter.from_filename(str(nb))
        body = link.sub(lambda m: f'href="{m.group(1)}.slides.html{m.group(2) or ""}"', body)
        deck = out / f"{nb.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        decks.append(deck)
        print(f"slides: {deck}")
    items = "\n".join(f'<li><a href="{html.escape(d.name)}">{html.escape(d.stem.removesuffix(".slides"))}</a></li>'
                      for d in decks)
    (out / "index.html").write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Sequentia slides</title></head>\n'
        f"<body><h1>Sequentia: lecture slides</h1>\n<ul>\n{items}\n</ul>\n"
        "<p>Arrows or space move through a deck; <kbd>s</kbd> opens the speaker view, <kbd>f</kbd> full "
        "screen, <kbd>Esc</kbd> the overview. Everything here works offline.</p></body></html>\n",
        encoding="utf-8")
    return decks


def main(argv: list[str] | None = None) -> int:
    return notebooks_to_folder(argv, __doc__, REPO_ROOT / "_build" / "slides", build,
                               "{n} decks in {out}: open {out}/index.html")


if __name__ == "__main__":
    sys.exit(main())
