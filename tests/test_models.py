"""The packaged models (utils/models/), their registry and their recipes (utils/recipes.py).

The notebooks assert that each packaged class reproduces their inline model's logits from the same
weights; here: the shared contract (``(B, T)`` → ``(B, T, V)``, causal), the initialisations that the
command relies on, the one schedule, and the recipes against the notebooks' own choices.
"""

import dataclasses
import json
import math

import pytest
import torch

from utils import REPO_ROOT
from utils.device import make_generator
from utils.models import (
    MLP,
    RECIPES,
    TYPES,
    BagOfWords,
    Bigram,
    GRUCell,
    LSTMCell,
    RNNCell,
    build,
    get,
    n_params,
    recipe_from_dict,
    recurrent_lm,
)
from utils.recipes import Recipe
from utils.train import lr_schedule, ramped_cosine, warmup_cosine

V, BLOCK = 7, 6
#: The models that map whole sequences (B, T) -> (B, T, V); WaveNet reads windows only (test_wavenet.py).
SEQUENCE_TYPES = [t for t in TYPES if t != "wavenet"]


def small(t: str) -> Recipe:
    sizes = dict(n_embd=8, n_hidden=12, n_head=2, n_layer=2)
    return RECIPES[t].replace(**{k: v for k, v in sizes.items() if k in get(t).options()})


@pytest.mark.parametrize("t", SEQUENCE_TYPES)
def test_every_model_maps_sequences_to_logits_causally(t):
    model = build(small(t), V, 3 if t == "mlp" else BLOCK, make_generator()).eval()
    idx = torch.randint(0, V, (4, BLOCK), generator=make_generator(1))
    idx[:, 0] = 0
    logits = model(idx)
    assert logits.shape == (4, BLOCK, V)
    changed = idx.clone()
    changed[:, 4:] = (changed[:, 4:] + 1) % V  # change only the last positions
    other = model(changed)
    assert torch.allclose(logits[:, :4], other[:, :4], atol=1e-6)  # the past does not see the future
    assert not torch.allclose(logits[:, 4:], other[:, 4:])  # and the model reads its input


def test_the_same_generator_gives_the_same_weights_and_none_gives_zeros():
    for t in TYPES[1:]:
        block = get(t).block_size(small(t).model, BLOCK - 1)
        a = build(small(t), V, block, make_generator())
        b = build(small(t), V, block, make_generator())
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    assert all(float(p.detach().abs().sum()) == 0 for p in MLP(V, 3, 4, 5).parameters())


def test_mlp_windows_are_the_last_block_size_tokens_left_padded_with_the_boundary():
    m = MLP(V, 3, 4, 10, generator=make_generator())
    seq = torch.tensor([[0, 2, 5, 1, 3]])
    logits = m(seq)  # (1, 5, V)
    windows = torch.tensor([[0, 0, 0], [0, 0, 2], [0, 2, 5], [2, 5, 1], [5, 1, 3]])
    assert torch.allclose(logits[0], m.window_logits(windows), atol=1e-6)


def test_mlp_draws_as_notebook_03():
    g = make_generator()
    C, W1, b1, W2, b2 = (torch.randn(*s, generator=g) for s in ((V, 4), (12, 10), (10,), (10, V), (V,)))
    m = MLP(V, 3, 4, 10, generator=make_generator())
    assert torch.equal(m.C, C) and torch.equal(m.W1, W1 * ((5 / 3) / 12**0.5)) and torch.equal(m.W2, W2 * 0.01)
    assert torch.equal(m.b1, b1 * 0.01) and torch.equal(m.b2, b2 * 0.0)
    assert n_params(m) == V * 4 + 12 * 10 + 10 + 10 * V + V


def test_bigram_from_counts_is_the_smoothed_table():
    counts = torch.randint(0, 5, (V, V), generator=make_generator())
    P = (counts + 0.3).float()
    P = P / P.sum(1, keepdim=True)
    logits = Bigram.from_counts(counts, 0.3)(torch.arange(V)[None])  # (1, V, V)
    assert torch.allclose(torch.softmax(logits[0], -1), P, atol=1e-6)


@pytest.mark.parametrize("cell, ref", [(RNNCell, torch.nn.RNNCell), (GRUCell, torch.nn.GRUCell), (LSTMCell, torch.nn.LSTMCell)])
def test_cells_match_pytorch(cell, ref):
    ours, theirs = cell(5, 6, make_generator()), ref(5, 6)
    with torch.no_grad():
        theirs.weight_ih.copy_(ours.W_x.T)
        theirs.weight_hh.copy_(ours.W_h.T)
        theirs.bias_ih.copy_(ours.b_x if cell is GRUCell else ours.b)
        theirs.bias_hh.copy_(ours.b_h) if cell is GRUCell else theirs.bias_hh.zero_()
    x = torch.randn(3, 5, generator=make_generator(2))
    if cell is LSTMCell:
        h, c = theirs(x)
        assert torch.allclose(ours(x, torch.zeros(3, 12)), torch.cat([h, c], -1), atol=1e-6)
    else:
        assert torch.allclose(ours(x, torch.zeros(3, 6)), theirs(x), atol=1e-6)


def test_recurrent_lm_draws_the_cell_first_then_the_embedding():
    g = make_generator()
    cell = GRUCell(4, 6, g)
    C = torch.randn(V, 4, generator=g)
    m = recurrent_lm("gru", V, 4, 6, make_generator())
    assert torch.equal(m.cell.W_x, cell.W_x) and torch.equal(m.C, C)
    assert m.h0.shape == (1, 6) and recurrent_lm("lstm", V, 4, 6).h0.shape == (1, 12)


def test_bag_of_words_state_dict_keys_are_the_notebooks():
    keys = list(BagOfWords(V, BLOCK, 4, 8).state_dict())
    assert keys == ["tok.weight", "pos.weight", "hidden.weight", "hidden.bias", "out.weight", "out.bias"]


def test_the_notebooks_schedules_are_the_recipes():
    def lr03(s):
        return 0.5 * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * s / 20_000)))  # 03_mlp
    def lr05(s):
        return 1e-3 + 0.5 * (1e-2 - 1e-3) * (1 + math.cos(math.pi * s / 800))  # 05_rnn_gru
    def lr04(s):  # 04_training_dynamics's wn_schedule, as the notebook writes it: the same floats exactly
        warm = min(1.0, (s + 1) / 100)
        return 8e-3 * warm * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * s / 2000)))
    for ref, recipe in ((lr03, RECIPES["mlp"]), (lr05, RECIPES["rnn"])):
        ours = lr_schedule(recipe)
        assert all(abs(ours(s) - ref(s)) < 1e-12 for s in range(0, recipe.steps, 7))
    wavenet = lr_schedule(RECIPES["wavenet"])
    assert all(wavenet(s) == lr04(s) for s in range(RECIPES["wavenet"].steps))
    lr = warmup_cosine(1.0, 10, 110, 0.02)
    assert lr(0) == 0.1 and lr(9) == 1.0 and abs(lr(110) - 0.02) < 1e-12
    assert ramped_cosine(1.0, 0, 10, 0.5)(0) == 1.0  # no ramp without warmup
    bow = lr_schedule(RECIPES["bow"])
    assert bow(0) == 3e-3 and bow(1499) == 3e-3 and bow(1500) == 1e-3
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_schedule(RECIPES["mlp"].replace(schedule="linear"))


def test_the_transformer_recipe_is_the_sweeps_choice():
    sweep = json.loads((REPO_ROOT / "notebooks" / "transformer_sweep.json").read_text())
    chosen = next(r for r in sweep["runs"] if r["name"] == sweep["chosen"])
    assert recipe_from_dict(chosen["recipe"]) == RECIPES["transformer"]


def test_recipes_round_trip_and_are_frozen():
    for r in RECIPES.values():
        assert recipe_from_dict(r.to_dict()) == r
        assert r.type in TYPES and get(r.type).recipe is r
    with pytest.raises(dataclasses.FrozenInstanceError):
        RECIPES["mlp"].lr = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        RECIPES["mlp"].model.n_embd = 1
    with pytest.raises(ValueError, match="unknown recipe fields"):
        recipe_from_dict({**RECIPES["mlp"].to_dict(), "colour": 1})
    with pytest.raises(ValueError, match="no setting"):
        RECIPES["mlp"].replace(n_head=2)  # the MLP has no heads
    r = RECIPES["transformer"].replace(n_head=4, steps=10)
    assert (r.model.n_head, r.steps, r.model.n_embd) == (4, 10, 64)


def test_the_registry_looks_every_type_up():
    assert TYPES == ("bigram", "mlp", "wavenet", "rnn", "gru", "lstm", "bow", "transformer")  # the course's order
    with pytest.raises(KeyError, match="unknown model type 'lstn'"):
        get("lstn")
    assert get("mlp").block_size(RECIPES["mlp"].model, 40) == 3 and get("gru").block_size(RECIPES["gru"].model, 40) == 41
    assert get("transformer").block_size(RECIPES["transformer"].model, 200) == 64  # longer items: windows
    assert get("gru").block_size(RECIPES["gru"].model, 15) == 16  # the names: the longest and its boundary


def test_each_family_checks_its_own_settings():
    from utils.models import SettingError

    cases = {"wavenet": dict(block_size=6), "transformer": dict(n_embd=30, n_head=4), "bigram": dict(alpha=-1.0)}
    for t, bad in cases.items():
        with pytest.raises(SettingError) as err:
            get(t).check(RECIPES[t].replace(**bad).model)
        assert err.value.field in bad and ";" in err.value.message  # what is wrong; what to do
        get(t).check(RECIPES[t].model)  # the recipe's own settings pass


def test_the_transformer_sweep_decides_muon_only_on_a_margin_above_the_spread():
    from scripts import sweep_transformer as sw

    def run(name, optimizer, dev, seed):
        return {"name": f"{sw.FINAL}{name}, seed {seed}", "dev": dev, "recipe": {"optimizer": optimizer, "seed": seed}}

    def final(adamw, muon):
        return ([run("a", "adamw-matrices", d, s) for d, s in zip(adamw, sw.SEEDS, strict=True)]
                + [run("m", "muon", d, s) for d, s in zip(muon, sw.SEEDS, strict=True)])

    wins = sw.decide(final([1.950, 1.952, 1.948], [1.935, 1.937, 1.933]))
    assert wins["winner"] == "final: m" and wins["margin"] == 0.015 and wins["spread"] == 0.004
    assert wins["chosen"] == f"final: m, seed {sw.SEED}"
    tie = sw.decide(final([1.950, 1.960, 1.940], [1.945, 1.955, 1.935]))
    assert tie["winner"] == "final: a"  # margin 0.005 < spread 0.02: the simpler AdamW
    assert sw.decide(final([1.95, 1.95, 1.95], [1.94, 1.94, 1.94])[:-1]) == {}  # a seed missing: no verdict yet


def test_the_sweeps_muon_verdict_is_the_packaged_recipes():
    sweep = json.loads((REPO_ROOT / "notebooks" / "transformer_sweep.json").read_text())
    final = sweep["final"]
    assert final and set(final["recipes"]) == {final["winner"], *final["recipes"]}
    muon_won = RECIPES["transformer"].optimizer == "muon"
    assert muon_won == (final["margin"] > final["spread"])
    trials = json.loads((REPO_ROOT / "notebooks" / "muon_trials.json").read_text())
    for t, v in trials["verdicts"].items():  # 05's recurrent models adopt Muon only where it won by more than the spread
        assert (RECIPES[t].optimizer == "muon") == (v["verdict"] == "muon"), (t, v)
    # what notebook 05's "Try next" says of them: lower on average, by less than the spread
    assert all(0 < v["margin"] <= v["spread"] and v["verdict"] == "tie" for v in trials["verdicts"].values())
