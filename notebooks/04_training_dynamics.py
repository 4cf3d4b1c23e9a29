# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 04 — Training deeper networks: activations, initialisation, normalisation, backprop, optimisers
#
# The MLP of notebook 03 has one hidden layer, and it trains with plain gradient descent. Stack five
# such layers and the same recipe starts to fail in quiet ways: activations shrink or saturate layer
# after layer, gradients reach the first layers too weak or too strong, and one learning rate cannot
# suit every layer. The recurrent networks and the Transformer that follow lean on the cures —
# careful initialisation, layer norm, AdamW, gradient clipping, learning-rate warmup — so this
# notebook opens each of them before they are used.
#
# **What you will build**
# - a deep tanh MLP, and the instruments that diagnose it: the loss at initialisation, histograms of
#   activations and gradients per layer, saturated units, and the update-to-data ratio per layer;
# - initialisation with std = gain/√fan_in, measured through the layers, with and without the tanh
#   gain 5/3;
# - BatchNorm (Ioffe & Szegedy, 2015) and LayerNorm (Ba et al., 2016) written out and checked against
#   `nn.BatchNorm1d` and `nn.LayerNorm`;
# - the backward pass of cross-entropy, linear, tanh, BatchNorm and embedding layers by hand, each
#   gradient checked against autograd;
# - SGD, momentum, Adam and AdamW written as update rules, checked against `torch.optim` and
#   compared; gradient clipping and learning-rate warmup where they matter;
# - a WaveNet-style hierarchical model (van den Oord et al., 2016) that fuses characters pairwise
#   over a context of 8 and reaches **dev ≤ 2.00** nats per character (notebook 03's MLP: about 2.09).
#
# **What you need:** [03 — the MLP](03_mlp.ipynb): context windows, the embedding table `C[X]`, a
# tanh hidden layer, `F.cross_entropy`, minibatch SGD, the cosine schedule, and `utils.train.train`.
#
# **Previous:** [03 — the MLP](03_mlp.ipynb) · **Next:** [05 — RNN and GRU](05_rnn_gru.ipynb)

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F

import utils
from utils.data import Vocab, context_windows, load_words, split_words
from utils.device import get_device, make_generator
from utils.exercises import check
from utils.plotting import plot_loss
from utils.results import publish, read_results
from utils.sampling import sample
from utils.train import evaluate, lr_schedule, make_optimizer, train

# One CPU thread, as in every notebook: the same digits on every run (see notebook 00), and our
# matrices are small (a few hundred columns at most), so a second thread would mostly add overhead.
torch.set_num_threads(1)
device = get_device()
words = load_words()
vocab = Vocab.from_words(words)
V = len(vocab)
train_words, dev_words, test_words = split_words(words)
block_size = 3
Xtr, Ytr = context_windows(train_words, vocab, block_size)  # (182625, 3), (182625,)
Xdev, Ydev = context_windows(dev_words, vocab, block_size)  # (22655, 3), (22655,)
print(f"{len(words):,} words · {V} tokens · {len(Xtr):,} / {len(Xdev):,} train / dev windows of {block_size}")
assert (len(Xtr), len(Xdev)) == (182_625, 22_655)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Diagnosing a deep MLP
#
# We write the layers ourselves, as small classes that look like `torch.nn` modules (a `__call__`
# and a `parameters()` list), and each keeps its last output in `.out` so that we can look inside
# after a forward pass. `Linear` initialises its weights with std = gain/√fan_in (section 2 explains
# why); `Tanh` is the non-linearity.

# %%
class Linear:
    """x @ W + b, with W ~ N(0, 1) · gain / √fan_in (gain None: plain N(0, 1), no scaling)."""

    def __init__(self, fan_in, fan_out, *, generator, gain=5 / 3, bias=True):
        scale = 1.0 if gain is None else gain / fan_in**0.5
        self.weight = torch.randn(fan_in, fan_out, generator=generator) * scale  # (fan_in, fan_out)
        self.bias = torch.zeros(fan_out) if bias else None  # (fan_out,)

    def __call__(self, x):  # (B, fan_in) → (B, fan_out)
        self.out = x @ self.weight + (self.bias if self.bias is not None else 0.0)
        return self.out

    def parameters(self):
        return [self.weight] + ([self.bias] if self.bias is not None else [])


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


# %% [markdown] slideshow={"slide_type": "subslide"}
# The deep MLP: an embedding table of 10 numbers per character, then **five** tanh layers of 100
# neurons, then the output layer. `make_deep` builds it; `deep_forward` runs it on a batch of
# windows. The output layer's weights are scaled down by `last_scale`, for a reason we measure next.

# %%
def make_deep(*, gain=5 / 3, last_scale=0.1, depth=5, n_embd=10, n_hidden=100, norm=None, generator):
    """[C, layers]: embedding, `depth` × (Linear [→ norm] → Tanh), output Linear; parameters require grad."""
    C = torch.randn(V, n_embd, generator=generator)  # (27, 10)
    layers, fan_in = [], block_size * n_embd
    for _ in range(depth):
        layers.append(Linear(fan_in, n_hidden, generator=generator, gain=gain, bias=norm is None))
        if norm is not None:
            layers.append(norm(n_hidden))
        layers.append(Tanh())
        fan_in = n_hidden
    layers.append(Linear(fan_in, V, generator=generator, gain=1.0))
    layers[-1].weight *= last_scale  # a less confident output layer
    params = [C] + [p for layer in layers for p in layer.parameters()]
    for p in params:
        p.requires_grad_()
    return C, layers, params


def deep_forward(C, layers, X):
    x = C[X].view(X.shape[0], -1)  # (B, 3) → (B, 3, 10) → (B, 30)
    for layer in layers:
        x = layer(x)
    return x  # (B, 27) logits


C, layers, params = make_deep(generator=make_generator())
print(f"{len(layers)} layers · {sum(p.numel() for p in params):,} parameters")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The loss at initialisation.** Before any training the model knows nothing, so the best it can do
# is give every token the same probability 1/27: a loss of ln 27 ≈ 3.2958. An output layer with
# large weights produces large logits, so its softmax is confidently wrong about most examples, and
# the first steps of training are spent only squashing the logits. We compare plain `randn` output
# weights (std 1, × 10 below), std 1/√fan_in (× 1) and a tenth of that (× 0.1):

# %%
gb = make_generator()
ix = torch.randint(0, len(Xtr), (512,), generator=gb)
Xb, Yb = Xtr[ix], Ytr[ix]  # (512, 3), (512,) one batch for the diagnostics
first_loss = {}
for last_scale in (10.0, 1.0, 0.1):
    Cs, ls, _ = make_deep(last_scale=last_scale, generator=make_generator())
    with torch.no_grad():
        first_loss[last_scale] = F.cross_entropy(deep_forward(Cs, ls, Xb), Yb).item()
    print(f"output weights × {last_scale}: first loss {first_loss[last_scale]:.2f}")
print(f"uniform guess: ln {V} = {math.log(V):.2f}")

# %%
assert abs(first_loss[0.1] - math.log(V)) < 0.1
assert first_loss[1.0] > first_loss[0.1] + 0.1 and first_loss[10.0] > math.log(V) + 5

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Activations per layer.** One forward pass of the batch through the (untrained) model; for each
# tanh layer we look at the distribution of its outputs. A healthy layer spreads its values over
# (−1, 1); a *saturated* unit sits at ±1, where tanh is flat and its gradient 1 − tanh² is almost 0:
# whatever flows back through it is multiplied by nearly nothing.

# %%
# NBVAL_IGNORE_OUTPUT
def tanh_stats(layers, title="", ax=None, attr="out", plot=True):
    """Mean, std and % saturated (|t| > 0.97) of every Tanh's output (or its .out.grad); histograms."""
    ax = ax or (plt.subplots(figsize=(8, 3))[1] if plot else None)
    stats = []
    for i, layer in enumerate(layers):
        if isinstance(layer, Tanh):
            t = layer.out if attr == "out" else layer.out.grad
            t = t.detach()
            stats.append((t.mean().item(), t.std().item(), (t.abs() > 0.97).float().mean().item()))
            if plot:
                counts, edges = torch.histogram(t.flatten(), bins=50, density=True)
                ax.plot(((edges[:-1] + edges[1:]) / 2).tolist(), counts.tolist(), label=f"layer {i}")
    if plot:
        ax.set_title(title)
        ax.legend(fontsize=8)
    return stats


C, layers, params = make_deep(generator=make_generator())
logits = deep_forward(C, layers, Xb)
for layer in layers:
    layer.out.retain_grad()  # keep the gradient of every intermediate output for the next cell
loss = F.cross_entropy(logits, Yb)
loss.backward()
act_stats = tanh_stats(layers, "tanh outputs per layer (gain 5/3, at initialisation)")
plt.show()
for i, (m, s, sat) in enumerate(act_stats, start=1):
    print(f"tanh layer {i}: mean {m:+.2f} · std {s:.2f} · saturated {sat:.1%}")

# %%
stds = [s for _, s, _ in act_stats]
assert all(0.5 < s < 0.85 for s in stds), stds  # every layer keeps a similar spread ...
sats = [sat for _, _, sat in act_stats]
assert sats[0] < 0.25 and max(sats[1:]) < 0.12  # ... and few saturated units past the first

# %% [markdown] slideshow={"slide_type": "subslide"}
# The first layer saturates more than the others: its input, the raw embedding, has std 1, while the
# deeper layers receive tanh outputs with a std near 0.7. Past it, every layer looks alike.

# %% [markdown]
# **Gradients per layer.** The same picture for the gradient of the loss with respect to each tanh
# layer's output. What we want: similar spreads in every layer, so that no layer learns much faster
# or slower than another just because of where it sits.

# %%
# NBVAL_IGNORE_OUTPUT
grad_stats = tanh_stats(layers, "gradient of the loss w.r.t. each tanh output", attr="grad")
plt.show()
for i, (_, s, _) in enumerate(grad_stats, start=1):
    print(f"tanh layer {i}: gradient std {s:.1e}")

# %%
gstds = [s for _, s, _ in grad_stats]
assert max(gstds) / min(gstds) < 3  # within a factor of 3 from the first layer to the last

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The update-to-data ratio.** What changes a weight matrix is not its gradient but the step,
# lr × gradient, and what matters is how large that step is *compared with the weights themselves*.
# We train the deep MLP for 1,000 steps of 32 examples with SGD (lr 0.1) and record, for every
# weight matrix and every step, log₁₀(std(lr · grad) / std(weights)). A rule of thumb from practice:
# around −3 (each step changes the weights by about a thousandth) is healthy; far below, the layer
# barely learns; far above, it is being thrown around.

# %%
# NBVAL_IGNORE_OUTPUT
def train_deep(C, layers, params, steps, *, lr=0.1, batch_size=32, generator, track=False, clip=None):
    """SGD on the deep MLP; returns the step losses and, if track, the log10 update/data ratio per weight."""
    losses, ratios = [], []
    for _ in range(steps):
        ix = torch.randint(0, len(Xtr), (batch_size,), generator=generator)
        loss = F.cross_entropy(deep_forward(C, layers, Xtr[ix]), Ytr[ix])
        for p in params:
            p.grad = None
        loss.backward()
        if clip is not None:  # section 5
            torch.nn.utils.clip_grad_norm_(params, clip)
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
            if track:
                ratios.append([((lr * p.grad).std() / p.std()).log10().item() for p in params if p.ndim == 2])
        losses.append(loss.item())
    return losses, ratios


C, layers, params = make_deep(generator=make_generator())
losses, ratios = train_deep(C, layers, params, 1000, generator=make_generator(), track=True)
ratios = torch.tensor(ratios)  # (1000, 7): C, five hidden weights, output weight
fig, ax = plt.subplots(figsize=(8, 3))
names = ["C", *[f"W{i}" for i in range(1, 6)], "W_out"]
for j, name in enumerate(names):
    ax.plot(ratios[:, j].tolist(), label=name, lw=0.8)
ax.axhline(-3, color="k", ls="--", lw=0.8)
ax.set_xlabel("step")
ax.set_ylabel("log10 update / data")
ax.legend(fontsize=8, ncol=4)
plt.show()
late = ratios[-200:].mean(0)  # (7,) mean of the last 200 steps
print("mean log10 ratio, last 200 steps:", " · ".join(f"{n} {r:.1f}" for n, r in zip(names, late.tolist(), strict=True)))

# %%
hidden = late[1:6]  # (5,) the five hidden weight matrices
assert all(-3.0 < r < -2.0 for r in hidden.tolist()) and hidden.max() - hidden.min() < 0.5, late
assert late[6] > hidden.max() + 0.5  # the (scaled-down) output layer moves fastest

# %% [markdown] slideshow={"slide_type": "subslide"}
# The five hidden layers learn at the same pace, near −2.4 at this learning rate (a little above the
# rule of thumb's −3: lr 0.1 is on the brisk side for this network). The output
# layer sits far higher: its weights were scaled down to a tenth, so the same step is a larger
# fraction of them, until they grow. With these four instruments — first loss, activations, gradients, update ratios — we can now see what
# initialisation does.
#
# ## 2. Initialisation
#
# Why divide by √fan_in? A neuron sums `fan_in` products of its inputs and weights. If both have unit
# variance and are independent, the sum has variance fan_in: without scaling, each layer multiplies
# the spread of its input by √fan_in. Dividing the weights by √fan_in gives the sum unit variance
# again. Measured through ten linear layers of 100 neurons (no non-linearity yet):

# %%
gi = make_generator()
x0 = torch.randn(1000, 100, generator=gi)  # (1000, 100) unit-variance inputs
for scale_name, scale in [("randn", 1.0), ("randn / √fan_in", 100**-0.5)]:
    x, spread = x0, []
    for _ in range(10):
        x = x @ (torch.randn(100, 100, generator=gi) * scale)  # (1000, 100)
        spread.append(x.std().item())
    print(f"{scale_name:<16} std after layers 1, 2, 5, 10: "
          f"{spread[0]:.3g}, {spread[1]:.3g}, {spread[4]:.3g}, {spread[9]:.3g}")
    if scale == 1.0:
        unscaled = spread
    else:
        scaled = spread

# %%
assert 9 < unscaled[0] < 11 and unscaled[9] > 1e9  # ×10 per layer: 10¹⁰ after ten
assert all(0.8 < s < 1.25 for s in scaled)

# %% [markdown] slideshow={"slide_type": "subslide"}
# tanh squashes: a unit-variance input comes out with a smaller spread, and the next layer squashes
# again, so with std = 1/√fan_in the activations fade layer after layer. The **gain** makes up for
# it: 5/3 for tanh (the value `torch.nn.init.calculate_gain("tanh")` returns). Too large a gain
# pushes the units into saturation instead. Here are the five tanh layers of our deep MLP at
# initialisation, for three gains and for no scaling at all:

# %%
# NBVAL_IGNORE_OUTPUT
init_table = {}
fig, axes = plt.subplots(1, 4, figsize=(14, 3), sharey=True)
for ax, (name, gain) in zip(axes, [("gain 1", 1.0), ("gain 5/3", 5 / 3), ("gain 3", 3.0), ("no scaling", None)], strict=True):
    C, layers, _ = make_deep(gain=gain, generator=make_generator())
    with torch.no_grad():
        deep_forward(C, layers, Xb)
    init_table[name] = tanh_stats(layers, name, ax=ax)
plt.show()
print("               std of tanh layers 1 … 5          saturated in layer 5")
for name, st in init_table.items():
    print(f"{name:<11}  {'  '.join(f'{s:.2f}' for _, s, _ in st)}     {st[-1][2]:6.1%}")

# %%
std_of = {name: [s for _, s, _ in st] for name, st in init_table.items()}
assert std_of["gain 1"][-1] < 0.75 * std_of["gain 1"][0]  # gain 1: the spread fades with depth
assert abs(std_of["gain 5/3"][-1] - std_of["gain 5/3"][0]) < 0.1  # 5/3: it holds
assert init_table["gain 3"][-1][2] > 0.25 and init_table["no scaling"][-1][2] > 0.7  # too much: saturation

# %% [markdown] slideshow={"slide_type": "subslide"}
# Does it matter for training? The same 1,000 steps of SGD from each initialisation, then the loss
# on the whole dev split:

# %%
# NBVAL_IGNORE_OUTPUT
@torch.no_grad()
def deep_dev_loss(C, layers):
    return F.cross_entropy(deep_forward(C, layers, Xdev), Ydev).item()


init_dev = {}
for name, gain in [("gain 1", 1.0), ("gain 5/3", 5 / 3), ("no scaling", None)]:
    C, layers, params = make_deep(gain=gain, generator=make_generator())
    train_deep(C, layers, params, 1000, generator=make_generator())
    init_dev[name] = deep_dev_loss(C, layers)
    print(f"{name:<11} dev loss after 1,000 steps: {init_dev[name]:.2f}")

# %%
assert init_dev["gain 5/3"] <= init_dev["gain 1"] + 0.02
assert init_dev["no scaling"] > init_dev["gain 5/3"] + 0.2

# %% [markdown] slideshow={"slide_type": "subslide"}
# Unscaled weights cost dearly: saturated units pass almost no gradient, so most of the network
# cannot learn. Between gain 1 and 5/3 the difference is small at this depth, but it grows with
# every layer added — and finding the right gain for every kind of layer is fragile. Normalisation
# layers remove most of that fragility.
#
# ## 3. Normalisation
#
# ### BatchNorm, written out
#
# Ioffe and Szegedy (2015) proposed to simply *make* the pre-activations unit-Gaussian: for every
# neuron, subtract the mean over the batch and divide by the standard deviation over the batch. A
# learned scale γ and shift β (initialised to 1 and 0) let the network move away from unit Gaussians
# where that helps. At evaluation time there may be no batch (one example at a time), so during
# training the layer also keeps **running** estimates of the mean and variance (an exponential moving
# average with momentum 0.1), and uses those in evaluation.

# %%
class BatchNorm:
    """BatchNorm over every dimension but the last: (B, C) or (B, T, C)."""

    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps, self.momentum, self.training = eps, momentum, True
        self.gamma, self.beta = torch.ones(dim), torch.zeros(dim)  # (C,) learned
        self.running_mean, self.running_var = torch.zeros(dim), torch.ones(dim)  # (C,) buffers

    def __call__(self, x):
        if self.training:
            dims = tuple(range(x.ndim - 1))  # (0,) for (B, C); (0, 1) for (B, T, C)
            mean = x.mean(dims)  # (C,)
            var = x.var(dims, unbiased=False)  # (C,) the batch's own variance normalises it
            n = x.numel() // x.shape[-1]
            with torch.no_grad():  # the running estimates use the unbiased variance, as PyTorch does
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * n / (n - 1)
        else:
            mean, var = self.running_mean, self.running_var
        self.out = self.gamma * (x - mean) / torch.sqrt(var + self.eps) + self.beta
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


# %% [markdown] slideshow={"slide_type": "subslide"}
# Checked against `nn.BatchNorm1d` over three training batches (outputs and running statistics), then
# in evaluation mode:

# %%
gn = make_generator()
ours, theirs = BatchNorm(100), nn.BatchNorm1d(100)
for _ in range(3):
    x = torch.randn(32, 100, generator=gn) * 3 + 1  # (32, 100)
    assert torch.allclose(ours(x), theirs(x), atol=1e-5)
assert torch.allclose(ours.running_mean, theirs.running_mean, atol=1e-6)
assert torch.allclose(ours.running_var, theirs.running_var, atol=1e-6)
ours.training = False
theirs.eval()
x = torch.randn(5, 100, generator=gn)
assert torch.allclose(ours(x), theirs(x), atol=1e-5)
print("training outputs, running mean and variance, evaluation outputs: all agree to within 1e-5")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The price of batch statistics: in training, an example's output depends on the **other examples of
# its batch**. Change the other 31 examples and the first one's output changes; in evaluation, with the
# running statistics, it does not. And a batch of one has no spread to measure: `nn.BatchNorm1d`
# refuses it in training mode.

# %%
bn = nn.BatchNorm1d(100)
a = torch.randn(32, 100, generator=gn)
b = torch.cat([a[:1], torch.randn(31, 100, generator=gn)])  # same first example, other 31 new
bn.train()
train_moved = (bn(a)[0] - bn(b)[0]).abs().max().item()
bn.eval()
eval_moved = (bn(a)[0] - bn(b)[0]).abs().max().item()
print(f"example 0's output changed with its batch-mates: in training {train_moved > 1e-3}, in evaluation {eval_moved > 0}")
bn.train()
try:
    bn(torch.randn(1, 100, generator=gn))
except ValueError as err:
    print("batch of 1 in training:", str(err))

# %%
assert train_moved > 1e-3 and eval_moved == 0.0

# %% [markdown] slideshow={"slide_type": "subslide"}
# Inside the deep MLP, BatchNorm sits between each linear layer and its tanh (the linear layer then
# needs no bias: BatchNorm subtracts it away and β replaces it). Whatever the gain, the tanh inputs
# are unit-Gaussian at initialisation, so the fragile choice of section 2 stops mattering:

# %%
# NBVAL_IGNORE_OUTPUT
bn_table = {}
for name, gain in [("gain 0.5", 0.5), ("gain 5/3", 5 / 3), ("gain 5", 5.0)]:
    C, layers, _ = make_deep(gain=gain, norm=BatchNorm, generator=make_generator())
    with torch.no_grad():
        deep_forward(C, layers, Xb)
    bn_table[name] = [s for _, s, _ in tanh_stats(layers, plot=False)]
    print(f"with BatchNorm, {name:<9} std of tanh layers 1 … 5: {'  '.join(f'{s:.2f}' for s in bn_table[name])}")

# %%
assert all(0.6 < s < 0.7 for stds in bn_table.values() for s in stds)  # the same spread whatever the gain

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### LayerNorm, written out
#
# LayerNorm (Ba, Kiros & Hinton, 2016) normalises each example **over its own features** instead of
# each feature over the batch. The statistics are the example's own, so there is nothing to keep
# running, training and evaluation behave the same, and a batch of one works. For the same reason the
# Transformer of notebook 06 uses it: its examples are sequences of varying length, it generates
# one token at a time, and nothing in a row should depend on the other rows of a batch.

# %%
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(-1, keepdim=True)  # (B, 1) one mean per example
    var = x.var(-1, keepdim=True, unbiased=False)  # (B, 1)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta  # (B, C)


ln = nn.LayerNorm(100)
with torch.no_grad():
    ln.weight.copy_(torch.rand(100, generator=gn))
    ln.bias.copy_(torch.randn(100, generator=gn))
x = torch.randn(32, 100, generator=gn) * 3 + 1  # (32, 100)
assert torch.allclose(layer_norm(x, ln.weight, ln.bias), ln(x), atol=1e-5)
one = layer_norm(x[:1], ln.weight, ln.bias)  # (1, 100): a batch of one is fine
assert torch.allclose(one, ln(x)[:1], atol=1e-6)  # and an example's output ignores its batch-mates
print("layer_norm agrees with nn.LayerNorm to within 1e-5; a batch of one gives the same row as the full batch")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Backpropagation by hand
#
# `loss.backward()` has done all our gradients so far. Here we do its work ourselves for a
# two-layer network with every piece we use: embedding → linear → BatchNorm → tanh → linear →
# cross-entropy. The forward pass is spelled out one operation per line, and every intermediate
# keeps its gradient (`retain_grad`) so that we can compare. We work in double precision, so any
# disagreement would be a mistake in the derivation, not rounding.

# %%
gbp = make_generator()
n, d, H = 32, 10, 64
Cb = torch.randn(V, d, generator=gbp, dtype=torch.float64)  # (27, 10)
W1 = torch.randn(block_size * d, H, generator=gbp, dtype=torch.float64) * (5 / 3) / (block_size * d) ** 0.5  # (30, 64)
gamma = 1 + 0.1 * torch.randn(H, generator=gbp, dtype=torch.float64)  # (64,)
beta = 0.1 * torch.randn(H, generator=gbp, dtype=torch.float64)  # (64,)
W2 = torch.randn(H, V, generator=gbp, dtype=torch.float64) * 0.1  # (64, 27)
b2 = torch.randn(V, generator=gbp, dtype=torch.float64) * 0.1  # (27,)
bp_params = [Cb, W1, gamma, beta, W2, b2]
for p in bp_params:
    p.requires_grad_()
xb, yb = Xtr[:n], Ytr[:n]  # (32, 3), (32,)

emb = Cb[xb]  # (32, 3, 10)
embcat = emb.view(n, -1)  # (32, 30)
hprebn = embcat @ W1  # (32, 64) no bias: BatchNorm follows
mu = hprebn.mean(0)  # (64,)
var = hprebn.var(0, unbiased=False)  # (64,)
istd = (var + 1e-5) ** -0.5  # (64,)
xhat = (hprebn - mu) * istd  # (32, 64)
hpre = gamma * xhat + beta  # (32, 64)
h = torch.tanh(hpre)  # (32, 64)
logits = h @ W2 + b2  # (32, 27)
loss = F.cross_entropy(logits, yb)
for t in (emb, embcat, hprebn, xhat, hpre, h, logits):
    t.retain_grad()
loss.backward()
print(f"loss {loss.item():.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Cross-entropy.** With p = softmax(logits), the loss of one example is −log p_y. Its derivative with
# respect to the logits is p − onehot(y): push down every probability by how much it is, and pull up
# the correct one by 1. The mean over the batch divides by n.

# %%
dlogits = F.softmax(logits, 1).detach()  # (32, 27)
dlogits[torch.arange(n), yb] -= 1
dlogits /= n
grads = {"logits": (dlogits, logits.grad)}

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Linear.** For y = h @ W2 + b2: dh = dy @ W2ᵀ, dW2 = hᵀ @ dy, db2 = the sum of dy over the batch
# (the bias was broadcast to every row, so its gradient collects from every row). A useful check:
# each gradient has the shape of what it is the gradient of, and there is only one way to multiply
# the shapes to get it.

# %%
dh = dlogits @ W2.detach().T  # (32, 27) @ (27, 64) → (32, 64)
dW2 = h.detach().T @ dlogits  # (64, 32) @ (32, 27) → (64, 27)
db2 = dlogits.sum(0)  # (27,)
grads |= {"h": (dh, h.grad), "W2": (dW2, W2.grad), "b2": (db2, b2.grad)}

# %% [markdown] slideshow={"slide_type": "subslide"}
# **tanh.** d tanh(x)/dx = 1 − tanh(x)², and we already have tanh(x): it is `h`.

# %%
dhpre = (1 - h.detach() ** 2) * dh  # (32, 64)
grads["hpre"] = (dhpre, hpre.grad)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **BatchNorm.** γ and β are easy: dγ = Σ_batch dy · x̂ and dβ = Σ_batch dy. The input is harder,
# because every example's x̂ depends on every example of the batch through μ and σ². Working the
# chain rule through both (or looking it up in Ioffe & Szegedy's paper) and simplifying gives one line:
# dx = γ/σ / n · (n·dy − Σ dy − x̂ · Σ(dy · x̂)), the sums over the batch.

# %%
xh = xhat.detach()
dgamma = (dhpre * xh).sum(0)  # (64,)
dbeta = dhpre.sum(0)  # (64,)
dxhat = gamma.detach() * dhpre  # (32, 64)
dhprebn = istd.detach() / n * (n * dxhat - dxhat.sum(0) - xh * (dxhat * xh).sum(0))  # (32, 64)
grads |= {"gamma": (dgamma, gamma.grad), "beta": (dbeta, beta.grad), "hprebn": (dhprebn, hprebn.grad)}

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The first linear layer and the embedding.** The linear layer is as before. `view` only relabels
# the numbers, so its backward is a `view` back. Indexing `C[X]` copies rows of C, so each row's
# gradient is the **sum** of the gradients of all the places where it was copied to: `index_add_`.

# %%
dW1 = embcat.detach().T @ dhprebn  # (30, 32) @ (32, 64) → (30, 64)
dembcat = dhprebn @ W1.detach().T  # (32, 64) @ (64, 30) → (32, 30)
demb = dembcat.view(n, block_size, d)  # (32, 3, 10)
dC = torch.zeros_like(Cb).index_add_(0, xb.view(-1), demb.view(-1, d))  # (27, 10)
grads |= {"W1": (dW1, W1.grad), "emb": (demb, emb.grad), "C": (dC, Cb.grad)}

# %%
for name, (ours_, autograd_) in grads.items():
    print(f"{name:<7} {str(tuple(ours_.shape)):<10} equals autograd: {torch.allclose(ours_, autograd_, atol=1e-12)}")

# %%
assert all(torch.allclose(o, a, atol=1e-12) for o, a in grads.values())
assert set(grads) >= {"C", "W1", "gamma", "beta", "W2", "b2"}  # every parameter's gradient, by hand

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Optimisers
#
# Our update so far is **SGD**: p ← p − lr·g. Three improvements, each a few lines:
#
# - **Momentum** (Polyak, 1964) keeps a velocity v ← μ·v + g and steps along it: p ← p − lr·v.
#   Directions where successive gradients agree build up speed; directions where they flip cancel.
# - **Adam** (Kingma & Ba, 2015) keeps running means of the gradient, m, and of its square, v, both
#   corrected for starting at zero, and steps by lr · m̂ / (√v̂ + ε): every parameter gets a step
#   of about lr whatever the scale of its gradient.
# - **AdamW** (Loshchilov & Hutter, 2019) adds weight decay as its own step, p ← p − lr·λ·p, instead
#   of adding λ·p to the gradient (which Adam would then divide by √v̂, decaying parameters with
#   large gradients less).

# %%
def sgd_step(p, g, state, lr):
    p -= lr * g


def momentum_step(p, g, state, lr, mu=0.9):
    state["v"] = mu * state.get("v", torch.zeros_like(p)) + g  # (p's shape) velocity
    p -= lr * state["v"]


def adam_step(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    t = state["t"] = state.get("t", 0) + 1
    p -= lr * weight_decay * p  # AdamW's decoupled decay (nothing for weight_decay = 0)
    state["m"] = betas[0] * state.get("m", torch.zeros_like(p)) + (1 - betas[0]) * g
    state["v"] = betas[1] * state.get("v", torch.zeros_like(p)) + (1 - betas[1]) * g**2
    m_hat = state["m"] / (1 - betas[0] ** t)  # corrects the bias of starting at zero
    v_hat = state["v"] / (1 - betas[1] ** t)
    p -= lr * m_hat / (v_hat.sqrt() + eps)


# %% [markdown] slideshow={"slide_type": "subslide"}
# Each rule against its `torch.optim` counterpart: the same small MLP (from the same seed, in double
# precision), the same five batches, our update on one copy and PyTorch's on the other.

# %%
def small_mlp(generator):
    torch.manual_seed(0)  # nn.Linear's own initialisation; overwritten below from our generator anyway
    model = nn.Sequential(nn.Embedding(V, 10), nn.Flatten(), nn.Linear(30, 100), nn.Tanh(), nn.Linear(100, V))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * (0.1 if p.ndim == 2 and p.shape[1] != 10 else 1.0))
    return model


rules = {
    "SGD": (sgd_step, {}, lambda ps: torch.optim.SGD(ps, lr=0.1), 0.1),
    "momentum": (momentum_step, {}, lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), 0.1),
    "Adam": (adam_step, {}, lambda ps: torch.optim.Adam(ps, lr=0.01), 0.01),
    "AdamW": (adam_step, {"weight_decay": 0.1}, lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1), 0.01),
}
for name, (rule, kwargs, make_opt, lr) in rules.items():
    mine, ref = small_mlp(make_generator()).double(), small_mlp(make_generator()).double()
    opt, states = make_opt(ref.parameters()), [{} for _ in mine.parameters()]
    gs = make_generator()
    for _ in range(5):
        ix = torch.randint(0, len(Xtr), (32,), generator=gs)
        for model in (mine, ref):
            model.zero_grad()
            F.cross_entropy(model(Xtr[ix]), Ytr[ix]).backward()
        with torch.no_grad():
            for p, state in zip(mine.parameters(), states, strict=True):
                rule(p, p.grad, state, lr, **kwargs)
        opt.step()
    same = all(torch.allclose(a, b, atol=1e-12) for a, b in zip(mine.parameters(), ref.parameters(), strict=True))
    print(f"{name:<9} five steps by hand = torch.optim: {same}")
    assert same

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Compared on the same model and budget.** The deep MLP of section 1, now written with `torch.nn`
# modules (BatchNorm optional, off here), 800 steps of 64 examples, each optimiser at the better of two
# learning rates on dev (a momentum of 0.9 makes steps about ten times larger, hence its lower rates):

# %%
def deep_model(generator, depth=5, n_hidden=100, batchnorm=True):
    """The deep MLP of section 1 as torch.nn modules, with or without BatchNorm before each tanh."""
    layers, fan_in = [nn.Embedding(V, 10), nn.Flatten()], block_size * 10
    for _ in range(depth):
        layers += [nn.Linear(fan_in, n_hidden, bias=not batchnorm), nn.BatchNorm1d(n_hidden), nn.Tanh()]
        if not batchnorm:
            del layers[-2]
        fan_in = n_hidden
    layers.append(nn.Linear(fan_in, V))
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for layer in model:  # as in section 1: C ~ N(0, 1), W ~ N(0, 1) · (5/3) / √fan_in, biases 0
            if isinstance(layer, nn.Embedding | nn.Linear):
                scale = 1.0 if isinstance(layer, nn.Embedding) else (5 / 3) / layer.in_features**0.5
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * scale)
            if isinstance(layer, nn.Linear) and layer.bias is not None:
                layer.bias.zero_()
        model[-1].weight *= 0.1
    return model


optimisers = {
    "SGD": lambda ps, lr: torch.optim.SGD(ps, lr=lr),
    "momentum": lambda ps, lr: torch.optim.SGD(ps, lr=lr, momentum=0.9),
    "Adam": lambda ps, lr: torch.optim.Adam(ps, lr=lr),
    "AdamW": lambda ps, lr: torch.optim.AdamW(ps, lr=lr, weight_decay=0.01),
}
lr_grid = {"SGD": (0.1, 0.3), "momentum": (0.01, 0.03), "Adam": (1e-3, 3e-3), "AdamW": (1e-3, 3e-3)}
opt_steps = 800

# %%
# NBVAL_IGNORE_OUTPUT
opt_results = {}
for name, make_opt in optimisers.items():
    for lr in lr_grid[name]:
        model = deep_model(make_generator(), batchnorm=False)
        hist = train(model, Xtr, Ytr, optimizer=make_opt(model.parameters(), lr), steps=opt_steps,
                     generator=make_generator(), batch_size=64, dev=(Xdev, Ydev), eval_every=opt_steps, progress=False)
        if name not in opt_results or hist.dev_loss[-1] < opt_results[name][1]:
            opt_results[name] = (lr, hist.dev_loss[-1], hist)
for name, (lr, dev, _) in opt_results.items():
    print(f"{name:<9} lr {lr:<6} dev {dev:.3f}")

# %%
plot_loss({f"{name} (lr {lr})": hist for name, (lr, _, hist) in opt_results.items()}, window=50,
          title=f"The deep MLP, {opt_steps:,} steps of 64")
plt.ylim(2.0, 3.0)
plt.show()

# %%
best = {name: dev for name, (_, dev, _) in opt_results.items()}
assert min(best["Adam"], best["AdamW"]) < best["SGD"]  # the adaptive step wins ...
assert max(best.values()) - min(best.values()) < 0.06  # ... but once each rate is tuned, all end close

# %% [markdown] slideshow={"slide_type": "subslide"}
# Momentum and Adam(W) end ahead of plain SGD, but not by much: on a small model, with each rate
# tuned on dev, the rate matters more than the optimiser. Adam's per-parameter step pays off most in
# models whose parameters see gradients of very different sizes (the Transformer's embeddings and
# attention weights), and AdamW is what notebooks 05 and 06 use.
#
# ### Gradient clipping
#
# A single bad batch or an unlucky region of the loss surface can produce a gradient many times the
# usual size, and one step along it can undo a lot of training. `torch.nn.utils.clip_grad_norm_`
# rescales the whole gradient, when its norm exceeds a threshold, to that threshold: the direction
# is kept, the step bounded. A case where it matters: the deep tanh MLP *without* normalisation and
# with a learning rate that is too high for it.

# %%
def clip_by_hand(params, max_norm):
    norm = torch.sqrt(sum((p.grad**2).sum() for p in params))  # the norm of all gradients together
    if norm > max_norm:
        for p in params:
            p.grad *= max_norm / norm
    return norm


gc = make_generator()
m1, m2 = small_mlp(make_generator()), small_mlp(make_generator())
for m in (m1, m2):
    F.cross_entropy(m(Xtr[:64]), Ytr[:64]).backward()
norm1 = clip_by_hand(list(m1.parameters()), 0.5)
norm2 = torch.nn.utils.clip_grad_norm_(m2.parameters(), 0.5)
assert torch.allclose(norm1, norm2) and all(torch.allclose(a.grad, b.grad) for a, b in zip(m1.parameters(), m2.parameters(), strict=True))
print(f"gradient norm {norm1.item():.2f} clipped to 0.5: the same by hand and with clip_grad_norm_")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now the case: the deep tanh MLP of section 1 (no normalisation), 600 steps of SGD at lr 1.0 — ten
# times the rate it trained well with — once as is and once with every gradient clipped to norm 1:

# %%
# NBVAL_IGNORE_OUTPUT
clip_runs = {}
for clip in (None, 1.0):
    C, layers, params = make_deep(generator=make_generator())
    clip_losses, _ = train_deep(C, layers, params, 600, lr=1.0, generator=make_generator(), clip=clip)
    clip_runs[clip] = (deep_dev_loss(C, layers), clip_losses)
    print(f"lr 1.0, {'no clipping     ' if clip is None else 'clipped to norm 1'}: dev {clip_runs[clip][0]:.2f} · "
          f"worst batch loss {max(clip_losses):.1f}")

# %%
fig, ax = plt.subplots(figsize=(8, 3))
for clip, (_, cl) in clip_runs.items():
    ax.plot(torch.tensor(cl).view(-1, 20).mean(1).tolist(), label="no clipping" if clip is None else "clipped to norm 1")
ax.axhline(math.log(V), color="k", ls="--", lw=0.8, label="ln 27: the uniform guess")
ax.set_xlabel("step / 20")
ax.set_ylabel("training loss (mean of 20 steps)")
ax.legend()
plt.show()

# %%
assert clip_runs[None][0] > clip_runs[1.0][0] + 0.4  # clipping saves the run

# %% [markdown] slideshow={"slide_type": "subslide"}
# Without clipping the large steps throw the network into saturation and the loss climbs back
# towards (or above) the uniform guess; with clipping the same learning rate trains. Clipping is a
# safety net, not a cure — a rate this high still trains worse than lr 0.1 — which is why
# notebooks 05 and 06 clip their gradients but also choose their rates.
#
# ### Learning-rate warmup
#
# Adam's first step is special: m̂/√v̂ is then exactly ±1, so **every** parameter moves by the full
# learning rate, whatever its gradient — a tiny gradient of noise gets as large a step as a real
# signal, and the estimates m and v rest on one batch. Warmup ramps the rate from almost zero to its
# peak over the first steps, so that these early, poorly-estimated steps are small. Here is the deep
# MLP without BatchNorm, trained with Adam at a high rate of 0.03 for 600 steps of 64, with and
# without a 100-step linear warmup; we record the update-to-data ratio of the hidden weights and the
# loss of every step.

# %%
def adam_run(warmup, lr=0.03, steps=600):
    model = deep_model(make_generator(), batchnorm=False)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hidden_w = [m.weight for m in model if isinstance(m, nn.Linear)][:-1]  # the 5 hidden weight matrices
    gw, ratios, losses = make_generator(), [], []
    for step in range(steps):
        opt.param_groups[0]["lr"] = lr * min(1.0, (step + 1) / warmup) if warmup else lr
        ix = torch.randint(0, len(Xtr), (64,), generator=gw)
        loss = F.cross_entropy(model(Xtr[ix]), Ytr[ix])
        opt.zero_grad()
        loss.backward()
        before = [w.detach().clone() for w in hidden_w]
        opt.step()
        ratios.append(sum(((w - b).std() / b.std()).log10().item() for w, b in zip(hidden_w, before, strict=True)) / 5)
        losses.append(loss.item())
    return evaluate(model, Xdev, Ydev), ratios, losses


# %%
# NBVAL_IGNORE_OUTPUT
warm_runs = {w: adam_run(w) for w in (0, 100)}
for w, (dev, r, wl) in warm_runs.items():
    print(f"warmup {w:>3} steps: log10 update/data at step 1 {r[0]:.1f} · worst loss of the first 100 steps "
          f"{max(wl[:100]):.2f} (first {wl[0]:.2f}) · dev after 600 steps {dev:.3f}")

# %%
fig, ax = plt.subplots(figsize=(8, 3))
for w, (_, _, wl) in warm_runs.items():
    ax.plot(wl[:150], label=f"warmup {w} steps", lw=0.8)
ax.axhline(math.log(V), color="k", ls="--", lw=0.8, label="ln 27")
ax.set_xlabel("step")
ax.set_ylabel("batch loss")
ax.legend()
plt.show()

# %%
(dev_cold, r_cold, l_cold), (dev_warm, r_warm, l_warm) = warm_runs[0], warm_runs[100]
assert r_cold[0] > -1.5 and r_warm[0] < r_cold[0] - 1.5  # Adam's first step: a large fraction of every weight
assert max(l_cold[:100]) > l_cold[0] + 0.2  # without warmup the loss first jumps above where it started
assert max(l_warm[:100]) < l_warm[0] + 0.05  # with warmup it falls from the start

# %% [markdown] slideshow={"slide_type": "subslide"}
# Without warmup, Adam's first step changes every hidden weight by about a sixth of its size (a ratio
# near −0.8, against the −3 of section 1), and the loss jumps *up* before it comes down: the first
# steps partly destroy the initialisation. With warmup the loss falls from the first step. This
# small network recovers from the shock — the dev losses after 600 steps, printed above, do not
# favour warmup here — but deeper models often do not recover, which is why the Transformer of
# notebook 06, like every large language model, is trained with warmup.
#
# ## 6. A deeper model: WaveNet-style hierarchical fusion
#
# Notebook 03's MLP squashes its whole context into the hidden layer in one step. Making the context
# longer (8 characters instead of 3) that way means one wide first layer that must see everything at
# once. WaveNet (van den Oord et al., 2016) instead combines the inputs **progressively**: neighbours
# first, then pairs of pairs, and so on — a tree over the context. With 8 characters: 8 embeddings →
# 4 fused pairs → 2 → 1. Each level is a linear layer, BatchNorm and tanh, shared by every pair of its
# level, and the model grows deeper rather than wider.

# %%
Xtr8, Ytr8 = context_windows(train_words, vocab, 8)  # (182625, 8)
Xdev8, Ydev8 = context_windows(dev_words, vocab, 8)  # (22655, 8)
i = len(train_words[0])  # the first name's last window: the whole name, padded to 8
print(f"windows of 8: train {tuple(Xtr8.shape)}, dev {tuple(Xdev8.shape)}; "
      f"e.g. {vocab.decode(Xtr8[i].tolist())} → {vocab.itos[Ytr8[i].item()]}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Fusing pairs is a `view`: a `(B, 8, d)` tensor viewed as `(B, 4, 2d)` puts positions 0 and 1 side by
# side, then 2 and 3, and so on — memory is already in that order, so it costs nothing.

# %%
x = torch.arange(8 * 2).view(1, 8, 2)  # one window, 8 positions, 2 numbers each
fused = x.view(1, 4, 4)  # (1, 4, 4): positions (0, 1), (2, 3), (4, 5), (6, 7)
print(x[0].tolist())
print(fused[0].tolist())
assert torch.equal(fused, torch.cat([x[:, 0::2], x[:, 1::2]], dim=2))  # even next to odd positions

# %% [markdown] slideshow={"slide_type": "subslide"}
# The forward pass with our own layers from sections 1 and 3 (`Linear` multiplies the last dimension,
# whatever comes before it). Embedding 24 numbers per character, 128 neurons per level:

# %%
gw = make_generator()
n_embd, n_hidden = 24, 128
C8 = torch.randn(V, n_embd, generator=gw)  # (27, 24)
levels, fan_in = [], n_embd
for _ in range(3):
    levels.append([Linear(2 * fan_in, n_hidden, generator=gw, bias=False), BatchNorm(n_hidden), Tanh()])
    fan_in = n_hidden
head = Linear(n_hidden, V, generator=gw, gain=1.0)
head.weight *= 0.1

x = C8[Xtr8[:32]]  # (32, 8, 24)
for level in levels:
    B, T, D = x.shape
    x = x.view(B, T // 2, 2 * D)  # fuse neighbours
    for layer in level:
        x = layer(x)
    print(f"level output {tuple(x.shape)}")  # (32, 4, 128), (32, 2, 128), (32, 1, 128)
hand_logits = head(x.squeeze(1))  # (32, 27)
print("logits", tuple(hand_logits.shape))

# %% [markdown] slideshow={"slide_type": "subslide"}
# One subtlety: at the first level, BatchNorm sees a `(32, 4, 128)` tensor. A neuron's statistics must
# be taken over the batch **and** the four positions (the same layer serves all of them). Our
# `BatchNorm` does that (it averages over every dimension but the last); `nn.BatchNorm1d` expects
# channels in the middle, `(B, C, T)`, so it needs a transpose to agree — given `(B, T, C)` as is it
# would normalise the wrong dimension or refuse.

# %%
bn_ours, bn_torch = BatchNorm(128), nn.BatchNorm1d(128)
z = torch.randn(32, 4, 128, generator=gw) * 2 + 1  # (B, T, C)
assert torch.allclose(bn_ours(z), bn_torch(z.transpose(1, 2)).transpose(1, 2), atol=1e-5)
assert torch.allclose(bn_ours.running_var, bn_torch.running_var, atol=1e-6)
print("BatchNorm over (batch, position) agrees with nn.BatchNorm1d on (B, C, T)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# `utils.models.WaveNet` packages this model as a `torch.nn.Module` (its `BatchNorm` is the one
# above, with `nn.Parameter`s and buffers). Given our weights it computes the same logits:

# %%
from utils.models import RECIPES, WaveNet  # noqa: E402  (imported here, once the model has been written out)

wn = WaveNet(V, 8, n_embd, n_hidden, generator=make_generator())
with torch.no_grad():
    wn.C.weight.copy_(C8)
    for (lin, _, _), mod in zip(levels, [m for m in wn.levels if isinstance(m, nn.Linear)], strict=True):
        mod.weight.copy_(lin.weight.T)  # nn.Linear stores (fan_out, fan_in)
    wn.out.weight.copy_(head.weight.T)
    wn.out.bias.copy_(head.bias)
    assert torch.allclose(wn(Xtr8[:32]), hand_logits, atol=1e-5)
print(wn)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Training.** Everything this notebook taught goes into the recipe: the initialisation of
# sections 1–2 (a first loss of ln 27), BatchNorm at every level, AdamW with a 100-step warmup and a
# cosine decay to 2% of the peak rate, batches of 1,024. The sizes, rate and number of steps were chosen
# on dev in a few trial runs within the notebook's time budget (the test split was not looked at).

# %%
wn_recipe = RECIPES["wavenet"]  # these settings, as `sequentia train --type wavenet` uses them (utils/models/wavenet.py)
assert (wn_recipe.model.block_size, wn_recipe.model.n_embd, wn_recipe.model.n_hidden) == (8, n_embd, n_hidden)
wn = WaveNet(V, 8, n_embd, n_hidden, generator=make_generator()).to(device)
wn_params = sum(p.numel() for p in wn.parameters())
wn_steps, wn_lr, wn_batch = wn_recipe.steps, wn_recipe.lr, wn_recipe.batch  # 2000, 8e-3, 1024


def wn_schedule(step):
    warm = min(1.0, (step + 1) / 100)
    return wn_lr * warm * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * step / wn_steps)))


assert all(wn_schedule(s) == lr_schedule(wn_recipe)(s) for s in range(wn_steps))  # the recipe's "ramped-cosine"


with torch.no_grad():
    wn_first = F.cross_entropy(wn(Xtr8[:512].to(device)), Ytr8[:512].to(device)).item()
print(f"{wn_params:,} parameters · first loss {wn_first:.2f} (ln 27 = {math.log(V):.2f}) · "
      f"{wn_steps * wn_batch / len(Xtr8):.1f} passes over the training set")
assert abs(wn_first - math.log(V)) < 0.1

# %%
# NBVAL_IGNORE_OUTPUT
hist_wn = train(wn, Xtr8, Ytr8, optimizer=make_optimizer(wn_recipe, wn),  # AdamW, lr wn_lr, weight decay 0.01
                steps=wn_steps, generator=make_generator(), batch_size=wn_batch, lr_schedule=wn_schedule,
                dev=(Xdev8, Ydev8), eval_every=1000, device=device)
train_wn = evaluate(wn, Xtr8, Ytr8, device=device)
dev_wn = hist_wn.dev_loss[-1]
print(f"training took {hist_wn.seconds:.1f} s · train {train_wn:.4f} · dev {dev_wn:.4f}")

# %%
assert dev_wn <= 2.00, dev_wn
assert train_wn < dev_wn  # some over-fitting already: 11 passes over the training set

# %%
plot_loss({"WaveNet-style, k=8, d=24, H=128": hist_wn}, window=100, title="The hierarchical model")
plt.ylim(1.7, 2.6)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Every choice is made; now the test split, read once:

# %%
# NBVAL_IGNORE_OUTPUT
Xte8, Yte8 = context_windows(test_words, vocab, 8)  # (22866, 8)
test_wn = evaluate(wn, Xte8, Yte8, device=device)
print(f"WaveNet-style model: dev {dev_wn:.4f} · test {test_wn:.4f}")

# %%
assert dev_wn <= 2.00 and abs(test_wn - dev_wn) < 0.05

# %% [markdown] slideshow={"slide_type": "subslide"}
# Some names from it (evaluation mode: BatchNorm uses its running statistics, so one window at a
# time is fine):

# %%
# NBVAL_IGNORE_OUTPUT
wn.eval()
wn_names = sample(wn, vocab, 15, make_generator(), window=8, device=device)
print(" ".join(wn_names))

# %%
assert len(wn_names) == 15 and all(set(n) <= set(vocab.chars) for n in wn_names)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# The figures this notebook measured, printed from its own variables:

# %%
# NBVAL_IGNORE_OUTPUT
mlp_rows = read_results(utils.REPO_ROOT / "notebooks" / "03_mlp.ipynb")
mlp_dev = next((r["dev"] for r in mlp_rows if r["model"].startswith("MLP")), None)
print(f"""1. first loss {first_loss[0.1]:.2f} with a small output layer (ln 27 = {math.log(V):.2f}), {first_loss[10.0]:.1f} with randn;
   tanh layers 2-5 at most {max(sats[1:]):.0%} saturated; update/data ratios of the hidden weights near {hidden.mean():.1f}
2. tanh std in layer 5: {std_of['gain 1'][-1]:.2f} with gain 1, {std_of['gain 5/3'][-1]:.2f} with gain 5/3; layer 5 saturated
   {init_table['no scaling'][-1][2]:.0%} without scaling; dev after 1,000 steps {init_dev['gain 5/3']:.2f} (5/3) vs {init_dev['no scaling']:.2f} (no scaling)
3. BatchNorm and LayerNorm written out = nn.BatchNorm1d and nn.LayerNorm; with BatchNorm every gain gives tanh std ≈ {bn_table['gain 5/3'][-1]:.2f}
4. {len(grads)} gradients by hand = autograd (cross-entropy, linear, tanh, BatchNorm, embedding)
5. dev after {opt_steps:,} steps: """ + ", ".join(f"{n} {d:.3f}" for n, d in best.items()) + f"""
   clipping at lr 1.0: dev {clip_runs[1.0][0]:.2f} vs {clip_runs[None][0]:.2f}; Adam at lr 0.03, worst early loss
   {max(l_warm[:100]):.2f} with warmup vs {max(l_cold[:100]):.2f} without
6. WaveNet-style model ({wn_params:,} parameters, {hist_wn.seconds:.0f} s): dev {dev_wn:.4f}, test {test_wn:.4f}"""
      + (f" (notebook 03's MLP: dev {mlp_dev:.4f})" if mlp_dev else ""))

# %%
assert dev_wn <= 2.00 and (mlp_dev is None or dev_wn < mlp_dev)

# %% [markdown] slideshow={"slide_type": "subslide"}
# - **Diagnose before you tune**: the first loss (≈ ln V), the spread and saturation of every layer's
#   activations, the gradients per layer and the update-to-data ratios show what is wrong long
#   before the loss curve does.
# - **Initialise** with std = gain/√fan_in (5/3 for tanh) and a small output layer.
# - **Normalise**: BatchNorm (batch statistics in training, running ones in evaluation) makes a deep
#   network insensitive to the gain; LayerNorm does it per example, with no coupling between the
#   examples of a batch — the Transformer's choice.
# - **Backpropagation** is the chain rule applied layer by layer; each layer's backward fits in a line.
# - **Optimisers**: momentum averages gradients over time, Adam scales each parameter's step, AdamW
#   decays weights separately; clip the gradient norm and warm the rate up when steps can be too large.
# - A **hierarchical** model that fuses neighbours level by level reads 8 characters and reaches dev
#   ≤ 2.00 (asserted above) in this notebook's budget. Its row joins the course's table:

# %%
# NBVAL_IGNORE_OUTPUT
wn_row = {"model": "WaveNet-style hierarchical MLP, k=8, d=24, H=128", "params": wn_params,
          "train_seconds": hist_wn.seconds, "dev": dev_wn, "test": test_wn}
publish("04_training_dynamics", [wn_row])

# %%
assert wn_row["dev"] <= 2.00 and wn_row["params"] == 76_579 and wn_row["train_seconds"] > 0

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Next:** [05 — RNN and GRU](05_rnn_gru.ipynb) drops the fixed window altogether: a recurrent
# network carries a memory along the whole name, and its training leans on what you saw here
# (initialisation, gradient clipping, AdamW).
#
# ## Exercises
#
# Write your answer in place of the `...` and run the cell; the hidden cell after it holds a worked
# solution (click to expand it in JupyterLab or the HTML course).
#
# ### Exercise 1 — backpropagate through a ReLU layer
#
# For `y = relu(x @ W)` and the gradient `dy` of some loss with respect to `y`, compute `dx`, the
# gradient with respect to `x`, by hand (no `backward`). The check compares it with autograd.

# %% tags=["exercise"]
ge = make_generator()
x_e = torch.randn(8, 5, generator=ge, requires_grad=True)  # (8, 5)
W_e = torch.randn(5, 4, generator=ge)  # (5, 4)
dy_e = torch.randn(8, 4, generator=ge)  # (8, 4)

answer = ...  # dx, shape (8, 5), from x_e, W_e and dy_e
check("04.1", answer, x=x_e, W=W_e, dy=dy_e)  # compares your dx with autograd's

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution: through relu the gradient passes where the pre-activation was positive and is 0 elsewhere;
# through the matmul it is multiplied by Wᵀ, as for the linear layers of section 4.
pre = x_e.detach() @ W_e  # (8, 4)
dpre = dy_e * (pre > 0)  # (8, 4)
dx = dpre @ W_e.T  # (8, 4) @ (4, 5) → (8, 5)
assert check("04.1", dx, x=x_e, W=W_e, dy=dy_e)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 — RMSprop by hand
#
# RMSprop (Hinton's lecture notes, 2012) is Adam without momentum and without bias correction:
# v ← α·v + (1 − α)·g², then p ← p − lr·g/(√v + ε), with α = 0.99 and ε = 1e-8 in `torch.optim.RMSprop`.
# Apply it for the three gradients below, starting from `p_e`, and give the final parameter.

# %% tags=["exercise"]
p_e = torch.tensor([1.0, -2.0, 0.5])
g_list = [torch.tensor([0.1, -0.3, 0.0]), torch.tensor([0.2, 0.1, -0.5]), torch.tensor([-0.1, 0.2, 0.3])]

answer = ...  # p after three RMSprop steps with lr 0.01, from p_e and g_list
check("04.2", answer, p0=p_e, grads=g_list)  # compares your p with torch.optim.RMSprop's

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution: the update rule, three times. Note how the first step is large (v is still small after one
# step), which is the problem Adam's bias correction addresses.
p, v = p_e.clone(), torch.zeros(3)
for g_ in g_list:
    v = 0.99 * v + 0.01 * g_**2
    p = p - 0.01 * g_ / (v.sqrt() + 1e-8)
print("after three steps:", [round(t, 4) for t in p.tolist()])
assert check("04.2", p, p0=p_e, grads=g_list)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 — fold BatchNorm into the linear layer
#
# In evaluation BatchNorm is a fixed affine map per neuron (running mean and variance, γ and β), so it
# can be folded into the linear layer before it: one matrix and one bias that compute
# `bn(x @ W)` in one step, for free at inference. Find `W_fold` (5, 4) and `b_fold` (4,) such that
# `x @ W_fold + b_fold` equals `bn_e(x @ W_f)` for any `x`.

# %% tags=["exercise"]
gf = make_generator()
W_f = torch.randn(5, 4, generator=gf)  # (5, 4)
bn_e = nn.BatchNorm1d(4)
for _ in range(5):  # a few training batches give it running statistics
    bn_e(torch.randn(16, 5, generator=gf) @ W_f)
with torch.no_grad():
    bn_e.weight.copy_(torch.rand(4, generator=gf) + 0.5)
    bn_e.bias.copy_(torch.randn(4, generator=gf))
bn_e.eval()

answer = ...  # (W_fold, b_fold)
check("04.3", answer, W=W_f, bn=bn_e)  # compares x @ W_fold + b_fold with bn_e(x @ W_f) on random x

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution: per neuron, bn(z) = s·z + (β − s·mean) with s = γ/√(var + eps). Scaling column j of W by s_j
# scales z_j; the rest is a bias.
with torch.no_grad():
    s = bn_e.weight / torch.sqrt(bn_e.running_var + bn_e.eps)  # (4,)
    W_fold = W_f * s  # (5, 4): column j times s_j
    b_fold = bn_e.bias - s * bn_e.running_mean  # (4,)
assert check("04.3", (W_fold, b_fold), W=W_f, bn=bn_e)
