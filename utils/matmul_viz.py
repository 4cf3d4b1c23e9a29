"""A picture of a matrix product: which row and which column make which output cell.

Introduced in ``02_bigram_neural`` (one neuron, then 27 neurons, fed one-hot rows) and reused by
``06_transformer`` (averaging the past with a lower-triangular matrix).

:func:`show_matmul` returns a :class:`MatmulDiagram`. Jupyter displays it through ``_repr_html_``:
a self-contained HTML fragment made of one ``<img>`` whose source is an inline SVG drawing
(``data:image/svg+xml;base64,...``) and a one-paragraph caption. That form was chosen because it
survives every place the course is read: JupyterLab shows it even in an untrusted notebook (its
sanitizer removes inline ``<svg>`` elements but keeps images), GitHub's notebook view strips
``style`` attributes and ``<style>`` blocks but keeps images, and a static Jupyter Book page shows
it as it is. There are no scripts, no ids and no network access, and the output is a pure function
of the arguments, so nbval can compare it byte for byte. Every label is escaped.

The layout is the classic one for ``C = A @ B``: ``B`` sits above the output and ``A`` to its left,
so the output's rows line up with the rows of ``A`` and its columns with the columns of ``B``:
cell ``(i, j)`` sits where row ``i`` of ``A`` and column ``j`` of ``B`` cross.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: The largest number of rows or columns drawn (every cell is drawn).
MAX_DIM = 100

# Colours (fill, stroke): row of A and of the output, column of B and of the output, the cell they
# make, the row of B a one-hot row picks, one-hot entries, ordinary cells.
_ROW = ("#fdd9b5", "#e6550d")
_COL = ("#c6dbef", "#2171b5")
_CELL = ("#9e9ac8", "#54278f")
_PICK = "#238b45"
_ONE = "#252525"
_PLAIN = ("#f7f7f7", "#bdbdbd")
_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _check_size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if value > MAX_DIM:
        raise ValueError(f"{name}={value} is too large to draw: show_matmul draws every cell, up to {MAX_DIM}.")
    return value


def _check_index(name: str, value: Any, size: int, matrix: str, unit: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            as_int = int(value)  # a 0-d tensor or a numpy integer
        except (TypeError, ValueError):
            as_int = None
        if as_int is None or as_int != value:
            raise ValueError(f"{name} must be an integer index or None, got {value!r}.")
        value = as_int
    if not 0 <= value < size:
        raise ValueError(
            f"{name}={value} is out of range: {matrix} has {size} {unit}, so it must be between 0 and {size - 1}."
        )
    return value


def _check_onehot(onehot_indices: Any, rows_A: int, cols_A: int) -> list[int] | None:
    if onehot_indices is None:
        return None
    if isinstance(onehot_indices, str | bytes):
        raise ValueError("onehot_indices must be a sequence of integers, one per row of A, not a string.")
    try:
        items = onehot_indices.tolist() if hasattr(onehot_indices, "tolist") else list(onehot_indices)
    except TypeError:
        raise ValueError(f"onehot_indices must be a sequence of integers, got {onehot_indices!r}.") from None
    if not isinstance(items, list) or any(isinstance(x, list) for x in items):
        raise ValueError("onehot_indices must be a flat sequence of integers, one per row of A.")
    if len(items) != rows_A:
        raise ValueError(f"onehot_indices has {len(items)} entries but A has {rows_A} rows: give one index per row.")
    out = []
    for r, k in enumerate(items):
        if isinstance(k, bool) or not isinstance(k, int):
            raise ValueError(f"onehot_indices[{r}] must be an integer, got {k!r}.")
        if not 0 <= k < cols_A:
            raise ValueError(
                f"onehot_indices[{r}]={k} is out of range: A has {cols_A} columns, so a one-hot position "
                f"must be between 0 and {cols_A - 1}."
            )
        out.append(k)
    return out


def _check_values(name: str, values: Any, rows: int, cols: int) -> list[list[float]] | None:
    if values is None:
        return None
    try:
        import torch

        t = torch.as_tensor(values, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name} must be a matrix of numbers: {err}") from None
    if tuple(t.shape) != (rows, cols):
        raise ValueError(f"{name} has shape {tuple(t.shape)} but the diagram's {name} is {rows}×{cols}.")
    return t.tolist()


def _shape(rows: int, cols: int) -> str:
    return f"{rows}×{cols}"


@dataclass(frozen=True)
class MatmulDiagram:
    """What :func:`show_matmul` returns: Jupyter displays it; ``.html`` and ``.svg`` hold the markup."""

    html: str
    svg: str
    summary: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"MatmulDiagram({self.summary})"


def _fmt(value: float, fmt: str) -> str:
    text = format(value, fmt)
    return "0" if text in ("-0", "-0.0", "-0.00", "-0.000") else text


def show_matmul(
    rows_A: int,
    cols_A: int,
    rows_B: int,
    cols_B: int,
    highlight_row: int | None = None,
    highlight_col: int | None = None,
    onehot_indices: Sequence[int] | None = None,
    label_A: str = "A",
    label_B: str = "B",
    label_out: str = "A @ B",
    title: str | None = None,
    *,
    A: Any = None,
    B: Any = None,
    fmt: str = ".2f",
) -> MatmulDiagram:
    """Draw ``A @ B`` for ``A`` of shape ``(rows_A, cols_A)`` and ``B`` of shape ``(rows_B, cols_B)``.

    - ``highlight_row``: a row of ``A`` (and the output row it produces) to highlight in orange.
    - ``highlight_col``: a column of ``B`` (and the output column it produces) in blue; with both,
      the output cell they make is highlighted in purple.
    - ``onehot_indices``: one column index per row of ``A``, marking ``A`` as one-hot rows (a black
      ``1``, every other entry 0). With ``highlight_row`` too, the row of ``B`` that the one-hot row
      picks is outlined in green: the highlighted output row is a copy of it.
    - ``label_A``, ``label_B``, ``label_out``, ``title``: text shown with the matrices (escaped).
    - ``A``, ``B`` (keyword only, optional): the actual values, printed in the cells with ``fmt``
      (the output's values are computed); best for small matrices.

    Returns a :class:`MatmulDiagram`, which Jupyter displays as self-contained HTML. Raises
    ``ValueError`` for sizes that are not positive integers (or exceed :data:`MAX_DIM`),
    ``cols_A != rows_B``, an out-of-range highlight, or one-hot indices of the wrong length or
    out of range.
    """
    rows_A = _check_size("rows_A", rows_A)
    cols_A = _check_size("cols_A", cols_A)
    rows_B = _check_size("rows_B", rows_B)
    cols_B = _check_size("cols_B", cols_B)
    if cols_A != rows_B:
        raise ValueError(
            f"cannot multiply a {rows_A}×{cols_A} matrix by a {rows_B}×{cols_B} one: the columns of A "
            f"({cols_A}) must match the rows of B ({rows_B})."
        )
    hr = _check_index("highlight_row", highlight_row, rows_A, "A", "rows")
    hc = _check_index("highlight_col", highlight_col, cols_B, "B", "columns")
    onehot = _check_onehot(onehot_indices, rows_A, cols_A)
    vals_A = _check_values("A", A, rows_A, cols_A)
    vals_B = _check_values("B", B, rows_B, cols_B)
    vals_out = None
    if vals_A is not None and vals_B is not None:
        vals_out = [
            [sum(vals_A[i][k] * vals_B[k][j] for k in range(cols_A)) for j in range(cols_B)] for i in range(rows_A)
        ]
    for name, value in (("label_A", label_A), ("label_B", label_B), ("label_out", label_out)):
        if value is None:
            raise ValueError(f"{name} must be a string, got None.")
    label_A, label_B, label_out = str(label_A), str(label_B), str(label_out)
    picked = onehot[hr] if onehot is not None and hr is not None else None

    svg = _draw(
        rows_A, cols_A, cols_B, hr, hc, onehot, picked, label_A, label_B, label_out, title, vals_A, vals_B, vals_out, fmt
    )
    summary = (
        f"{label_A} ℝ{_shape(rows_A, cols_A)} @ {label_B} ℝ{_shape(rows_B, cols_B)} → "
        f"{label_out} ℝ{_shape(rows_A, cols_B)}"
    )
    if hr is not None:
        summary += f"; row {hr}"
    if hc is not None:
        summary += f"; column {hc}"
    if onehot is not None:
        summary += "; A one-hot"
    caption = _caption(rows_A, cols_A, cols_B, hr, hc, onehot, picked, label_A, label_B, label_out, title)
    b64 = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    width, height = _size_of(svg)
    page = (
        '<div class="sequentia-matmul">'
        f'<img src="data:image/svg+xml;base64,{b64}" width="{width}" height="{height}" '
        f'alt="{_esc(summary)}" style="max-width:100%;height:auto">'
        f"<p>{caption}</p></div>"
    )
    return MatmulDiagram(html=page, svg=svg, summary=summary)


def _size_of(svg: str) -> tuple[int, int]:
    head = svg[: svg.index(">")]
    width = int(head.split(' width="')[1].split('"')[0])
    height = int(head.split(' height="')[1].split('"')[0])
    return width, height


def _sup_html(rows: int, cols: int) -> str:
    return f"ℝ<sup>{_shape(rows, cols)}</sup>"


def _caption(rows_A, cols_A, cols_B, hr, hc, onehot, picked, label_A, label_B, label_out, title) -> str:
    a, b, o = f"<b>{_esc(label_A)}</b>", f"<b>{_esc(label_B)}</b>", f"<b>{_esc(label_out)}</b>"
    parts = []
    if title:
        parts.append(f"<b>{_esc(title)}</b>.")
    parts.append(
        f"{a} ∈ {_sup_html(rows_A, cols_A)} times {b} ∈ {_sup_html(cols_A, cols_B)} gives {o} ∈ "
        f"{_sup_html(rows_A, cols_B)}: each output cell is the dot product of a row of {a} with a column "
        f"of {b}, {cols_A} products summed."
    )
    if hr is not None and hc is not None:
        parts.append(
            f"Row {hr} of {a} (orange) times column {hc} of {b} (blue) gives cell [{hr}, {hc}] of {o} (purple)."
        )
    elif hr is not None:
        parts.append(f"Row {hr} of {a} (orange) makes row {hr} of {o}, one dot product per column of {b}.")
    elif hc is not None:
        parts.append(f"Column {hc} of {b} (blue) makes column {hc} of {o}, one dot product per row of {a}.")
    if onehot is not None:
        parts.append(f"Each row of {a} is one-hot: a single 1 (black), 0 everywhere else.")
        if picked is not None:
            if hc is not None:
                result = f"cell [{hr}, {hc}] of {o} is just {b}[{picked}, {hc}]"
            else:
                result = f"row {hr} of {o} is just row {picked} of {b}"
            parts.append(
                f"Row {hr} has its 1 at position {picked}, so every product but one is zero and {result}: "
                f"multiplying by a one-hot row picks row {picked} of {b} (green)."
            )
    return " ".join(parts)


class _Canvas:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.x0, self.y0, self.x1, self.y1 = 0.0, 0.0, 0.0, 0.0

    def _grow(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.x0, self.y0 = min(self.x0, x0), min(self.y0, y0)
        self.x1, self.y1 = max(self.x1, x1), max(self.y1, y1)

    def rect(self, x, y, w, h, fill="none", stroke="none", sw=1.0, dash=False) -> None:
        extra = "" if stroke == "none" else f' stroke="{stroke}" stroke-width="{sw:g}"'
        if dash:
            extra += ' stroke-dasharray="4 3"'
        self.items.append(f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{fill}"{extra}/>')
        self._grow(x - sw, y - sw, x + w + sw, y + h + sw)

    def line(self, x1, y1, x2, y2, stroke, sw=1.0, dash=True) -> None:
        extra = ' stroke-dasharray="4 3"' if dash else ""
        self.items.append(
            f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{stroke}" stroke-width="{sw:g}"{extra}/>'
        )

    def path(self, d: str, stroke: str, sw: float = 1.0) -> None:
        self.items.append(f'<path d="{d}" fill="none" stroke="{stroke}" stroke-width="{sw:g}"/>')

    def text(self, x, y, content, size=10.0, anchor="start", weight="normal", fill="#252525", sup=None) -> None:
        """``content`` is plain text (escaped here); ``sup`` is appended as a superscript."""
        body = _esc(content)
        n = len(content)
        if sup is not None:
            body += f'<tspan dy="{-0.4 * size:g}" font-size="{0.72 * size:g}">{_esc(sup)}</tspan>'
            n += 0.72 * len(sup)
        self.items.append(
            f'<text x="{x:g}" y="{y:g}" font-size="{size:g}" text-anchor="{anchor}" font-weight="{weight}" '
            f'fill="{fill}">{body}</text>'
        )
        w = 0.62 * size * n * (1.08 if weight == "bold" else 1.0)
        left = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
        self._grow(left, y - size, left + w, y + 0.3 * size)

    def svg(self, pad: float = 8.0) -> str:
        x0, y0 = self.x0 - pad, self.y0 - pad
        w, h = round(self.x1 - self.x0 + 2 * pad), round(self.y1 - self.y0 + 2 * pad)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="{x0:g} {y0:g} {w} {h}" font-family="{_FONT}">'
            f'<rect x="{x0:g}" y="{y0:g}" width="{w}" height="{h}" fill="#ffffff"/>' + "".join(self.items) + "</svg>"
        )


def _ticks(n: int, cell: float, highlight: int | None) -> list[int]:
    if cell >= 12 or n <= 10:
        return list(range(n))
    keep = {0, n - 1} | {i for i in range(0, n, 5)}
    if highlight is not None:
        keep = {i for i in keep if abs(i - highlight) >= 3 or i == highlight} | {highlight}
    return sorted(keep)


def _draw(rows_A, cols_A, cols_B, hr, hc, onehot, picked, label_A, label_B, label_out, title, vA, vB, vO, fmt):
    rows_B = cols_A
    c = _Canvas()
    big = max(rows_A, cols_A, cols_B)
    if vA is not None or vB is not None:
        cw, ch = 40.0, 20.0
    else:
        cw = ch = float(min(26, max(8, 378 // big)))
    tick = 8.0 if min(cw, ch) < 16 else 10.0
    gap = 40.0
    Aw, Ah, Bw, Bh = cols_A * cw, rows_A * ch, cols_B * cw, rows_B * ch
    top = 30.0 if title else 4.0
    xA = 0.0
    xB = xA + Aw + gap
    yB = top + tick + 8
    yA = yB + Bh + gap
    if title:
        c.text(xA, 14, title, size=13, weight="bold")

    def grid(x, y, rows, cols, fill_of, text_of=None) -> None:
        # One background rectangle, then only the cells that differ from it, then the grid lines
        # as a single path: a 27×27 matrix stays a few kilobytes.
        c.rect(x, y, cols * cw, rows * ch, fill=_PLAIN[0])
        for i in range(rows):
            for j in range(cols):
                fill, text_fill = fill_of(i, j)
                if fill != _PLAIN[0]:
                    c.rect(x + j * cw, y + i * ch, cw, ch, fill=fill)
                if text_of is not None:
                    t = text_of(i, j)
                    if t:
                        size = min(ch * 0.6, 11.0)
                        c.text(x + (j + 0.5) * cw, y + (i + 0.5) * ch + size * 0.35, t, size=size, anchor="middle",
                               fill=text_fill)
        d = "".join(f"M{x:g} {y + i * ch:g}h{cols * cw:g}" for i in range(rows + 1))
        d += "".join(f"M{x + j * cw:g} {y:g}v{rows * ch:g}" for j in range(cols + 1))
        c.path(d, stroke=_PLAIN[1], sw=0.5)

    def col_ticks(x, y, cols, hl) -> None:
        for j in _ticks(cols, cw, hl):
            bold = "bold" if j == hl else "normal"
            c.text(x + (j + 0.5) * cw, y - 4, str(j), size=tick, anchor="middle", weight=bold, fill="#636363")

    def row_ticks(x, y, rows, hl, anchor="end") -> None:
        for i in _ticks(rows, ch, hl):
            bold = "bold" if i == hl else "normal"
            c.text(x + (4 if anchor == "start" else -4), y + (i + 0.5) * ch + tick * 0.35, str(i), size=tick,
                   anchor=anchor, weight=bold, fill="#636363")

    # A: the highlighted row in orange, one-hot entries black.
    def fill_A(i, j):
        if onehot is not None and onehot[i] == j:
            return _ONE, "#ffffff"
        if i == hr:
            return _ROW[0], "#252525"
        return ("#ffffff" if onehot is not None else _PLAIN[0]), "#252525"

    def text_A(i, j):
        if vA is not None:
            return _fmt(vA[i][j], fmt)
        if onehot is not None and onehot[i] == j and min(cw, ch) >= 10:
            return "1"
        return ""

    grid(xA, yA, rows_A, cols_A, fill_A, text_A)

    # B: the highlighted column in blue; the row a one-hot row picks outlined in green.
    def fill_B(i, j):
        if j == hc and i == picked:
            return _CELL[0], "#252525"
        if j == hc:
            return _COL[0], "#252525"
        return _PLAIN[0], "#252525"

    grid(xB, yB, rows_B, cols_B, fill_B, (lambda i, j: _fmt(vB[i][j], fmt)) if vB is not None else None)

    # The output: its row and column tinted, the cell they make in purple.
    def fill_O(i, j):
        if i == hr and j == hc:
            return _CELL[0], "#252525"
        if i == hr:
            return _ROW[0], "#252525"
        if j == hc:
            return _COL[0], "#252525"
        return _PLAIN[0], "#252525"

    grid(xB, yA, rows_A, cols_B, fill_O, (lambda i, j: _fmt(vO[i][j], fmt)) if vO is not None else None)

    # Outlines and guides, drawn over the cells.
    if hr is not None:
        y = yA + hr * ch
        c.rect(xA, y, Aw, ch, stroke=_ROW[1], sw=2)
        c.line(xA + Aw, y + ch / 2, xB, y + ch / 2, stroke=_ROW[1], sw=1.5)
        c.rect(xB, y, Bw, ch, stroke=_ROW[1], sw=1.5, dash=True)
    if hc is not None:
        x = xB + hc * cw
        c.rect(x, yB, cw, Bh, stroke=_COL[1], sw=2)
        c.line(x + cw / 2, yB + Bh, x + cw / 2, yA, stroke=_COL[1], sw=1.5)
        c.rect(x, yA, cw, Ah, stroke=_COL[1], sw=1.5, dash=True)
    if picked is not None:
        c.rect(xB, yB + picked * ch, Bw, ch, stroke=_PICK, sw=2)
    if hr is not None and hc is not None:
        c.rect(xB + hc * cw, yA + hr * ch, cw, ch, stroke=_CELL[1], sw=2.5)
        if picked is not None:
            c.rect(xB + hc * cw, yB + picked * ch, cw, ch, stroke=_CELL[1], sw=2.5)

    # Index ticks: columns above A and B, rows to the left of A and B; the output's rows on its
    # right (its columns are B's, straight above), which keeps the gaps free for the guides.
    col_ticks(xA, yA, cols_A, onehot[hr] if onehot is not None and hr is not None else None)
    row_ticks(xA, yA, rows_A, hr)
    col_ticks(xB, yB, cols_B, hc)
    row_ticks(xB, yB, rows_B, picked)
    row_ticks(xB + Bw, yA, rows_A, hr, anchor="start")

    # Names and shapes: B's in the empty corner to its left, A's and the output's underneath.
    c.text(xB - 26, yB + Bh / 2 - 4, label_B, size=13, anchor="end", weight="bold")
    c.text(xB - 26, yB + Bh / 2 + 14, "∈ ℝ", size=12, anchor="end", sup=_shape(rows_B, cols_B))
    below = yA + Ah + 20
    c.text(xA + Aw / 2, below, label_A, size=13, anchor="middle", weight="bold")
    c.text(xA + Aw / 2, below + 17, "∈ ℝ", size=12, anchor="middle", sup=_shape(rows_A, cols_A))
    c.text(xB + Bw / 2, below, label_out, size=13, anchor="middle", weight="bold")
    c.text(xB + Bw / 2, below + 17, "∈ ℝ", size=12, anchor="middle", sup=_shape(rows_A, cols_B))
    return c.svg()
