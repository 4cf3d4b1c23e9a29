"""utils.train: the loss, the evaluation and the training loop packaged by 03_mlp (reused by 04–06)."""

import math

import pytest
import torch
import torch.nn.functional as F

from utils.data import IGNORE_INDEX
from utils.device import make_generator
from utils.train import History, ShuffledPasses, evaluate, lm_loss, train

V = 5


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


class Tiny(torch.nn.Module):
    """An embedding → logits model for (B, k) windows: the smallest model of the 03_mlp kind."""

    def __init__(self, k: int = 2, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.C = torch.nn.Parameter(torch.randn(V, 3, generator=g))
        self.W = torch.nn.Parameter(torch.randn(3 * k, V, generator=g) * 0.1)

    def forward(self, x):
        return self.C[x].view(x.shape[0], -1) @ self.W


def _data(n=64, k=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    X = torch.randint(0, V, (n, k), generator=g)
    Y = (X.sum(1) % V).long()  # learnable: the next token is a function of the window
    return X, Y


def _manual_nll(logits, targets):
    """Mean of -log softmax(logits)[target] over the targets that are not IGNORE_INDEX, in float64."""
    logp = torch.log_softmax(logits.double().reshape(-1, logits.shape[-1]), -1)
    t = targets.reshape(-1)
    keep = t != IGNORE_INDEX
    return -logp[keep.nonzero().squeeze(1), t[keep]].mean().item()


# --- lm_loss -----------------------------------------------------------------------------------------


def test_lm_loss_matches_manual_nll_for_one_step_logits():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(7, V, generator=g)
    y = torch.tensor([0, 1, 2, 3, 4, 0, 1])
    assert lm_loss(logits, y).item() == pytest.approx(_manual_nll(logits, y), abs=1e-6)
    assert lm_loss(logits, y, reduction="sum").item() == pytest.approx(7 * _manual_nll(logits, y), abs=1e-5)


def test_lm_loss_on_sequences_skips_ignored_targets():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, V, generator=g)
    y = torch.tensor([[1, 2, 0, IGNORE_INDEX], [3, 0, IGNORE_INDEX, IGNORE_INDEX]])
    expected = _manual_nll(logits, y)  # 5 real targets
    assert lm_loss(logits, y).item() == pytest.approx(expected, abs=1e-6)
    # the logits at ignored positions do not matter at all
    changed = logits.clone()
    changed[0, 3] += 100.0
    changed[1, 2:] = -50.0
    assert lm_loss(changed, y).item() == pytest.approx(expected, abs=1e-6)
    assert lm_loss(logits, y, reduction="sum").item() == pytest.approx(5 * expected, abs=1e-5)


def test_lm_loss_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"logits \(4, 5\) and targets \(3,\) do not match"):
        lm_loss(torch.zeros(4, V), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="without its last"):
        lm_loss(torch.zeros(2, 3, V), torch.zeros(2, 4, dtype=torch.long))


# --- evaluate ----------------------------------------------------------------------------------------


def test_evaluate_is_the_mean_over_the_whole_set_in_any_batch_size():
    X, Y = _data(n=37)
    model = Tiny()
    with torch.no_grad():
        expected = _manual_nll(model(X), Y)
    for bs in (1, 5, 36, 37, 4096):
        assert evaluate(model, X, Y, batch_size=bs) == pytest.approx(expected, abs=1e-5)


def test_evaluate_weighs_every_unmasked_character_equally():
    # batches with different numbers of real targets: the result is per character, not per batch
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(4, 3, V, generator=g)
    Y = torch.tensor([[1, IGNORE_INDEX, IGNORE_INDEX], [2, 3, 4], [0, IGNORE_INDEX, IGNORE_INDEX], [1, 1, 0]])
    X = torch.arange(4)

    def model(x):
        return logits[x]

    expected = _manual_nll(logits, Y)
    assert evaluate(model, X, Y, batch_size=1) == pytest.approx(expected, abs=1e-5)
    assert evaluate(model, X, Y, batch_size=3) == pytest.approx(expected, abs=1e-5)


def test_evaluate_uses_eval_mode_and_restores_the_mode():
    seen = []

    class Spy(Tiny):
        def forward(self, x):
            seen.append(self.training)
            return super().forward(x)

    X, Y = _data(n=10)
    model = Spy()
    model.train()
    evaluate(model, X, Y, batch_size=4)
    assert seen == [False, False, False] and model.training
    model.eval()
    evaluate(model, X, Y)
    assert not model.training


def test_evaluate_needs_no_gradients_and_rejects_bad_data():
    grad_modes = []

    class Spy(Tiny):
        def forward(self, x):
            grad_modes.append(torch.is_grad_enabled())
            return super().forward(x)

    X, Y = _data(n=8)
    model = Spy()
    evaluate(model, X, Y, batch_size=4)
    assert grad_modes == [False, False], "every forward pass of evaluate() must run without autograd"
    assert torch.is_grad_enabled(), "evaluate() must leave autograd on for the caller"
    with pytest.raises(ValueError, match="same, non-zero number of examples, got 8 and 7"):
        evaluate(model, X, Y[:7])
    with pytest.raises(ValueError, match="got 0 and 0"):
        evaluate(model, X[:0], Y[:0])


# --- train -------------------------------------------------------------------------------------------


def _train(steps=50, seed=7, **kw):
    X, Y = _data()
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    h = train(model, X, Y, optimizer=opt, steps=steps, generator=make_generator(seed), batch_size=8, progress=False, **kw)
    return model, h


def test_train_is_deterministic_for_a_seed_and_learns():
    m1, h1 = _train()
    m2, h2 = _train()
    assert h1.step_loss == h2.step_loss
    assert all(torch.equal(a, b) for a, b in zip(m1.parameters(), m2.parameters(), strict=True))
    _, h3 = _train(seed=8)
    assert h3.step_loss != h1.step_loss
    assert len(h1.step_loss) == 50 and h1.seconds > 0
    X, Y = _data()
    assert evaluate(m1, X, Y) < evaluate(Tiny(), X, Y) - 0.2


def test_train_is_the_hand_written_loop():
    """The same batches and the same SGD update as the loop 03_mlp writes out by hand."""
    X, Y = _data()
    model, h = _train(steps=20)
    ref = Tiny()
    g = make_generator(7)
    losses = []
    for _ in range(20):
        ix = torch.randint(0, X.shape[0], (8,), generator=g)
        loss = F.cross_entropy(ref(X[ix]), Y[ix])
        for p in ref.parameters():
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in ref.parameters():
                p -= 0.5 * p.grad
        losses.append(loss.item())
    assert h.step_loss == pytest.approx(losses, abs=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(model.parameters(), ref.parameters(), strict=True))


def test_lr_schedule_is_applied_at_every_step():
    _, h = _train(steps=6, lr_schedule=lambda step: 0.1 * (step + 1))
    assert h.lr == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    # a zero learning rate leaves the parameters where they started
    frozen, h0 = _train(steps=5, lr_schedule=lambda step: 0.0)
    assert all(torch.equal(a, b) for a, b in zip(frozen.parameters(), Tiny().parameters(), strict=True))
    assert h0.lr == [0.0] * 5
    # without a schedule the optimizer's own learning rate is recorded
    _, hc = _train(steps=3)
    assert hc.lr == [0.5, 0.5, 0.5]


def test_dev_is_evaluated_every_eval_every_steps_and_at_the_end():
    Xd, Yd = _data(n=20, seed=5)
    model, h = _train(steps=25, dev=(Xd, Yd), eval_every=10)
    assert h.dev_steps == [10, 20, 25]
    assert len(h.dev_loss) == 3
    assert h.dev_loss[-1] == pytest.approx(evaluate(model, Xd, Yd), abs=1e-6)
    assert model.training  # back in training mode after each evaluation
    _, none = _train(steps=5)
    assert none.dev_steps == [] and none.dev_loss == []


def test_continuing_a_history_counts_steps_globally():
    X, Y = _data()
    Xd, Yd = _data(n=20, seed=5)
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    g = make_generator(7)
    steps_seen = []

    def schedule(step):
        steps_seen.append(step)
        return 0.5

    kw = dict(optimizer=opt, generator=g, batch_size=8, progress=False, lr_schedule=schedule, dev=(Xd, Yd), eval_every=4)
    h = train(model, X, Y, steps=6, **kw)
    seconds = h.seconds
    h2 = train(model, X, Y, steps=4, history=h, **kw)
    assert h2 is h
    assert steps_seen == list(range(10))
    assert len(h.step_loss) == 10 and h.dev_steps == [4, 6, 8, 10]
    assert h.seconds > seconds
    # ... and matches one uninterrupted run of 10 steps
    _, whole = _train(steps=10)
    assert h.step_loss == whole.step_loss


def test_train_handles_sequence_models_with_masked_targets():
    class Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.E = torch.nn.Parameter(torch.zeros(V, V))

        def forward(self, x):
            return self.E[x]  # (B, T, V)

    X = torch.tensor([[0, 1, 2], [0, 3, 0]])
    Y = torch.tensor([[1, 2, 0], [3, 0, IGNORE_INDEX]])
    model = Seq()
    h = train(model, X, Y, optimizer=torch.optim.SGD(model.parameters(), lr=1.0), steps=3,
              generator=make_generator(), batch_size=2, progress=False)
    assert h.step_loss[0] == pytest.approx(math.log(V), abs=1e-6)  # all-zero logits: uniform
    assert h.step_loss[-1] < h.step_loss[0]


def test_mismatched_data_and_bad_arguments_are_clear_errors():
    X, Y = _data()
    model = Tiny()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    kw = dict(optimizer=opt, generator=make_generator(), progress=False)
    with pytest.raises(ValueError, match="same, non-zero number of examples, got 64 and 63"):
        train(model, X, Y[:-1], steps=1, **kw)
    for bad in (-1, 1.5, True, "10"):
        with pytest.raises(ValueError, match=f"steps must be a non-negative integer, got {bad!r}"):
            train(model, X, Y, steps=bad, **kw)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        train(model, X, Y, steps=1, batch_size=0, **kw)
    with pytest.raises(ValueError, match="eval_every must be a positive integer, got 0"):
        train(model, X, Y, steps=1, eval_every=0, dev=(X, Y), **kw)
    assert train(model, X, Y, steps=0, **kw).step_loss == []


def test_a_diverging_loss_stops_training_with_advice():
    X, Y = _data()
    model = Tiny()
    with torch.no_grad():
        model.W.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="the loss became nan at step 0: lower the learning rate"):
        train(model, X, Y, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), steps=3,
              generator=make_generator(), progress=False)


def test_history_smoothed_averages_blocks_and_drops_a_partial_block():
    h = History(step_loss=[1.0, 3.0, 2.0, 4.0, 10.0])
    assert h.smoothed(2).tolist() == [2.0, 3.0]
    assert h.smoothed(5).tolist() == [4.0]
    assert h.smoothed(10).tolist() == [1.0, 3.0, 2.0, 4.0, 10.0]  # fewer steps than one block: as they are


# --- shuffled passes ---------------------------------------------------------------------------------


def test_shuffled_passes_show_every_example_once_per_pass():
    n, batch = 23, 5  # 4 whole batches per pass; 3 examples of each order wait for a later pass
    passes = ShuffledPasses(n, batch, seed=11)
    assert passes.per_pass == 4
    for e in range(3):
        seen = torch.cat([passes(e * 4 + k) for k in range(4)])
        order = torch.randperm(n, generator=torch.Generator().manual_seed(11 + e))
        assert torch.equal(seen, order[:20]) and len(set(seen.tolist())) == 20  # no example twice in a pass
    counts = torch.bincount(torch.cat([passes(s) for s in range(4 * 40)]), minlength=n)
    assert int(counts.min()) > 0 and int(counts.max() - counts.min()) <= 12  # every example, about equally
    assert not torch.equal(passes(0), passes(4))  # each pass has its own order


def test_shuffled_passes_depend_on_the_step_alone():
    a, b = ShuffledPasses(50, 8, seed=3), ShuffledPasses(50, 8, seed=3)
    walk = [a(s).tolist() for s in range(20)]
    assert [b(s).tolist() for s in reversed(range(20))][::-1] == walk  # any order of asking, same batches
    assert [ShuffledPasses(50, 8, seed=3)(s).tolist() for s in (13, 0)] == [walk[13], walk[0]]
    assert ShuffledPasses(50, 8, seed=4)(0).tolist() != walk[0]


def test_shuffled_passes_reject_bad_arguments():
    for n, batch in ((0, 1), (5, 0), (5, True), (5.0, 2)):
        with pytest.raises(ValueError, match="positive integer"):
            ShuffledPasses(n, batch, seed=0)
    with pytest.raises(ValueError, match="does not fit"):
        ShuffledPasses(4, 5, seed=0)


def test_train_takes_its_batches_from_the_sampler():
    X, Y = _data(n=40)
    seen = []

    class Record(Tiny):
        def forward(self, x):
            seen.append(x.clone())
            return super().forward(x)

    passes = ShuffledPasses(40, 8, seed=5)
    g = make_generator(7)
    state = g.get_state()
    h = train(Record(), X, Y, optimizer=torch.optim.SGD(Record().parameters(), lr=0.1), steps=3, generator=g,
              batch_size=8, progress=False, sampler=passes)
    assert all(torch.equal(x, X[passes(s)]) for s, x in enumerate(seen))
    assert torch.equal(g.get_state(), state)  # the generator is not drawn from
    # continuing a history asks the sampler for the global step
    seen.clear()
    train(Record(), X, Y, optimizer=torch.optim.SGD(Record().parameters(), lr=0.1), steps=2, generator=g,
          batch_size=8, progress=False, sampler=passes, history=h)
    assert torch.equal(seen[0], X[passes(3)]) and torch.equal(seen[1], X[passes(4)])
