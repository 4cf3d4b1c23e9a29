"""Each notebook's results table, published in its output so that tools can read it back.

Introduced in ``01_bigram_counting``. :func:`publish` shows the table (model, parameters, training
seconds, dev and test loss) as Markdown and carries the same rows as JSON under
:data:`MIME_TYPE` in the same output; :func:`read_results` reads them back from an executed
notebook. ``make results`` (the README's table), ``make bench`` and notebook 06's final comparison
all read the figures this way instead of copying them by hand.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

MIME_TYPE = "application/vnd.sequentia.results+json"
COLUMNS = ("model", "params", "train_seconds", "dev", "test")


def _row(row: Mapping) -> dict:
    missing = [c for c in ("model", "params", "dev") if c not in row]
    if missing:
        raise ValueError(f"a result row needs {missing}: got keys {sorted(row)}.")
    out = {
        "model": str(row["model"]),
        "params": int(row["params"]),
        "train_seconds": None if row.get("train_seconds") is None else round(float(row["train_seconds"]), 1),
        "dev": round(float(row["dev"]), 4),
        "test": None if row.get("test") is None else round(float(row["test"]), 4),
    }
    for key in ("dev", "test"):
        if out[key] is not None and not math.isfinite(out[key]):
            raise ValueError(f"{out['model']}: the {key} loss is {out[key]}, not a finite number.")
    return out


def _fmt(value, key: str) -> str:
    if value is None:
        return "–"
    if key == "params":
        return f"{value:,}"
    if key == "train_seconds":
        return f"{value:.1f}"
    if key in ("dev", "test"):
        return f"{value:.4f}"
    return str(value)


def markdown_table(rows: Iterable[Mapping], columns: Iterable[str] = COLUMNS, extra: Mapping[str, str] | None = None) -> str:
    """A Markdown table of ``rows`` with the given ``columns`` (``extra`` maps column → header)."""
    headers = {"model": "model", "params": "parameters", "train_seconds": "training s", "dev": "dev", "test": "test"}
    headers.update(extra or {})
    columns = list(columns)
    lines = ["| " + " | ".join(headers.get(c, c) for c in columns) + " |"]
    lines.append("|" + "|".join("---" if c in ("model", "notebook") else "---:" for c in columns) + "|")
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c), c) for c in columns) + " |")
    return "\n".join(lines)


def publish(notebook: str, rows: Iterable[Mapping], columns: Iterable[str] = COLUMNS) -> None:
    """Display the results table of ``notebook`` (e.g. ``"03_mlp"``); returns nothing, so a cell ending
    with it shows only the table. ``columns`` chooses the columns shown; the JSON carries every field."""
    from IPython.display import display

    clean = [_row(r) for r in rows]
    if not clean:
        raise ValueError("publish() needs at least one result row.")
    payload = {"notebook": notebook, "rows": clean}
    display({"text/markdown": markdown_table(clean, columns), MIME_TYPE: payload}, raw=True)


def read_results(path: str | Path) -> list[dict]:
    """The rows that :func:`publish` left in the outputs of the executed notebook at ``path``.

    Each row gains a ``notebook`` key. A notebook that published nothing gives an empty list.
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    rows: list[dict] = []
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            payload = out.get("data", {}).get(MIME_TYPE)
            if payload is None:
                continue
            if isinstance(payload, str):
                payload = json.loads(payload)
            rows.extend({**r, "notebook": payload["notebook"]} for r in payload["rows"])
    return rows


def read_course_results(paths: Iterable[str | Path]) -> list[dict]:
    """The rows published by the executed notebooks at ``paths``, in that order, each model once.

    A model that a later notebook shows again (notebook 03 repeats the bigram rows of 01 and 02) is
    kept from the notebook that introduced it. Missing notebooks contribute nothing. Used by the
    course's final table in ``06_transformer`` and by ``make results``.
    """
    rows: list[dict] = []
    seen: set[str] = set()
    for path in paths:
        if not Path(path).exists():
            continue
        for row in read_results(path):
            if row["model"] not in seen:
                seen.add(row["model"])
                rows.append(row)
    return rows
