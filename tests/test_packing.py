"""utils.packing and utils.models.transformer: words packed into rows compute exactly as padded rows (06_transformer)."""

import pytest
import torch

from utils.data import IGNORE_INDEX, Vocab, padded_sequences
from utils.device import make_generator
from utils.models import RECIPES
from utils.models.transformer import GPT, Dropout, init_gpt
from utils.packing import PackRows, best_fit, pack_rows, segment_positions
from utils.run import fit, prepare
from utils.train import lm_loss, make_optimizer, make_sampler, train, warmup_cosine

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "charlotte", "amelia", "zoe", "al", "x", "bo"]
VOCAB = Vocab.from_words(WORDS)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _model(dropout=0.0, seed=0):
    model = GPT(len(VOCAB), 10, n_embd=16, n_head=2, n_layer=2, dropout=dropout)
    init_gpt(model, torch.Generator().manual_seed(seed), 2)
    with torch.no_grad():  # larger weights than GPT-2's init, so that a wrong mask would show
        for p in model.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=torch.Generator().manual_seed(seed + 1)))
    return model.eval()


def test_best_fit_places_every_item_without_overlap_and_is_deterministic():
    lengths = [5, 9, 2, 7, 7, 1, 10, 3, 4, 6]
    where = best_fit(lengths, 10)
    assert where == best_fit(lengths, 10)
    slots = set()
    for n, (r, o) in zip(lengths, where, strict=True):
        assert 0 <= o and o + n <= 10
        cells = {(r, o + i) for i in range(n)}
        assert not cells & slots
        slots |= cells
    assert 1 + max(r for r, _ in where) == 6  # 54 slots: 6 rows of 10 is the fewest possible
    with pytest.raises(ValueError, match="between 1 and row_len"):
        best_fit([11], 10)
    with pytest.raises(ValueError, match="positive integer"):
        best_fit([1], 0)


def test_pack_rows_keeps_every_word_whole_and_every_target_once():
    X, Y = padded_sequences(WORDS, VOCAB, 9)  # (12, 10)
    Xp, Yp = pack_rows(X, Y, 16)
    assert Xp.shape[1] == 16 and Xp.shape[0] < X.shape[0]
    assert (Yp != IGNORE_INDEX).sum() == (Y != IGNORE_INDEX).sum()
    assert sorted(Yp[Yp != IGNORE_INDEX].tolist()) == sorted(Y[Y != IGNORE_INDEX].tolist())
    # every word appears whole: the boundary token, its characters, with its targets after it
    found = []
    for row_x, row_y in zip(Xp.tolist(), Yp.tolist(), strict=True):
        t = 0
        while t < 16:
            if row_y[t] == IGNORE_INDEX:
                assert row_x[t] == 0  # filler
                t += 1
                continue
            assert row_x[t] == 0  # a word starts with the boundary token
            end = row_y.index(0, t)  # its end token
            found.append(VOCAB.decode(row_x[t + 1 : end + 1]))
            assert row_y[t : end + 1] == row_x[t + 1 : end + 1] + [0]
            t = end + 1
    assert sorted(found) == sorted(WORDS)
    with pytest.raises(ValueError, match="prefix"):
        pack_rows(X, torch.where(torch.arange(10) == 0, IGNORE_INDEX, Y), 16)


def test_segment_positions_restart_at_each_word_and_mask_is_block_diagonal_causal():
    idx = torch.tensor([[0, 5, 1, 0, 3, 0, 0]])
    pos, mask = segment_positions(idx)
    assert pos.tolist() == [[0, 1, 2, 0, 1, 0, 0]]
    expected = torch.zeros(7, 7, dtype=torch.bool)
    for a, b in [(0, 3), (3, 5), (5, 6), (6, 7)]:
        expected[a:b, a:b] = torch.tril(torch.ones(b - a, b - a, dtype=torch.bool))
    assert torch.equal(mask[0], expected)
    pos, mask = segment_positions(torch.tensor([[4, 5, 6]]))  # no boundary: one word from the start
    assert pos.tolist() == [[0, 1, 2]] and torch.equal(mask[0], torch.tril(torch.ones(3, 3, dtype=torch.bool)))


@pytest.mark.parametrize("fused", [True, False])
def test_packed_loss_equals_padded_loss_on_the_same_words(fused):
    model = _model()
    model.use_fused_attention(fused)
    X, Y = padded_sequences(WORDS, VOCAB, 9)
    Xp, Yp = PackRows(16)(X, Y)
    with torch.no_grad():
        padded, packed = lm_loss(model(X), Y).item(), lm_loss(model(Xp), Yp).item()
    assert padded == pytest.approx(packed, abs=1e-5)
    # and word by word: each word's logits in its packed row are those of its padded row
    where = best_fit([len(w) + 1 for w in WORDS], 16)
    with torch.no_grad():
        logits_p, logits_x = model(Xp), model(X)
    for i, (w, (r, o)) in enumerate(zip(WORDS, where, strict=True)):
        n = len(w) + 1
        assert torch.equal(Xp[r, o : o + n], X[i, :n])
        assert torch.allclose(logits_p[r, o : o + n], logits_x[i, :n], atol=1e-5)


def test_a_word_never_sees_its_neighbours_in_the_row():
    model = _model()
    X, Y = padded_sequences(["emma", "zoe"], VOCAB, 4)
    row = torch.cat([X[0, :5], X[1, :4]])[None]  # (1, 9): ".emma" then ".zoe"
    other = row.clone()
    other[0, 1:5] = torch.tensor(VOCAB.encode("bobo"))  # change the first word only
    with torch.no_grad():
        a, b = model(row), model(other)
    assert torch.allclose(a[0, 5:], b[0, 5:], atol=1e-6)  # the second word did not notice
    assert not torch.allclose(a[0, 1:5], b[0, 1:5])


def test_fused_and_written_out_attention_agree():
    model = _model()
    X, Y = padded_sequences(WORDS, VOCAB, 9)
    Xp, _ = pack_rows(X, Y, 16)
    with torch.no_grad():
        fused = model(Xp)
        model.use_fused_attention(False)
        ours = model(Xp)
    assert torch.allclose(fused, ours, atol=1e-5)
    assert all(b.attn.weights.shape == (Xp.shape[0], 2, 16, 16) for b in model.blocks)


def test_train_with_batch_fn_draws_the_same_batches():
    X, Y = padded_sequences(WORDS, VOCAB, 9)
    seen = []

    def spy(xb, yb):
        seen.append(xb.clone())
        return xb, yb

    class Record(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(len(VOCAB)))
            self.inputs = []

        def forward(self, x):
            self.inputs.append(x.clone())
            return self.w.expand(*x.shape, len(VOCAB))

    plain = Record()
    train(plain, X, Y, optimizer=torch.optim.SGD(plain.parameters(), lr=0.1), steps=3, generator=make_generator(),
          batch_size=4, progress=False)
    spied = Record()
    train(spied, X, Y, optimizer=torch.optim.SGD(spied.parameters(), lr=0.1), steps=3, generator=make_generator(),
          batch_size=4, progress=False, batch_fn=spy)
    assert all(torch.equal(a, b) for a, b in zip(plain.inputs, seen, strict=True))
    packed = Record()
    train(packed, X, Y, optimizer=torch.optim.SGD(packed.parameters(), lr=0.1), steps=3, generator=make_generator(),
          batch_size=4, progress=False, batch_fn=PackRows(20))
    assert all(p.shape[1] == 20 and p.shape[0] < 4 for p in packed.inputs)


def test_warmup_cosine_and_fitting_a_transformer_recipe():
    lr = warmup_cosine(1.0, 10, 110, 0.02)
    assert lr(0) == pytest.approx(0.1) and lr(9) == pytest.approx(1.0)
    assert lr(10) == pytest.approx(1.0) and lr(110) == pytest.approx(0.02)
    recipe = RECIPES["transformer"].replace(n_embd=16, n_head=2, n_layer=1, dropout=0.1, lr=1e-2, steps=5, batch=4,
                                            warmup=2, floor=0.1, weight_decay=0.1, row_len=16, sampling="random",
                                            seed=3, eval_every=5)
    p = prepare(recipe, WORDS)

    def losses(r):
        p.recipe = r
        return fit(p, progress=False)[1].step_loss

    h1 = losses(recipe)
    assert h1 == losses(recipe)  # seeded: weights, batches and dropout masks
    h3 = losses(recipe.replace(sampling="passes"))
    assert h3 == losses(recipe.replace(sampling="passes")) != h1  # other batches, as seeded
    with pytest.raises(ValueError, match="unknown sampling"):
        make_sampler(recipe.replace(sampling="sorted"), 10)
    opt = make_optimizer(recipe.replace(optimizer="adamw-matrices"), GPT(len(VOCAB), 10, 16, 2, 1))
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer(recipe.replace(optimizer="lion"), GPT(len(VOCAB), 10, 16, 2, 1))


def test_dropout_drops_one_byte_in_256_per_unit_of_rate_and_keeps_the_mean():
    drop = Dropout(0.05)
    assert drop.cut == 13 and drop.p == 13 / 256
    x = torch.ones(200_000)
    torch.manual_seed(0)
    y = drop(x)
    zeroed = (y == 0).float().mean().item()
    assert abs(zeroed - 13 / 256) < 0.003 and abs(y.mean().item() - 1.0) < 0.01
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 256 / 243))  # survivors scaled by 1 / (1 - p)
    torch.manual_seed(0)
    assert torch.equal(drop(x), y)  # seeded by PyTorch's global generator
    assert not torch.equal(drop(x), y)  # and a fresh mask on every call
    drop.eval()
    assert drop(x) is x
    assert Dropout(0.0)(x) is x and Dropout(0.001).cut == 0  # below 1/512: nothing to drop
    assert Dropout(0.9999).cut == 255  # at most 255/256, so some activations always survive
    for p in (-0.1, 1.0):
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            Dropout(p)


def test_dropout_masks_the_gradient_and_keeps_odd_shapes():
    x = torch.randn(3, 5, 7, requires_grad=True)  # 105 activations: not a multiple of 8
    torch.manual_seed(1)
    y = Dropout(0.5)(x)
    y.sum().backward()
    kept = y.detach() != 0
    assert y.shape == x.shape and 0 < int(kept.sum()) < 105
    assert torch.allclose(x.grad, kept.float() * 2.0)  # rate 128/256: survivors doubled, the rest get no gradient
