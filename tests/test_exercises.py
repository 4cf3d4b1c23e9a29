import pytest
import torch

from utils.exercises import check


@pytest.mark.parametrize("answer", [..., None], ids=["ellipsis", "none"])
def test_not_attempted(capsys, answer):
    assert not check("Exercise 1", answer, expected=3)
    assert "⏳ Exercise 1: not attempted yet" in capsys.readouterr().out


def test_correct_and_wrong_numbers(capsys):
    assert check("E", 2.45461, expected=2.4546)
    assert "✅ E: correct." in capsys.readouterr().out
    assert not check("E", 2.5, expected=2.4546, hint="smooth the counts")
    out = capsys.readouterr().out
    assert "❌ E: not yet (got 2.5). Hint: smooth the counts" in out


def test_tensors_compare_with_tolerance_and_shape(capsys):
    assert check("T", torch.tensor([1.0, 2.0]), expected=torch.tensor([1.0, 2.00001]))
    capsys.readouterr()
    # A different shape is a wrong answer, reported as such (not as a comparison that crashed) ...
    assert not check("T", torch.tensor([1.0, 2.0, 3.0]), expected=torch.tensor([1.0, 2.0]))
    out = capsys.readouterr().out
    assert "❌ T: not yet (got a tensor of shape (3,))." in out and "raised" not in out
    # ... even when the two shapes broadcast and every value matches: (1, 2) is not (2,).
    assert not check("T", torch.tensor([[1.0, 2.0]]), expected=torch.tensor([1.0, 2.0]))
    assert "❌ T: not yet (got a tensor of shape (1, 2))." in capsys.readouterr().out


def test_custom_test_function_and_its_errors(capsys):
    assert check("F", [3, 1, 2], test=lambda a: sorted(a) == [1, 2, 3])
    assert not check("F", 5, test=lambda a: len(a) == 3)
    assert "raised TypeError" in capsys.readouterr().out


def test_exactly_one_of_expected_or_test():
    with pytest.raises(ValueError, match="exactly one"):
        check("X", 1)
    with pytest.raises(ValueError, match="exactly one"):
        check("X", 1, expected=1, test=bool)


def test_verdict_is_silent_in_jupyter(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    verdict = check("S", 1, expected=1)
    assert bool(verdict) is True and repr(verdict) == "Verdict(True)"
    capsys.readouterr()
    # A real IPython shell, as a notebook cell runs: a cell ending in `check(...)` shows the verdict
    # line only, while the same cell ending in a plain value shows that value (the control).
    shell = InteractiveShell.instance()
    shell.user_ns["check"] = check
    shell.run_cell("check('S', 1, expected=1)", store_history=True)
    out = capsys.readouterr().out
    assert "✅ S: correct." in out and "Verdict" not in out, out
    shell.run_cell("bool(check('S', 1, expected=1))", store_history=True)
    assert "True" in capsys.readouterr().out, "the control cell must display its value"
