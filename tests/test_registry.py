"""A new model is one file plus one spec (ARCHITECTURE.md, "Adding a model").

This file registers a model the course does not have, a tiny "previous character" language model,
and nothing else in the repository knows about it; the real command (``utils.cli.main``, the code of
``sequentia``) then trains, samples, evaluates and resumes it like any of the course's types.
"""

import json
from dataclasses import dataclass

import pytest
import torch
import torch.nn as nn

from utils.cli import METRICS, load_checkpoint, main
from utils.models import RECIPES, TYPES, ModelSpec, build, get, register, types
from utils.models._init import randn
from utils.models.registry import SettingError, sequences, unregister, whole_item
from utils.recipes import Recipe

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

WORDS = [a + b for a in ("ka", "lo", "mi", "nu", "pe", "ri", "so", "tu") for b in ("", "n", "ra", "mo", "li")]  # 40 items


class PreviousCharacter(nn.Module):
    """Logits of the next character from an embedding of the current one: (B, T) → (B, T, V)."""

    def __init__(self, vocab_size: int, n_embd: int, generator: torch.Generator | None = None):
        super().__init__()
        self.C = nn.Parameter(randn(vocab_size, n_embd, generator=generator))  # (V, d)
        self.W = nn.Parameter(randn(n_embd, vocab_size, generator=generator) * 0.1)  # (d, V)

    def forward(self, idx):
        return self.C[idx] @ self.W


@dataclass(frozen=True)
class PreviousCharacterSettings:
    n_embd: int = 4


def _check(settings: PreviousCharacterSettings) -> None:
    if settings.n_embd > 64:
        raise SettingError("n_embd", f"must be at most 64 for this toy, got {settings.n_embd}; try 4")


SPEC = ModelSpec(
    "prevchar",
    Recipe("prevchar", "tests", PreviousCharacterSettings(), steps=12, batch=8, lr=3e-2, optimizer="adamw",
           eval_every=4),
    build=lambda s, V, block_size, g: PreviousCharacter(V, s.n_embd, g),
    examples=sequences, windowed=False, block_size=whole_item, check=_check,
)


@pytest.fixture()
def prevchar(tmp_path):
    register(SPEC)
    path = tmp_path / "list.txt"
    path.write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    yield path
    unregister("prevchar")


def test_the_course_types_do_not_include_a_test_model():
    assert "prevchar" not in TYPES and "prevchar" not in types()


def test_a_registered_model_trains_samples_evaluates_and_resumes_through_the_command(prevchar, tmp_path, capsys):
    assert types()[-1] == "prevchar" and RECIPES["prevchar"] is SPEC.recipe and get("prevchar") is SPEC
    assert isinstance(build(SPEC.recipe, 5, 3, torch.Generator().manual_seed(0)), PreviousCharacter)

    run = tmp_path / "run"
    sized = ["--eval-every", "4"]  # the sizing rule would evaluate after every step of this 40-item list
    assert main(["train", "-i", str(prevchar), "--type", "prevchar", "-o", str(run), "--quiet", *sized]) == 0
    assert "prevchar: dev" in capsys.readouterr().out
    m = json.loads((run / METRICS).read_text())
    assert m["finished"] and m["step"] == 12 and [s for s, _ in m["dev_history"]] == [4, 8, 12]
    assert m["recipe"]["n_embd"] == 4 and m["params"] == 2 * 4 * (1 + len(set("".join(WORDS))))

    assert main(["sample", str(run), "-n", "5", "--prefix", "k"]) == 0
    out = capsys.readouterr()
    assert len(out.out.splitlines()) == 5 and all(line.startswith("k") for line in out.out.splitlines())
    assert main(["evaluate", str(run)]) == 0
    assert f"dev: {m['dev']:.4f}" in capsys.readouterr().out

    cut = tmp_path / "cut"
    assert main(["train", "-i", str(prevchar), "--type", "prevchar", "-o", str(cut), "--quiet", *sized,
                 "--stop-after", "5"]) == 130
    assert main(["train", "-o", str(cut), "--resume", "--quiet"]) == 0
    a, b = load_checkpoint(run), load_checkpoint(cut)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])  # exactly the uninterrupted run
    assert a["history"]["step_loss"] == b["history"]["step_loss"]


def test_a_registered_model_gets_its_own_options_and_checks(prevchar, tmp_path, capsys):
    base = ["train", "-i", str(prevchar), "--type", "prevchar", "-o", str(tmp_path / "r"), "--quiet"]
    for argv, message in ((["--n-head", "2"], "--n-head does not apply to --type prevchar"),
                          (["--n-embd", "100"], "--n-embd must be at most 64"),
                          (["--n-embd", "0"], "n-embd must be a positive integer")):
        assert main([*base, *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("sequentia: error: ") and message in err and ";" in err and "\n" not in err
    assert not (tmp_path / "r").exists()
    assert main([*base, "--n-embd", "6"]) == 0
    assert load_checkpoint(tmp_path / "r")["recipe"]["n_embd"] == 6


def test_registering_twice_or_with_another_types_recipe_is_refused(prevchar):
    with pytest.raises(ValueError, match="registered already"):
        register(ModelSpec("prevchar", SPEC.recipe, build=SPEC.build, examples=sequences, windowed=False,
                           block_size=whole_item))
    with pytest.raises(ValueError, match="is for type 'mlp'"):
        register(ModelSpec("other", RECIPES["mlp"], build=SPEC.build, examples=sequences, windowed=False,
                           block_size=whole_item))
