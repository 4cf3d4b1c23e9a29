"""Checks for the exercises that end each notebook.

Introduced in ``01_bigram_counting``. A learner writes an answer and runs :func:`check`, which
prints a clear verdict (✅ correct, ❌ wrong with a hint, or ⏳ not attempted while the answer is
still ``...``) and returns ``True`` only for a correct answer. Each worked solution sits in a
collapsed cell that runs the same check (``assert check(...)``), so CI proves every solution passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def _close(answer: Any, expected: Any, atol: float, rtol: float) -> bool:
    if isinstance(expected, torch.Tensor) or isinstance(answer, torch.Tensor):
        a = torch.as_tensor(answer, dtype=torch.float64)
        e = torch.as_tensor(expected, dtype=torch.float64)
        return a.shape == e.shape and bool(torch.allclose(a, e, atol=atol, rtol=rtol))
    if isinstance(expected, float) or (isinstance(answer, float) and isinstance(expected, int)):
        return isinstance(answer, int | float) and abs(answer - expected) <= atol + rtol * abs(expected)
    return answer == expected


def _show(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Verdict:
    """The result of :func:`check`: true only for a correct answer, and silent as a cell's last value.

    It behaves as a bool (``assert check(...)``, ``if check(...)``) but displays nothing in Jupyter,
    so a learner's cell that ends with ``check(...)`` shows the verdict line only.
    """

    def __init__(self, ok: bool):
        self.ok = bool(ok)

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"Verdict({self.ok})"

    def _ipython_display_(self) -> None:
        pass


def check(
    name: str,
    answer: Any,
    expected: Any = None,
    *,
    test: Callable[[Any], bool] | None = None,
    atol: float = 1e-4,
    rtol: float = 0.0,
    hint: str = "",
) -> Verdict:
    """Print whether ``answer`` is right; the returned :class:`Verdict` is true only if it is.

    Give either ``expected`` (compared with tolerance ``atol``/``rtol`` for numbers and tensors,
    with ``==`` otherwise) or ``test``, a function of the answer that returns ``True`` when it is
    acceptable. An answer of ``...`` (Ellipsis) or ``None`` counts as not attempted.
    """
    if (expected is None) == (test is None):
        raise ValueError("check() takes either `expected` or `test`, exactly one of them.")
    if answer is ... or answer is None:
        print(f"⏳ {name}: not attempted yet. Replace the `...` with your answer and run the cell again.")
        return Verdict(False)
    try:
        ok = bool(test(answer)) if test is not None else _close(answer, expected, atol, rtol)
    except Exception as err:  # a learner's answer of the wrong kind is a wrong answer, not a crash
        ok = False
        hint = f"checking it raised {type(err).__name__}: {err}. {hint}".strip()
    if ok:
        print(f"✅ {name}: correct.")
    else:
        print(f"❌ {name}: not yet (got {_show(answer)}).{' Hint: ' + hint if hint else ''}")
    return Verdict(ok)
