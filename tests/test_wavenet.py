"""utils.models.wavenet: the hierarchical model of 04_training_dynamics, its pair fusion and its BatchNorm."""

import json
import math

import pytest
import torch
import torch.nn.functional as F

from utils import REPO_ROOT
from utils.device import make_generator
from utils.models import RECIPES
from utils.models.wavenet import BatchNorm, FlattenConsecutive, WaveNet, WaveNetSettings
from utils.recipes import Recipe

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_flatten_consecutive_puts_neighbours_side_by_side():
    x = torch.arange(2 * 8 * 3).view(2, 8, 3)
    y = FlattenConsecutive(2)(x)
    assert y.shape == (2, 4, 6)
    assert torch.equal(y, torch.cat([x[:, ::2], x[:, 1::2]], dim=2))
    assert FlattenConsecutive(2)(torch.zeros(5, 2, 4)).shape == (5, 8)  # the last level drops T


def test_flatten_consecutive_rejects_an_odd_length():
    with pytest.raises(ValueError, match="groups of 2"):
        FlattenConsecutive(2)(torch.zeros(1, 3, 4))


def test_batchnorm_matches_torch_over_batch_and_positions():
    g = make_generator()
    ours, ref = BatchNorm(6), torch.nn.BatchNorm1d(6)
    for _ in range(3):
        x = torch.randn(16, 4, 6, generator=g) * 2 + 1
        assert torch.allclose(ours(x), ref(x.transpose(1, 2)).transpose(1, 2), atol=1e-5)
    assert torch.allclose(ours.running_mean, ref.running_mean, atol=1e-6)
    assert torch.allclose(ours.running_var, ref.running_var, atol=1e-6)
    ours.eval()
    ref.eval()
    x = torch.randn(3, 4, 6, generator=g)
    assert torch.allclose(ours(x), ref(x.transpose(1, 2)).transpose(1, 2), atol=1e-5)
    x2 = torch.randn(8, 6, generator=g)
    assert torch.allclose(ours(x2), ref(x2), atol=1e-5)  # (B, C) too


def test_batchnorm_refuses_a_single_value_in_training():
    with pytest.raises(ValueError, match="more than one value"):
        BatchNorm(3)(torch.zeros(1, 3))


def test_wavenet_shapes_parameters_and_first_loss():
    V = 27
    model = WaveNet(V, 8, 24, 128, generator=make_generator())
    n = sum(p.numel() for p in model.parameters())
    # C; three levels of Linear (no bias) + BatchNorm (γ, β); the output layer
    assert n == V * 24 + (48 * 128 + 2 * 128) + 2 * (256 * 128 + 2 * 128) + 128 * V + V
    g = make_generator()
    X = torch.randint(0, V, (256, 8), generator=g)
    Y = torch.randint(0, V, (256,), generator=g)
    logits = model(X)
    assert logits.shape == (256, V)
    assert abs(F.cross_entropy(logits, Y).item() - math.log(V)) < 0.1


def test_wavenet_is_seeded_and_rejects_bad_shapes():
    a, b = WaveNet(10, 4, 5, 7, generator=make_generator()), WaveNet(10, 4, 5, 7, generator=make_generator())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    with pytest.raises(ValueError, match="power of two"):
        WaveNet(10, 6, generator=make_generator())
    with pytest.raises(ValueError, match="windows of 4"):
        a(torch.zeros(2, 3, dtype=torch.long))


def test_wavenet_evaluation_does_not_couple_examples():
    model = WaveNet(10, 4, 5, 7, generator=make_generator())
    g = make_generator()
    X = torch.randint(0, 10, (32, 4), generator=g)
    model(X)  # one training step's statistics
    model.eval()
    with torch.no_grad():
        assert torch.allclose(model(X)[:1], model(X[:1]), atol=1e-6)


def test_the_wavenet_recipe_is_the_sweeps_choice():
    """notebooks/wavenet_sweep.json (make sweep-wavenet) chose the packaged recipe, on dev, over three seeds."""
    sweep = json.loads((REPO_ROOT / "notebooks" / "wavenet_sweep.json").read_text())
    runs = [r for r in sweep["runs"] if r["group"] == "search" and r["name"] == sweep["chosen"]]
    assert sorted(r["seed"] for r in runs) == sorted(sweep["seeds"]) and len(runs) >= 3
    course_seed = next(r for r in runs if r["seed"] == RECIPES["wavenet"].seed)
    assert Recipe.from_dict(course_seed["recipe"], WaveNetSettings) == RECIPES["wavenet"]
    assert RECIPES["wavenet"].optimizer == "adamw-matrices"  # the course's weight-decay policy (04 section 5)


def test_the_wavenet_sweep_records_every_group_over_three_seeds():
    sweep = json.loads((REPO_ROOT / "notebooks" / "wavenet_sweep.json").read_text())
    assert {"cpu", "cpu_capability", "torch", "seeds", "chosen", "runs"} <= set(sweep)
    groups = {}
    for r in sweep["runs"]:
        assert {"group", "name", "seed", "recipe", "params", "dev", "dev_curve", "train_seconds"} <= set(r)
        groups.setdefault(r["group"], {}).setdefault(r["name"], []).append(r["seed"])
    assert {"search", "flat-vs-hierarchical", "batchnorm", "output-fix", "optimizers", "muon"} <= set(groups)
    assert all(len(seeds) >= 3 for settings in groups.values() for seeds in settings.values())
    muon = [r for r in sweep["runs"] if r["group"] == "muon"]
    assert {r["recipe"]["optimizer"] for r in muon} == {"adamw-matrices", "muon"}
