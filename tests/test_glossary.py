"""book/glossary.md: every term links to a section that exists in the notebook it names, and the book shows the page.

A glossary link is ``[text](notebooks/NN_name.ipynb#slug)``; the slug must be the anchor MyST gives
one of that notebook's headings (``scripts/site_pages.heading_slugs``, read from the notebook's
``.py`` file, the one authors edit), so renaming or renumbering a section fails here, not silently
on the site (where the build would fail too: ``myst_heading_anchors`` makes a missing anchor a warning,
and the book is built with warnings as errors).
"""

import re

import jupytext
import pytest
import yaml

from scripts import site_pages
from utils import REPO_ROOT

BOOK = REPO_ROOT / "book"
GLOSSARY = BOOK / "glossary.md"
LINK = re.compile(r"\]\((notebooks/[^)#\s]+)(?:#([^)\s]*))?\)")
TERM = re.compile(r"^\*\*(.+?)\*\* — ", re.M)


def _links():
    return LINK.findall(GLOSSARY.read_text(encoding="utf-8"))


def _slugs(notebook: str) -> list[str]:
    nb = jupytext.read(REPO_ROOT / notebook.replace(".ipynb", ".py"))
    return site_pages.heading_slugs([c.source for c in nb.cells if c.cell_type == "markdown"])


def test_every_glossary_link_points_to_a_heading_of_its_notebook():
    links = _links()
    assert len(links) >= 40, f"only {len(links)} links in {GLOSSARY}"
    slugs = {}
    problems = []
    for notebook, anchor in links:
        if not (REPO_ROOT / notebook).is_file():
            problems.append(f"{notebook}: no such notebook")
            continue
        if not anchor:
            problems.append(f"{notebook}: link to a section (#anchor), not only to the notebook")
            continue
        if notebook not in slugs:
            slugs[notebook] = _slugs(notebook)
        if anchor not in slugs[notebook]:
            problems.append(f"{notebook}#{anchor}: no such heading; the notebook's anchors are {slugs[notebook]}")
    assert not problems, "\n".join(problems)


def test_every_term_is_defined_and_linked_once_in_order():
    text = GLOSSARY.read_text(encoding="utf-8")
    terms = TERM.findall(text)
    assert len(terms) >= 40
    assert terms == sorted(terms, key=str.casefold), "terms in alphabetical order"
    assert len(set(map(str.casefold, terms))) == len(terms), "each term once"
    for entry in re.split(r"\n\n(?=\*\*)", text)[1:]:  # one paragraph per term: a definition, then its link(s)
        assert LINK.search(entry), f"no link to a notebook section: {entry[:60]!r}"
        assert len(entry.split("—", 1)[1].split("[")[0].split()) >= 10, f"define it: {entry[:60]!r}"


def test_the_book_lists_and_copies_the_glossary():
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    assert {"file": "glossary"} in toc["chapters"]
    assert toc["chapters"][-1] == {"file": "glossary"}, "after the notebooks: their previous/next links stay a chain"
    config = yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))
    assert config["sphinx"]["config"]["myst_heading_anchors"] == site_pages.HEADING_ANCHORS
    assert "cp book/_config.yml book/_toc.yml book/*.md" in (REPO_ROOT / "Makefile").read_text(encoding="utf-8")


@pytest.mark.parametrize("heading, slug", [
    ("## 7. How good is the model? Likelihood → log-likelihood → average NLL",
     "7-how-good-is-the-model-likelihood--log-likelihood--average-nll"),
    ("## 3. Flattening the window: `cat`, `unbind` and `view`", "3-flattening-the-window-cat-unbind-and-view"),
    ("### Why divide by √d", "why-divide-by-d"),
    ("## The loss $L$ of [a model](x.ipynb)", "the-loss--of-a-model"),
])
def test_heading_slugs_are_myst_anchors(heading, slug):
    assert site_pages.heading_slugs([heading]) == [slug]


def test_repeated_headings_get_numbered_slugs_and_deep_ones_none():
    assert site_pages.heading_slugs(["## Summary", "text\n\n## Summary\n\n#### Too deep"]) == ["summary", "summary-1"]
