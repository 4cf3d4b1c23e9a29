"""utils.muon: the Newton–Schulz orthogonalisation, the Muon + AdamW optimiser, and which parameters it takes."""

import copy

import pytest
import torch
import torch.nn as nn

from utils.models import RECIPES, build
from utils.muon import MuonAdamW, hidden_matrices, muon_adamw, newton_schulz
from utils.train import make_optimizer


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("shape", [(16, 48), (48, 16), (32, 32)])
def test_newton_schulz_keeps_the_singular_vectors_and_brings_the_singular_values_near_one(shape):
    G = torch.randn(*shape, generator=gen())
    U, S, Vh = torch.linalg.svd(G, full_matrices=False)
    X = newton_schulz(G)
    assert X.shape == G.shape and X.dtype == torch.float32
    inner = U.T @ X @ Vh.T  # diagonal if X = U S' Vᵀ
    off = inner - torch.diag(torch.diagonal(inner))
    assert off.abs().max() < 1e-3
    s = torch.diagonal(inner)
    assert 0.6 < s.min() and s.max() < 1.2, s  # the quintic settles in a band around 1, not at 1
    assert S.max() / S.min() > 3  # ... from singular values that were far apart


def test_newton_schulz_of_a_batch_is_each_matrix_on_its_own():
    G = torch.randn(3, 8, 24, generator=gen(1))
    together = newton_schulz(G)
    assert all(torch.allclose(together[i], newton_schulz(G[i]), atol=1e-6) for i in range(3))


def test_a_muon_step_matches_torch_optim_muon():
    """torch.optim.Muon orthogonalises in bfloat16 (about 3 significant digits), this one in float32."""
    W = torch.randn(32, 96, generator=gen(2))
    mine, theirs = nn.Parameter(W.clone()), nn.Parameter(W.clone())
    a = MuonAdamW([{"params": [mine], "muon": True}], lr=0.02, weight_decay=0.1)
    b = torch.optim.Muon([theirs], lr=0.02, weight_decay=0.1, adjust_lr_fn="match_rms_adamw")
    for step in range(3):
        g = torch.randn(32, 96, generator=gen(10 + step))
        mine.grad, theirs.grad = g.clone(), g.clone()
        a.step()
        b.step()
    moved = (theirs - W).abs().max()
    assert (mine - theirs).abs().max() < 0.02 * moved


def test_the_adamw_groups_are_pytorchs_adamw():
    p = nn.Parameter(torch.randn(10, generator=gen(3)))
    q = nn.Parameter(p.detach().clone())
    a = MuonAdamW([{"params": [p], "weight_decay": 0.1}], lr=0.01)
    b = torch.optim.AdamW([q], lr=0.01, betas=(0.9, 0.99), weight_decay=0.1, fused=True)
    for step in range(4):
        g = torch.randn(10, generator=gen(20 + step))
        p.grad, q.grad = g.clone(), g.clone()
        a.step()
        b.step()
    assert torch.equal(p, q)


def test_the_update_has_about_adamws_rms():
    W = nn.Parameter(torch.zeros(64, 256))
    W.grad = torch.randn(64, 256, generator=gen(4))
    MuonAdamW([{"params": [W], "muon": True, "momentum": 0.0}], lr=1.0).step()
    rms = W.detach().pow(2).mean().sqrt()
    assert 0.1 < rms < 0.25, rms  # AdamW's first steps move each entry by about lr; its typical RMS is 0.2–0.3


def test_which_parameters_muon_takes():
    gpt = build(RECIPES["transformer"], 27, 16, gen())
    hidden = hidden_matrices(gpt)
    assert len(hidden) == 4 * gpt_blocks(gpt) and all(p.dim() == 2 for p in hidden)
    ids = {id(p) for p in hidden}
    assert id(gpt.tok.weight) not in ids and id(gpt.pos.weight) not in ids and id(gpt.head.weight) not in ids
    gru = build(RECIPES["gru"], 27, 16, gen())
    assert {id(p) for p in hidden_matrices(gru)} == {id(gru.cell.W_x), id(gru.cell.W_h)}


def gpt_blocks(gpt):
    return len(gpt.blocks)


@pytest.mark.parametrize("t", ["transformer", "wavenet", "gru"])
def test_the_packaged_optimizer_takes_every_parameter_once(t):
    model = build(RECIPES[t], 27, 16, gen())
    opt = make_optimizer(RECIPES[t].replace(optimizer="muon"), model)
    grouped = [id(p) for g in opt.param_groups for p in g["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())
    assert any(g["muon"] for g in opt.param_groups)
    assert all(g["weight_decay"] == 0 for g in opt.param_groups if any(p.dim() < 2 for p in g["params"]))


def test_a_continued_optimizer_state_gives_the_uninterrupted_result():
    model = build(RECIPES["transformer"].replace(n_embd=16, n_layer=1, dropout=0.0), 27, 8, gen())
    twin = copy.deepcopy(model)
    x = torch.randint(1, 27, (4, 8), generator=gen(5))

    def steps(m, opt, n):
        for _ in range(n):
            opt.zero_grad()
            m(x).logsumexp(-1).mean().backward()
            opt.step()

    whole = muon_adamw(model, 0.01, 0.1)
    steps(model, whole, 4)
    first = muon_adamw(twin, 0.01, 0.1)
    steps(twin, first, 2)
    second = muon_adamw(twin, 0.01, 0.1)
    second.load_state_dict(copy.deepcopy(first.state_dict()))
    steps(twin, second, 2)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), twin.parameters(), strict=True))


def test_bad_settings_are_refused():
    W = nn.Parameter(torch.zeros(4, 4))
    with pytest.raises(ValueError, match="momentum"):
        MuonAdamW([{"params": [W], "muon": True}], lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="ns_steps"):
        MuonAdamW([{"params": [W], "muon": True}], lr=0.1, ns_steps=0)
    with pytest.raises(ValueError, match="2-D"):
        MuonAdamW([{"params": [nn.Parameter(torch.zeros(4))], "muon": True}], lr=0.1)
