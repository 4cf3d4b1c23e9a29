# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 02 — The neural bigram: learning the table by gradient descent
#
# Notebook 01 *counted* its way to a bigram model. Here we reach the same model a completely
# different way: a one-layer neural network — 27 inputs, 27 outputs, one weight matrix `W` — whose
# weights start random and are adjusted by gradient descent to lower the loss. Nothing about
# bigrams is built in; the network has to *learn* the table. It ends up where counting ended (to
# the fourth digit), which tells us the recipe works, and the recipe, unlike counting, scales to
# contexts far too large to count: every later notebook keeps it and only changes the network.
#
# **What you will build**
# - the training set as (input, target) index pairs, and one-hot input vectors;
# - a linear layer, seen as a matrix product (with a picture of which row meets which column);
# - logits → softmax → probabilities, the loss by indexing, `backward()` and gradient descent;
# - a learning-rate comparison, and training until the network matches the counting model;
# - L2 regularisation, shown to do what smoothing did in notebook 01.
#
# **What you need**: [01 — counting bigrams](01_bigram_counting.ipynb) (the count table `N`, the
# average negative log-likelihood, 2.4546 over the whole set, sampling with a seeded generator,
# the dev/test split), and for section 6 the derivatives of $e^x$ and $\log x$ and the chain rule.
#
# **Previous**: [01 — counting bigrams](01_bigram_counting.ipynb) · **Next**:
# [03 — a multi-layer perceptron](03_mlp.ipynb), which feeds the network more than one character.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from utils import REPO_ROOT
from utils.data import Vocab, bigram_pairs, load_words, split_words
from utils.device import get_device, make_generator, randn
from utils.exercises import check
from utils.matmul_viz import show_matmul
from utils.results import publish, read_results
from utils.sampling import sample, sample_from_table

torch.set_num_threads(1)  # one thread: the same digits on every run (see notebook 00)

device = get_device()  # the CPU unless SEQUENTIA_DEVICE says otherwise
print("device:", device)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The training set: (x, y) pairs
#
# A neural network maps an input to an output. For a bigram model the input `x` is the index of
# the current character and the target `y` the index of the next one. The name "emma" gives five
# such pairs:

# %%
words = load_words()
vocab = Vocab.from_words(words)
V = len(vocab)

xs_emma, ys_emma = bigram_pairs(["emma"], vocab)  # (5,), (5,)
for x, y in zip(xs_emma.tolist(), ys_emma.tolist(), strict=True):
    print(f"input {x:2d} ({vocab.itos[x]})  →  target {y:2d} ({vocab.itos[y]})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# A word about building tensors: `torch.tensor` (lower case) is a function that copies data and
# **infers** the type — integers give `int64`. `torch.Tensor` (capital T) is the class, and calling
# it always produces `float32`. Indices must stay integers, so we use the lower-case function.

# %%
print(torch.tensor([5, 13]).dtype, "←  torch.tensor([5, 13])")
print(torch.Tensor([5, 13]).dtype, "←  torch.Tensor([5, 13])")
assert torch.tensor([5, 13]).dtype == torch.int64 and torch.Tensor([5, 13]).dtype == torch.float32

# %% [markdown] slideshow={"slide_type": "subslide"}
# The whole data set gives 228,146 pairs, the same bigrams notebook 01 counted:

# %%
xs, ys = bigram_pairs(words, vocab)  # (228146,), (228146,)
n = xs.numel()
print(f"{n:,} pairs; first ten inputs {xs[:10].tolist()}, targets {ys[:10].tolist()}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. One-hot inputs
#
# An index is a label, not a quantity: `e` = 5 is not "five times" `a` = 1. So we do not feed the
# number 5 to the network; we feed a vector of 27 zeros with a single 1 at position 5 — a
# **one-hot** vector. `F.one_hot` builds them, and returns integers: a neural network multiplies
# inputs by real-valued weights, so we convert to `float32`.

# %%
xenc_emma = F.one_hot(xs_emma, num_classes=V)  # (5, 27)
print("dtype from F.one_hot:", xenc_emma.dtype)
xenc_emma = xenc_emma.float()
print("shape", tuple(xenc_emma.shape), "dtype", xenc_emma.dtype)
print("row 3 (input 'm'):", xenc_emma[3].int().tolist())
assert xenc_emma.sum(1).eq(1).all() and xenc_emma[3, vocab.stoi["m"]] == 1

# %%
fig, ax = plt.subplots(figsize=(8, 1.8))
ax.imshow(xenc_emma, cmap="Greys")
ax.set_xticks(range(V), [vocab.itos[i] for i in range(V)])
ax.set_yticks(range(5), [f"{vocab.itos[x]} →" for x in xs_emma.tolist()])
ax.set_xlabel("position in the one-hot vector (the token it stands for)")
ax.set_ylabel("example (its input)")
ax.set_title("the five one-hot inputs of '.emma' (one row per example)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to see: each row is white except for one black cell, in the column of its input — `.`,
# `e`, `m`, `m`, `a` — so the two `m` rows are identical. The vector carries the identity of the
# character and nothing else:

# %%
print("the black cell of each row:", [vocab.itos[i] for i in xenc_emma.argmax(1).tolist()])
assert xenc_emma.argmax(1).tolist() == xs_emma.tolist() == [0, 5, 13, 13, 1]
assert torch.equal(xenc_emma[2], xenc_emma[3]) and xenc_emma.sum().item() == 5

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. A linear layer is a matrix product
#
# One **neuron** takes the dot product of its weights with the input: 27 weights, one number out,
# $z = \sum_{k} x_k w_k$. For a whole batch of inputs at once that is a matrix product:
# (5, 27) @ (27, 1) → (5, 1). Each
# output is one row of the input matrix times the single column of weights. The picture shows the
# shapes and which row meets which column; since the inputs are one-hot, it also marks where the
# single 1 of each row sits.

# %%
g = make_generator()  # seeded with 2147483647, the course's seed
W1 = randn(V, 1, generator=g)  # (27, 1): one neuron, weights drawn from N(0, 1)
out = xenc_emma @ W1  # (5, 27) @ (27, 1) → (5, 1)
show_matmul(
    5, V, V, 1,
    highlight_row=3, highlight_col=0, onehot_indices=xs_emma,
    label_A="xenc", label_B="W1", label_out="xenc @ W1", title="one neuron, five inputs",
)

# %%
dot = (xenc_emma[3] * W1[:, 0]).sum()  # row 3 of xenc · column 0 of W1, written out
print(f"(xenc @ W1)[3, 0] = {out[3, 0].item():.4f}")
print(f"sum_k xenc[3, k] * W1[k, 0] = {dot.item():.4f}")
print(f"W1[{xs_emma[3].item()}, 0] = {W1[xs_emma[3], 0].item():.4f}   (row 3 is one-hot at {xs_emma[3].item()})")
assert torch.isclose(out[3, 0], dot) and torch.isclose(out[3, 0], W1[xs_emma[3], 0])

# %% [markdown] slideshow={"slide_type": "subslide"}
# We want a score for **each of the 27 possible next characters**, so we use 27 neurons side by
# side: a (27, 27) weight matrix `W`, one column per neuron. The output is (5, 27): for each of the
# 5 inputs, 27 numbers,
#
# $$z_{mj} = \sum_{k=1}^{27} x_{mk} W_{kj}, \qquad Z = X W.$$
#
# Cell `[3, 13]` is input 3 (`m`) dotted with the weights of neuron 13 (the score of `m` as the next
# character).

# %%
W = randn(V, V, generator=g)  # (27, 27)
logits = xenc_emma @ W  # (5, 27) @ (27, 27) → (5, 27)
show_matmul(
    5, V, V, V,
    highlight_row=3, highlight_col=13, onehot_indices=xs_emma,
    label_A="xenc", label_B="W", label_out="logits = xenc @ W", title="27 neurons, five inputs",
)

# %%
dot = (xenc_emma[3] * W[:, 13]).sum()
print(f"logits[3, 13] = {logits[3, 13].item():.4f}")
print(f"row 3 of xenc · column 13 of W = {dot.item():.4f}")
print(f"W[{xs_emma[3].item()}, 13] = {W[xs_emma[3], 13].item():.4f}")
assert torch.isclose(logits[3, 13], dot) and torch.isclose(logits[3, 13], W[xs_emma[3], 13])

# %% [markdown] slideshow={"slide_type": "subslide"}
# Why `xenc @ W` and not `W @ xenc`? A matrix product `(a, b) @ (b, c)` needs the two inner sizes
# to agree. The examples are the **rows** of `xenc`, (5, 27), and the neurons are the **columns**
# of `W`, (27, 27), so `xenc @ W` pairs each example's 27 inputs with each neuron's 27 weights and
# gives one row of 27 logits per example. In the other order the inner sizes are 27 and 5:

# %%
try:
    W @ xenc_emma  # (27, 27) @ (5, 27)
except RuntimeError as err:
    print("W @ xenc fails:", str(err).splitlines()[0])
print("xenc @ W:", tuple(xenc_emma.shape), "@", tuple(W.shape), "→", tuple((xenc_emma @ W).shape), "(one row per example)")
transposed = W.T @ xenc_emma.T  # (27, 27) @ (27, 5) → (27, 5): one *column* per example
assert torch.allclose(transposed.T, xenc_emma @ W)
print("W.T @ xenc.T works too, with the same numbers transposed:", tuple(transposed.shape))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Both layouts hold the same numbers; the course keeps the examples as rows (the batch dimension
# first), so that a softmax over `dim=1` and picking "row `i`, column `ys[i]`" read the same way in
# every notebook.
#
# The green outline is worth a second look. Row 3 of the input has its single 1 at position 13, so
# in the dot product every term but one is multiplied by 0: the output cell is just `W[13, 13]`,
# and the whole output row is **row 13 of `W`**. Multiplying a one-hot vector by a matrix *selects a
# row*: with $e_i$ the one-hot vector of token $i$, $e_i W = W_{i,:}$. We will exploit this in
# section 7.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. From logits to probabilities: softmax
#
# The 27 outputs are arbitrary real numbers, called **logits**. To get a distribution over the
# next character we need 27 positive numbers that sum to 1. The standard recipe: interpret logits
# as *log-counts*. Exponentiate them (`exp` maps any real number to a positive one: these are
# "counts", as in notebook 01's table), then normalise each row. Together the two steps are the
# **softmax** of the row of logits $z$:
#
# $$p_j = \operatorname{softmax}(z)_j = \frac{e^{z_j}}{\sum_{k=1}^{27} e^{z_k}}.$$

# %%
counts = logits.exp()  # (5, 27), all positive
probs = counts / counts.sum(1, keepdim=True)  # (5, 27), rows sum to 1
print("row sums:", [f"{s:.4f}" for s in probs.sum(1).tolist()])
print("P(next | '.') for a, e, m:", [f"{probs[0, vocab.stoi[c]].item():.4f}" for c in "aem"])
assert torch.allclose(probs, torch.softmax(logits, dim=1))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The loss, by indexing
#
# For each example, the loss only needs the probability the network gives to the **correct** next
# character. `probs[torch.arange(5), ys_emma]` picks, in row `i`, the column `ys_emma[i]`: one
# number per example. The loss is the average negative log of those, exactly the quantity of
# notebook 01: with $p^{(m)} = \operatorname{softmax}(x_m W)$ the prediction for example $m$ and
# $y_m$ its target,
#
# $$\ell(W) = -\frac{1}{n} \sum_{m=1}^{n} \log p^{(m)}_{y_m}.$$
#
# It is called the **cross-entropy** between the target, a one-hot distribution, and the
# prediction: $-\sum_j [j = y] \log p_j = -\log p_y$, where $[j = y]$ is 1 if $j = y$ and 0
# otherwise.

# %%
p_correct = probs[torch.arange(5), ys_emma]  # (5,)
for i in range(5):
    bg = vocab.itos[xs_emma[i].item()] + vocab.itos[ys_emma[i].item()]
    print(f"{bg}: P = {p_correct[i].item():.4f}, -log P = {-p_correct[i].log().item():.4f}")
loss = -p_correct.log().mean()
print(f"loss on '.emma.': {loss.item():.4f}  (a uniform guess would score ln 27 = {math.log(V):.4f})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# A random network does worse than guessing uniformly: it is confidently wrong in places. Now we
# improve `W`.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Backward and gradient descent on the whole data set
#
# `loss.backward()` computes, for every weight, how the loss changes when that weight moves a
# little: the **gradient** $\nabla_W \ell$, stored in `W.grad`. Gradient descent then takes a small
# step against it, with a **learning rate** $\eta$ (`lr`):
#
# $$W \leftarrow W - \eta \, \nabla_W \ell,$$
#
# that is `W.data -= lr * W.grad`. Repeat.
#
# We train on all 228,146 pairs at once (the whole set is one batch), starting from a fresh `W`
# drawn from the course's generator on the CPU and moved to `device`.

# %%
g = make_generator()
W = randn(V, V, generator=g, device=device).requires_grad_()  # (27, 27), initialised on the CPU, then moved
xs_d, ys_d = xs.to(device), ys.to(device)
xenc = F.one_hot(xs_d, num_classes=V).float()  # (228146, 27)
rows = torch.arange(n, device=device)


def forward_loss(W):
    logits = xenc @ W  # (228146, 27)
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdim=True)
    return -probs[rows, ys_d].log().mean()


loss = forward_loss(W)
W.grad = None
loss.backward()
print(f"initial loss {loss.item():.4f}; W.grad has shape {tuple(W.grad.shape)}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The gradient has the shape of `W`: one number per weight, and it can be worked out by hand. For
# one example with logits $z$ and target $y$, write the loss with the softmax spelled out:
#
# $$-\log p_y = -\log \frac{e^{z_y}}{\sum_k e^{z_k}} = -z_y + \log \sum_k e^{z_k}.$$
#
# The first term depends on $z_y$ only; the derivative of the second with respect to $z_j$ is
# $e^{z_j} / \sum_k e^{z_k} = p_j$. Together:
#
# $$\frac{\partial (-\log p_y)}{\partial z_j} = p_j - [j = y],$$
#
# **softmax minus one-hot**: too much probability on a wrong $j$ pushes its logit down, too little on
# the target pushes it up. The logits are $z^{(m)} = x_m W$, so $z^{(m)}_j$ depends on $W_{kj}$
# through $x_{mk}$ alone; summing over the examples and averaging,
#
# $$\nabla_W \ell = \frac{1}{n} X^\top (P - Y),$$
#
# with $X$ the one-hot inputs, $P$ the predictions and $Y$ the one-hot targets, all $(n, 27)$. The
# one-hot rows of $X$ route each example's error to the row of its input: the gradient of `W[i, j]`
# is (1/n) × the sum, over the examples whose input is `i`, of $p_j - [j = y]$. Checked against
# what `backward()` computed:

# %%
with torch.no_grad():
    probs_all = torch.softmax(xenc @ W, dim=1)  # (228146, 27), the current predictions
    onehot_ys = F.one_hot(ys_d, num_classes=V).float()  # (228146, 27), 1 at each target
    grad_by_hand = xenc.T @ (probs_all - onehot_ys) / n  # (27, 228146) @ (228146, 27) → (27, 27)
# Both sides add 228,146 float32 terms, in different orders: on a CPU code path without vector
# instructions they differ by up to about 1e-5, against entries of up to about 0.03.
print("(p − onehot) / n, summed per input: equal to W.grad within 5e-5:",
      torch.allclose(grad_by_hand, W.grad, atol=5e-5))
assert torch.allclose(grad_by_hand, W.grad, atol=5e-5)
del probs_all, onehot_ys

# %% [markdown] slideshow={"slide_type": "subslide"}
# Twenty steps with learning rate 50:

# %%
# NBVAL_IGNORE_OUTPUT
lr = 50
history = []
t0 = time.perf_counter()
for step in range(20):
    loss = forward_loss(W)
    W.grad = None
    loss.backward()
    W.data -= lr * W.grad
    history.append(loss.item())
    if step % 5 == 0 or step == 19:
        print(f"step {step:2d}: loss {loss.item():.4f}")
full_batch_seconds = (time.perf_counter() - t0) / 20
print(f"{full_batch_seconds * 1000:.0f} ms per step")

# %%
assert history[0] > 3.5 and history[-1] < 2.75 and all(b < a for a, b in zip(history, history[1:], strict=False))
print(f"20 steps: {history[0]:.2f} → {history[-1]:.2f}, every step lower than the one before")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The loss drops quickly from 3.76 and then more slowly. It would take thousands of such steps to
# converge, and each step processes 228,146 × 27 numbers. Before training further, let us make a
# step cheap.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Making a step cheap: one-hot × W is indexing, and the loss only needs the counts
#
# Section 3 showed that multiplying a one-hot row by `W` selects a row of `W`. So `xenc @ W` is
# just `W[xs]`: no one-hot tensor, no multiplications by zero.

# %%
assert torch.equal(xenc @ W, W[xs_d])
print("xenc @ W == W[xs] for all", n, "examples:", torch.equal(xenc @ W, W[xs_d]))

# %%
# NBVAL_IGNORE_OUTPUT
def best_time(fn, repeats=7):
    """The fastest of several runs: the least disturbed by whatever else the machine is doing."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()  # GPU work is asynchronous: wait for it before reading the clock
        times.append(time.perf_counter() - t0)
    return min(times)


with torch.no_grad():
    t_matmul = best_time(lambda: xenc @ W)
    t_index = best_time(lambda: W[xs_d])
print(f"logits by one-hot matmul: {t_matmul * 1000:.1f} ms; by indexing: {t_index * 1000:.1f} ms")

# %%
matmul_ops = n * V * V  # one multiply-add per (example, input position, output)
index_ops = n * V  # one copied number per (example, output)
onehot_mb = xenc.numel() * xenc.element_size() / 1e6
index_mb = xs_d.numel() * xs_d.element_size() / 1e6
print(f"one-hot matmul: {matmul_ops:,} multiply-adds, on a one-hot tensor of {onehot_mb:.1f} MB")
print(f"indexing:       {index_ops:,} copies, from the {n:,} indices ({index_mb:.1f} MB)")
assert matmul_ops == V * index_ops
assert 2 * xenc.numel() * xenc.element_size() == 27 * xs_d.numel() * xs_d.element_size()  # 13.5×: 27 float32s, one int64

# %% [markdown] slideshow={"slide_type": "subslide"}
# Indexing does 27 times fewer operations — 26 of every 27 multiplications in the matmul are by
# zero — and its input, the indices, takes 13.5 times less memory than the one-hot tensor, which
# it never builds. Whether it also *runs* faster depends on the machine: the matrix product runs in
# a finely tuned library routine, and indexing has overheads of its own, so the timing above can
# come out either way; it is printed, not asserted. Selecting rows of a weight matrix by index is
# what an **embedding** layer does, and notebook 03 starts from it.
#
# There is a deeper shortcut. Every example with input `i` and target `j` adds the same term
# `-log softmax(W)[i, j]` to the loss. There are `N[i, j]` such examples — the count table of
# notebook 01 — so the loss over 228,146 examples is a weighted sum over 729 cells:
#
# $$\text{loss} = -\frac{1}{n}\sum_{i,j} N_{ij}\,\log \operatorname{softmax}(W)_{ij}.$$
#
# Same loss, same gradient, but each step now works on 729 counts instead of 228,146 × 27 = 6.2
# million probabilities. We check the two claims numerically, then time one step of each:

# %%
N = torch.bincount(xs * V + ys, minlength=V * V).view(V, V).float().to(device)  # (27, 27), notebook 01's table


def count_loss(W, N):
    return -(N * W.log_softmax(dim=1)).sum() / N.sum()


W_check = W.detach().clone().requires_grad_()
full = forward_loss(W_check)
full.backward()
grad_full = W_check.grad.clone()
W_check.grad = None
fast = count_loss(W_check, N)
fast.backward()
print(f"loss from 228,146 examples: {full.item():.4f}; from the 27×27 counts: {fast.item():.4f}")
print("gradients equal to within 1e-6:", torch.allclose(W_check.grad, grad_full, atol=1e-6))
assert torch.isclose(full, fast, atol=1e-5) and torch.allclose(W_check.grad, grad_full, atol=1e-6)


# %%
# NBVAL_IGNORE_OUTPUT
def step(loss_fn):
    W_check.grad = None
    loss_fn().backward()


t_examples = best_time(lambda: step(lambda: forward_loss(W_check)), repeats=3)
t_counts = best_time(lambda: step(lambda: count_loss(W_check, N)), repeats=21)
print(f"one step on the examples: {t_examples * 1000:.1f} ms; on the counts: {t_counts * 1000:.3f} ms "
      f"({t_examples / t_counts:,.0f}× faster on this machine)")

# %%
assert t_examples > 100 * t_counts, (t_examples, t_counts)
print("a step on the counts is more than 100 times faster than a step on the 228,146 examples")

# %% [markdown] slideshow={"slide_type": "subslide"}
# (`log_softmax` computes the log of the softmax in one numerically safer step; it is the same
# function as our exp-normalise-log.) The identity says something important: **the network only
# ever sees the data through the counts `N`**. The best it can do is make each row of
# softmax(W) equal to the corresponding row of `N` normalised — notebook 01's table.
# Full-batch gradient descent on the counts is exactly the same algorithm as before, only far
# cheaper (the factor printed above is this machine's; on any machine it is above 100), so from
# now on we use it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Learning rates compared
#
# The learning rate $\eta$ is the size of each step. We run 500 steps from the same starting point
# with five learning rates, each minimising the count loss of section 7,
#
# $$\ell(W) = -\frac{1}{n} \sum_{i,j} N_{ij} \log \operatorname{softmax}(W)_{ij}$$
#
# (`train_counts` can add a penalty to it; section 10 uses that).

# %%
def train_counts(N, lr, steps, lam=0.0, W=None):
    """Full-batch gradient descent on the count loss (+ lam * mean(W**2)); returns W and the losses."""
    if W is None:
        W = randn(V, V, generator=make_generator(), device=N.device)
    W = W.detach().clone().requires_grad_()
    losses = []
    for _ in range(steps):
        nll = count_loss(W, N)
        loss = nll + lam * (W**2).mean()
        W.grad = None
        loss.backward()
        W.data -= lr * W.grad
        losses.append(nll.item())
    return W.detach(), losses


first_loss = train_counts(N, 50, 1)[1][0]
print(f"first loss: {first_loss:.4f} (the same start as section 6)")
assert abs(first_loss - history[0]) < 1e-4

# %%
# NBVAL_IGNORE_OUTPUT
lrs = [1, 10, 50, 100, 200]
curves = {lr: train_counts(N, lr, 500)[1] for lr in lrs}
print("     lr   step 10  step 100  step 500")
for lr, c in curves.items():
    print(f"{lr:7}   {c[9]:7.4f}  {c[99]:8.4f}  {c[499]:8.4f}")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for lr, c in curves.items():
    ax.plot(range(1, len(c) + 1), c, label=f"lr = {lr}")
ax.axhline(2.4546, color="k", ls="--", lw=1, label="counting model (01): 2.4546")
ax.set_xscale("log")
ax.set_ylim(2.4, 4.0)
ax.set_xlabel("step")
ax.set_ylabel("loss (nats per character)")
ax.set_title("full-batch gradient descent, same start, five learning rates")
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %%
final = {lr: c[-1] for lr, c in curves.items()}
assert min(final, key=final.get) == 50
assert final[1] > final[10] > final[50]  # too small: slow
assert final[200] > final[100] > final[50]  # too large: overshoots
assert final[100] > final[10]  # after 500 steps, lr = 100 is behind lr = 10
assert any(b > a for a, b in zip(curves[200], curves[200][1:], strict=False))  # lr = 200 goes up at times
assert all(b < a for a, b in zip(curves[1], curves[1][1:], strict=False))  # lr = 1 only ever goes down
assert final[1] > 2.4546 + 0.1  # and is still far from the counting model
print("best after 500 steps: lr = 50")

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to see: the curve of learning rate 1 descends steadily but slowly and is still far above the
# dashed line of the counting model after 500 steps. Larger steps help up to a point; at 100
# progress stalls (after 500 steps it is behind learning rate 10), and at 200 the loss jumps up
# and down. Each step follows the local
# slope, and a step that is too long lands on the other side of the valley, higher than it
# started. In between lies the useful range; 50 is the best of these five here (a lot for
# gradient descent in general: our loss is an average, so its gradients are small).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. Converging to the counting model
#
# We continue the network trained in section 6 for 3,000 more steps at learning rate 50.

# %%
# NBVAL_IGNORE_OUTPUT
t0 = time.perf_counter()
W, losses = train_counts(N, 50, 3000, W=W)
print(f"3,000 steps in {time.perf_counter() - t0:.1f} s; final loss {losses[-1]:.4f}")

# %%
final_loss = losses[-1]
print(f"neural bigram: {final_loss:.4f}   counting model, +1 smoothing (01): 2.4546")
assert abs(final_loss - 2.4546) < 0.01, final_loss
assert abs(final_loss - 2.4546) < 0.001, final_loss

# %% [markdown] slideshow={"slide_type": "subslide"}
# The network's loss agrees with notebook 01's to within 0.001 nats. (It can even go slightly
# below 2.4546: 2.4546 is the add-one smoothed table, and the unsmoothed table — the true minimum —
# scores 2.4540.) Now the tables themselves. The network's probabilities are `W.exp()` normalised
# row by row, i.e. softmax(W):

# %%
counts_nn = W.exp().cpu()  # (27, 27): the network's "counts"
P_nn = counts_nn / counts_nn.sum(1, keepdim=True)  # row-normalised: softmax(W)
assert torch.allclose(P_nn, W.softmax(dim=1).cpu(), atol=1e-6)
N_cpu = N.cpu()
P0 = N_cpu / N_cpu.sum(1, keepdim=True)  # 01's table, unsmoothed
P1 = (N_cpu + 1) / (N_cpu + 1).sum(1, keepdim=True)  # 01's table, add-one smoothing
diff0 = (P_nn - P0).abs()
diff1 = (P_nn - P1).abs()
seen = N_cpu > 0  # the 627 bigrams that occur
print(f"max |P_nn - P0| = {diff0.max():.3f}  (unsmoothed counts): {diff0[seen].max():.3f} on the "
      f"{int(seen.sum())} bigrams that occur, {diff0[~seen].max():.3f} on the {int((~seen).sum())} that never do")
print(f"max |P_nn - P1| = {diff1.max():.3f}  (add-one counts)")
assert diff0.max() < 0.01 and diff1.max() < 0.1
assert P_nn[~seen].min() > 0 and (~seen).sum() == 102
log_gap = (P_nn.log() - P0.log()).abs()  # the distance from the diagonal on the log-log plot
print(f"bigrams seen at least 10 times: P_nn within {log_gap[N_cpu >= 10].max():.2f} of P0 in log space (within 10%); "
      f"seen fewer times: up to {log_gap[seen & (N_cpu < 10)].max():.1f}")
assert log_gap[N_cpu >= 10].max() < math.log(1.1) and 0.5 < log_gap[seen].max() < 1.5
print(f"the never-seen bigrams: P_nn between {P_nn[~seen].min():.0e} and {P_nn[~seen].max():.0e}")
assert 1e-5 < P_nn[~seen].min() and P_nn[~seen].max() < 1e-2
assert N_cpu[diff1.argmax() // V].sum() < 1000  # the largest gap to P1 is in a row with few counts

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, (ref, name) in zip(axes, [(P0, "unsmoothed counts P0"), (P1, "add-one counts P1")], strict=True):
    ax.loglog(ref.flatten().clamp_min(1e-6), P_nn.flatten().clamp_min(1e-6), ".", alpha=0.6)
    ax.plot([1e-6, 1], [1e-6, 1], "k--", lw=1)
    ax.set_xlabel(f"counting model: {name}")
    ax.set_ylabel("neural network: softmax(W)")
    ax.grid(alpha=0.3)
axes[0].set_title("729 bigram probabilities (0 shown at 1e-6)")
axes[1].set_title("smoothing lifts the rare and unseen")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to see: against the unsmoothed counts (left) the network agrees within 0.01 everywhere, and
# the bigrams seen at least 10 times lie on the dashed diagonal. The points that stray are the
# rarest: the few bigrams seen fewer than 10 times, up to a factor of about e off (1.0 in log
# space), and the 102 never seen. Those cannot reach the diagonal at all: their target
# probability is 0, i.e. a logit of −∞, and gradient descent only creeps towards it, so they keep
# a small probability (between 1e-5 and 1e-2) and sit on the left edge, at the 1e-6 where the plot
# puts zeros, far above the diagonal. Against the add-one table (right) the differences are larger
# and the largest lies in a row with few counts, where 27 pseudo-counts weigh most (exercise 3
# finds it). The network has no pseudo-counts; section 10 gives it an equivalent.
#
# Softmax normalised away one thing: the scale of the counts. Set the network's "counts"
# `W.exp()` against the raw counts `N` themselves:

# %%
ratio = N_cpu / counts_nn  # (27, 27): real counts per network "count"
frequent = N_cpu >= 100  # bigrams seen at least 100 times
row_factor = torch.tensor([ratio[i][frequent[i]].mean() for i in range(V)])  # (27,)
row_spread = max((ratio[i][frequent[i]].std() / ratio[i][frequent[i]].mean()).item()
                 for i in range(V) if frequent[i].sum() > 1)
print(f"W.exp() sums to {counts_nn.sum():,.0f}; N sums to {N_cpu.sum():,.0f}")
print(f"within a row, N / W.exp() is one number for all frequent bigrams (relative spread at most {row_spread:.1%});")
print(f"across rows that number goes from {row_factor.min():.1f} (row {vocab.itos[row_factor.argmin().item()]!r}) "
      f"to {row_factor.max():.0f} (row {vocab.itos[row_factor.argmax().item()]!r})")
assert row_spread < 0.01 and row_factor.max() / row_factor.min() > 100
assert counts_nn.sum() < N_cpu.sum() / 10

# %% [markdown] slideshow={"slide_type": "subslide"}
# So `W.exp()` is `N` up to one factor per row. Adding a constant $c$ to a row of logits multiplies
# that row of "counts" by $e^c$ and leaves its softmax, and so the loss, unchanged:
#
# $$\operatorname{softmax}(z + c)_j = \frac{e^{c} e^{z_j}}{e^{c} \sum_k e^{z_k}} = \operatorname{softmax}(z)_j.$$
#
# The gradient carries no information about it either: each row of softmax minus one-hot sums to
# $\sum_j (p_j - [j = y]) = 1 - 1 = 0$. The mean of each row of `W` therefore never moves from where
# the initialisation put it:

# %%
W_init = randn(V, V, generator=make_generator(), device=device)  # section 6's starting point, drawn again
drift = (W.mean(1) - W_init.mean(1)).abs().max().item()
print(f"row means of W after 3,020 steps vs at initialisation: unchanged to within 1e-3: {drift < 1e-3}")
print(f"while single weights moved by more than 1: {bool((W - W_init).abs().max() > 1)}")
assert drift < 1e-3 and (W - W_init).abs().max() > 1

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Samples, side by side
#
# Sampling from the network means: feed the current character, take the softmax of its logits —
# a row of `W` — and draw. With the same generator seed as notebook 01 the draws consume the same
# random numbers:

# %%
g = make_generator()
names_nn = []
for _ in range(15):
    out, ix = [], 0
    while True:
        logits = W[ix]  # one-hot(ix) @ W is row ix of W
        p = logits.softmax(dim=0).cpu()
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        if ix == 0:
            break
        out.append(vocab.itos[ix])
    names_nn.append("".join(out))

names_counts = sample_from_table(P0, vocab, 15, make_generator())  # what notebook 01 drew
for a, b in zip(names_counts, names_nn, strict=True):
    print(f"{a:>22}  {b:<22}{'' if a == b else '  ← differs'}")
same = sum(a == b for a, b in zip(names_counts, names_nn, strict=True))
print(f"{same} of 15 identical")

# %%
assert names_counts[:10] == ["cexze", "momasurailezitynn", "konimittain", "llayn", "ka",
                             "da", "staiyaubrtthrigotai", "moliellavo", "ke", "teda"]
assert same >= 10
print("the first ten are notebook 01's names")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Why do they agree? `torch.multinomial` turns one uniform random number from the generator into an
# index by walking the cumulative probabilities of the row: index `k` is drawn when the number falls
# between the cumulative sums up to `k − 1` and `k`. Two tables whose rows differ by less than
# 0.01 place those boundaries almost at the same spots, so the same random number lands in the same
# interval — unless it happens to fall into the thin sliver between the two tables' boundaries.
# When that happens, the names differ from that character on; and because a different character
# leads to a different row and possibly a different word length, every later draw is shifted too,
# so all following names would differ. With these tables and this seed, that sliver is never hit.
#
# The loop we just wrote works for *any* model that turns a context into logits.
# `utils.sampling.sample(next_logits, vocab, n, g, window=1)` packages it: `next_logits` receives
# the context as a `(1, window)` tensor of indices and returns `(1, V)` logits. For the bigram,
# the context is the last character and the logits are a row of `W`; notebooks 03–06 pass their
# own networks.

# %%
names_helper = sample(lambda ctx: W[ctx[:, -1]], vocab, 15, make_generator(), window=1, device=device)
assert names_helper == names_nn
print(names_helper[:6], "…  identical to our loop")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 10. L2 regularisation: the network's smoothing
#
# Notebook 01 smoothed the table by adding α pseudo-counts to every cell: large α pulls every row
# towards uniform. The neural equivalent is to add a penalty to the loss, the mean square of the
# weights times a strength $\lambda$:
#
# $$\ell_\lambda(W) = \ell(W) + \lambda \, \frac{1}{V^2} \sum_{i,j} W_{ij}^2,$$
#
# `nll + lam * (W**2).mean()` in `train_counts`. It pulls every weight towards 0, and `W = 0` means
# all 27 logits of a row are equal — a uniform row. So λ plays the role of α: both trade fit to the
# data for flatter, more cautious distributions.
#
# To see it quantitatively we measure two things for each model: the training loss, and the
# **entropy** of the next-character distribution, in bits, averaged over the data (row $i$ weighted
# by its count $n_i = \sum_j N_{ij}$):
#
# $$H = \frac{1}{n} \sum_i n_i H_i, \qquad H_i = -\sum_j P_{ij} \log_2 P_{ij}.$$
#
# It grows as rows flatten: 0 bits for a certain prediction, $\log_2 27 = 4.75$ bits for uniform.

# %%
def entropy_bits(P, N):
    """Average entropy of the rows of P, weighted by how often each row is used in N."""
    H = -(torch.special.xlogy(P, P)).sum(1) / math.log(2)  # (27,) bits per row
    return ((N.sum(1) * H).sum() / N.sum()).item()


def table_loss(P, N):
    return (-(torch.special.xlogy(N, P)).sum() / N.sum()).item()


alphas = [0, 1, 10, 100, 1000]
lams = [0, 0.01, 0.1, 1, 3]
count_side = {a: (N_cpu + a) / (N_cpu + a).sum(1, keepdim=True) for a in alphas}
neural_side = {lam: train_counts(N, 50, 1000, lam=lam)[0].softmax(1).cpu() for lam in lams}
print("counting, pseudo-count α      neural, L2 strength λ")
print("    α    loss  entropy            λ    loss  entropy")
for (a, Pa), (lam, Pl) in zip(count_side.items(), neural_side.items(), strict=True):
    print(f"{a:5}  {table_loss(Pa, N_cpu):.4f}  {entropy_bits(Pa, N_cpu):.3f} bits"
          f"     {lam:5}  {table_loss(Pl, N_cpu):.4f}  {entropy_bits(Pl, N_cpu):.3f} bits")

# %%
fig, ax = plt.subplots(figsize=(6.5, 4))
sides = [(count_side, "counts + α", "o-", "α", (-8, 6), "right"),
         (neural_side, "network + λ·mean(W²)", "s-", "λ", (8, -12), "left")]
for side, label, marker, knob, offset, ha in sides:
    xs_plot = [entropy_bits(P, N_cpu) for P in side.values()]
    ys_plot = [table_loss(P, N_cpu) for P in side.values()]
    ax.plot(xs_plot, ys_plot, marker, label=label)
    for k, x_, y_ in list(zip(side, xs_plot, ys_plot, strict=True))[1:]:  # the first points coincide
        ax.annotate(f"{knob}={k}", (x_, y_), textcoords="offset points", xytext=offset, fontsize=8, ha=ha)
ax.set_xlabel("entropy of the next-character distribution (bits)")
ax.set_ylabel("training loss (nats per character)")
ax.set_title("both knobs trade fit for flatness")
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %%
for side in (count_side, neural_side):
    ent = [entropy_bits(P, N_cpu) for P in side.values()]
    fit = [table_loss(P, N_cpu) for P in side.values()]
    assert ent == sorted(ent) and fit == sorted(fit), (ent, fit)
assert entropy_bits(neural_side[3], N_cpu) > 4.5 and entropy_bits(count_side[1000], N_cpu) > 4.5
print("more regularisation, like more pseudo-counts: flatter rows (higher entropy) and a higher training loss")
knobs = {**count_side, **{f"λ{lam}": P for lam, P in neural_side.items()}}  # α = 0 … 1000, then λ = 0 … 3
H = {k: entropy_bits(P, N_cpu) for k, P in knobs.items()}
L = {k: table_loss(P, N_cpu) for k, P in knobs.items()}
assert abs(L[0] - L["λ0"]) < 0.005 and abs(H[0] - H["λ0"]) < 0.05  # the same starting point
assert H[1] < H["λ0.01"] < H[100] and H[100] < H["λ1"] < H[1000]  # λ = 0.01 ~ tens, λ = 1 ~ hundreds

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to see: both families start from nearly the same point (no smoothing, no penalty: about
# 2.455 nats, 3.55 bits) and move up and to the right: λ = 0.01 lands between 1 and 100
# pseudo-counts, λ = 1 between 100 and 1,000, and both end above 4.5 bits, near the uniform
# distribution's 4.75. The curves are not identical — a pseudo-count adds the same amount to every
# cell, while the penalty shrinks large logits hardest — but the knob does the same job.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 11. Dev and test on the shared split
#
# So far the network was trained and measured on every name, as in the first part of notebook 01.
# For a figure comparable with the rest of the course we train on the training split only, pick
# λ on dev and report test once, as notebook 01 did for α.

# %%
train_words, dev_words, test_words = split_words(words)
Xtr, Ytr = bigram_pairs(train_words, vocab)
Xdev, Ydev = bigram_pairs(dev_words, vocab)
Xte, Yte = bigram_pairs(test_words, vocab)
N_train = torch.bincount(Xtr * V + Ytr, minlength=V * V).view(V, V).float().to(device)
print(f"train {len(Xtr):,} / dev {len(Xdev):,} / test {len(Xte):,} bigrams; N_train counts {int(N_train.sum()):,}")


def split_loss(W, X, Y):
    return F.cross_entropy(W[X.to(device)], Y.to(device)).item()  # -log softmax(W)[x, y], averaged


# %%
# NBVAL_IGNORE_OUTPUT
dev_by_lam, W_by_lam, seconds_by_lam = {}, {}, {}
for lam in [0, 0.001, 0.01, 0.1]:
    t0 = time.perf_counter()
    W_by_lam[lam], _ = train_counts(N_train, 50, 3000, lam=lam)
    seconds_by_lam[lam] = time.perf_counter() - t0
    dev_by_lam[lam] = split_loss(W_by_lam[lam], Xdev, Ydev)
    print(f"λ = {lam:<6} dev {dev_by_lam[lam]:.4f}   ({seconds_by_lam[lam]:.1f} s)")

# %%
best_lam = min(dev_by_lam, key=dev_by_lam.get)
W_best = W_by_lam[best_lam]
dev_nn, test_nn = dev_by_lam[best_lam], split_loss(W_best, Xte, Yte)
counting = read_results(REPO_ROOT / "notebooks" / "01_bigram_counting.ipynb")[0]
print(f"best λ on dev: {best_lam}")
print(f"{'':28}  dev     test")
print(f"{counting['model']:28}  {counting['dev']:.4f}  {counting['test']:.4f}   (notebook 01)")
print(f"{'bigram, neural':28}  {dev_nn:.4f}  {test_nn:.4f}")
assert abs(dev_nn - counting["dev"]) < 0.01 and abs(test_nn - counting["test"]) < 0.01

# %% [markdown] slideshow={"slide_type": "subslide"}
# The network matches the counting model on held-out names too. Here the best λ is 0. That is not
# a sign that regularisation is useless: gradient descent that starts from small random weights
# and stops after 3,000 steps never pushes the logits of unseen bigrams to −∞, so the trained
# network is already slightly smoothed. **Stopping early is itself a form of regularisation.**

# %%
# NBVAL_IGNORE_OUTPUT
publish(
    "02_bigram_neural",
    [
        dict(
            model=f"bigram, neural (λ = {best_lam})",
            params=W_best.numel(),
            train_seconds=seconds_by_lam[best_lam],
            dev=dev_nn,
            test=test_nn,
        )
    ],
)

# %%
assert W_best.numel() == 729 and 2.44 < dev_nn < 2.47 and 2.44 < test_nn < 2.47
print(f"published: dev {dev_nn:.4f}, test {test_nn:.4f}, 729 parameters")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The trained `W` fits the packaged bigram class, `utils.models.Bigram`, whose logits are row `x` of
# its table — the one-hot product without the zeros:

# %%
from utils.models import Bigram

packaged = Bigram(V)
packaged.load_state_dict({"W": W_best.detach().cpu()})
xs_dev = Xdev[:1000]
assert torch.equal(packaged(xs_dev[None])[0], F.one_hot(xs_dev, V).float() @ W_best.detach().cpu())
print("utils.models.Bigram with the trained W: the same logits as one_hot(x) @ W, exactly")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A bigram **neural network** is one weight matrix: one-hot input (27) → logits (27) → softmax →
#   probabilities. A linear layer is a matrix product; one neuron is one column of `W`.
# - Training: the loss is the average negative log-probability of the correct next character
#   (picked out by indexing); `backward()` gives the gradient; gradient descent steps against it.
#   The learning rate matters: too small is slow, too large overshoots.
# - Multiplying a one-hot vector by `W` selects a row of `W`, so the logits are `W[x]`: the
#   embedding lookup of later notebooks. And because the loss depends on the data only through the
#   bigram counts, this network can be trained on the 27×27 count table directly.
# - Trained to convergence, the network **is** the counting model: the same loss to within 0.001,
#   probabilities within 0.01 of the unsmoothed table, the same sampled names from the same seed;
#   `W.exp()` is the count table up to one factor per row, which the softmax cannot see.
# - L2 regularisation is the network's smoothing: larger λ, like larger α, flattens the rows.
# - On the shared split (trained on the training names only, λ chosen on dev, test read once) the
#   figures it reached are:

# %%
print(f"whole set: {final_loss:.4f} nats per character (notebook 01's add-one table: 2.4546)")
print(f"held out: λ = {best_lam}, chosen on dev → dev {dev_nn:.4f}, test {test_nn:.4f} "
      f"(notebook 01: dev {counting['dev']:.4f}, test {counting['test']:.4f})")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Why bother, if counting gives the same answer? Because counting stops working as soon as the
# context grows: with three characters of context there are 27³ = 19,683 contexts, most never
# seen. A network does not need a cell for every context; it needs a function that generalises.
# [Notebook 03](03_mlp.ipynb) keeps everything from here — logits, softmax, the loss, gradient
# descent, the sampler — and replaces `W[x]` with a small multi-layer network over three
# characters.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try next
#
# - **Minibatches.** Train on random batches of 32 examples, `F.cross_entropy(W[xs[ix]], ys[ix])`,
#   instead of the whole set: which learning rate works now, and how many steps reach 2.46?
# - **A bias.** Add a vector `b` of 27 numbers to the logits, `W[x] + b`, and train both: does the
#   final loss change? Why (or why not), given what section 9 found about rows of `W`?
# - **Another optimiser.** Replace the update `W.data -= lr * W.grad` with `torch.optim.Adam([W], lr=0.1)`
#   and compare the curves of section 8.
# - **Label smoothing.** `F.cross_entropy(..., label_smoothing=ε)` mixes each one-hot target with the
#   uniform distribution: put it on the entropy–loss plot of section 10 next to α and λ.
# - **Two characters in.** Concatenate the one-hot vectors of the last two characters (54 inputs)
#   and multiply by a (54, 27) matrix: how far below 2.45 does the dev loss go? Notebook 03 takes
#   this idea further.
#
# ## Exercises
#
# **Exercise 1 — a network that ignores its input.** Suppose every row of `W` is the same vector
# $b$: the logits no longer depend on the current character, and the network predicts one
# distribution, $\operatorname{softmax}(b)$, after every character. The best such network predicts
# how often each token is the next one overall. What whole-set loss (average NLL, nats per
# character) does it reach? Compute it from `N`; then set it beside the uniform model and the
# trained network: how much is knowing the previous character worth?

# %% tags=["exercise"]
answer = ...  # your code here, an expression using N
check("02.1", answer, N=N)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution
u = N.sum(0) / N.sum()  # (27,) how often each token is the next one
answer = -(u * u.log()).sum().item()  # the same average over all n examples: sum_j (n u_j)(-log u_j) / n
blind = u.log().expand(V, V)  # every row of W the same, b = log u
assert abs(count_loss(blind, N).item() - answer) < 1e-5
assert count_loss(blind + 0.1 * randn(V, generator=make_generator(), device=device), N) > count_loss(blind, N)
print(f"input-blind: {answer:.4f};  uniform: ln 27 = {math.log(V):.4f};  trained bigram: {final_loss:.4f}")
assert check("02.1", answer, N=N)
assert final_loss < answer < math.log(V) and 0.35 < answer - final_loss < 0.4
# Knowing how often each character occurs takes the loss from ln 27 to the first number; knowing the
# previous character as well brings it down to the bigram's: some 0.37 nats per character.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2 — how hard is the first letter?** PyTorch's `F.cross_entropy(logits, targets)`
# computes the softmax, the indexing and the average negative log in one call (more efficiently and
# more stably than our three steps). Use it to compute the trained network's average loss on the
# examples whose input is the boundary `.` — the predictions of a name's first letter — and compare
# it with the whole-set loss of section 9: is the first letter harder or easier than the average
# character?

# %% tags=["exercise"]
answer = ...
check("02.2", answer, W=W, N=N)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution
starts = xs_d == 0  # (228146,) the examples whose input is the boundary: one per name
answer = F.cross_entropy(W[xs_d[starts]], ys_d[starts]).item()
print(f"first letters: {answer:.4f} nats over {int(starts.sum()):,} examples; every example: {final_loss:.4f}")
assert check("02.2", answer, W=W, N=N)
assert answer > final_loss and int(starts.sum()) == len(words)
# Harder than the average character: after `.` the network knows nothing about the name yet, and
# the first letter is spread over many choices (section 5 of notebook 01 printed the distribution).

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3 — where smoothing shows.** Which bigram has the largest absolute difference between
# the trained network's probability `P_nn` and the add-one table's `P1`? Answer with its two
# characters as one string (such as `"ab"` for `a` followed by `b`), and think about why it is
# that one.

# %% tags=["exercise"]
answer = ...
check("02.3", answer, P_nn=P_nn, P1=P1, vocab=vocab)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution
gap = (P_nn - P1).abs()  # (27, 27)
i, j = divmod(gap.argmax().item(), V)
answer = vocab.itos[i] + vocab.itos[j]
print(f"{answer!r}: P_nn {P_nn[i, j]:.3f}, P1 {P1[i, j]:.3f}; row {vocab.itos[i]!r} holds {N_cpu[i].sum():.0f} counts, "
      f"{N_cpu[i, j] / N_cpu[i].sum():.0%} of them {answer!r}")
assert check("02.3", answer, P_nn=P_nn, P1=P1, vocab=vocab)
assert N_cpu[i].sum() == N_cpu.sum(1).min() and N_cpu[i].argmax() == j
assert P_nn[i, j] - P1[i, j] > (P_nn[i] - P1[i]).clamp_min(0).sum() / 2  # most of what the row gives up
# The network matches the unsmoothed table. Add-one smoothing gives every row 27 pseudo-counts,
# about 10% of the data in the rarest row, and takes their probability mostly from where it is
# concentrated: that row's one dominant continuation.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 4 — the gradient without autograd.** Section 6 derived the gradient over the examples,
# $\frac{1}{n} X^\top (P - Y)$; section 7 trains on the counts instead. Write
# `count_loss_grad(W, N, lam)` that returns the gradient of the regularised count loss
# $\ell_\lambda(W)$ of section 10 with respect to `W`, computed from `W` and `N` alone: no
# `backward()` (the check runs your function with autograd switched off) and no loop over examples.
# The check compares it with autograd's gradient, worked out inside the check, on the trained `W` and
# on a made-up `W` and table of counts, for λ = 0 and λ = 0.1. Then train with it.

# %% tags=["exercise"]
def count_loss_grad(W, N, lam):
    ...  # your code here: return a tensor shaped like W


check("02.4", count_loss_grad, W=W, N=N)  # runs it on the trained W and on a made-up W and N

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution
def count_loss_grad(W, N, lam):
    p = W.softmax(dim=1)  # (27, 27) the prediction after each character
    n_i = N.sum(1, keepdim=True)  # (27, 1) how many examples have input i
    # the n_i examples with input i add up p − onehot(y) to n_i · p[i] − N[i]; average over all n
    return (n_i * p - N) / N.sum() + 2 * lam * W / W.numel()  # d/dW of lam · mean(W²) is 2 lam W / V²


assert check("02.4", count_loss_grad, W=W, N=N)
W_hand = randn(V, V, generator=make_generator(), device=device)  # section 6's starting point
with torch.no_grad():
    for _ in range(100):
        W_hand -= 50 * count_loss_grad(W_hand, N, 0.01)
W_auto, _ = train_counts(N, 50, 100, lam=0.01)
print(f"100 steps on the hand-written gradient: loss {count_loss(W_hand, N).item():.2f}; "
      f"the same weights as with backward() to within 1e-4: {torch.allclose(W_hand, W_auto, atol=1e-4)}")
assert torch.allclose(W_hand, W_auto, atol=1e-4)
