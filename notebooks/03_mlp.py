# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 03 — A multilayer perceptron language model (Bengio et al. 2003)
#
# The bigram models of notebooks 01 and 02 see one character and guess the next. To see more, a
# table is hopeless: with three characters of context it would need 27³ = 19,683 rows, most of them
# never observed. Bengio, Ducharme, Vincent and Jauvin (2003, *A Neural Probabilistic Language
# Model*, JMLR 3) proposed a way out that still shapes every language model today:
#
# 1. give every token a short learned vector, its **embedding**, so that similar tokens can end up
#    close together and share what they learn;
# 2. concatenate the embeddings of the last *k* tokens, feed them through a **hidden layer** with a
#    tanh non-linearity, and
# 3. map the hidden layer to one **logit** per token of the vocabulary; a softmax turns logits into
#    the probabilities of the next token.
#
# **What you will build:** that model, from the tensors up: context windows, the embedding table,
# a hand-written training loop with minibatches, a learning-rate finder and a schedule chosen from
# it. You will watch a model under- and over-fit, look at what a 2-D embedding learns, run a small
# hyper-parameter study, and train a final model that beats the bigram by a wide margin
# (**dev ≤ 2.12** nats per character, against about 2.45 for the bigram). The training loop you
# write here becomes `utils.train.train`, which notebooks 04–06 reuse.
#
# **What you need:** the data, the vocabulary and the shared train/dev/test split from
# [00 — start here](00_start_here.ipynb); the negative log-likelihood loss from
# [01 — counting bigram](01_bigram_counting.ipynb); logits, softmax, `backward()` and gradient
# descent from [02 — neural bigram](02_bigram_neural.ipynb).
#
# **Previous:** [02 — neural bigram](02_bigram_neural.ipynb) · **Next:** [04 — training deeper networks](04_training_dynamics.ipynb)

# %%
import math
import sys

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display
from tqdm import tqdm

import utils
from utils.data import Vocab, context_windows, load_words, split_words
from utils.device import get_device, make_generator
from utils.exercises import check
from utils.models import RECIPES, n_params  # n_params: sum(p.numel() for p in model.parameters())
from utils.plotting import plot_embedding_2d, plot_loss
from utils.results import markdown_table, publish, read_results
from utils.sampling import sample
from utils.train import evaluate, lr_schedule, make_optimizer, train, warmup_cosine

# One CPU thread, as in every notebook: the same digits on every run (see notebook 00), and our
# matrices are small (a few hundred columns at most), so a second thread would mostly add overhead.
torch.set_num_threads(1)
device = get_device()
words = load_words()
vocab = Vocab.from_words(words)
V = len(vocab)
print(f"{len(words):,} words · vocabulary of {V} tokens: {vocab.decode(range(V))} · device: {device}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Context windows
#
# The model predicts the next character from the previous `block_size` characters. At the start of
# a word there is no previous character, so the window is padded with the boundary token `.` (index
# 0) — the same token that marks the end of a word and is, like every character, a target to
# predict. Here are the windows of the first three names, written out by hand:

# %%
block_size = 3
hand_X, hand_Y = [], []
for w in words[:3]:
    context = [0] * block_size  # start with k boundary tokens
    for ix in [*vocab.encode(w), 0]:  # every character, then the end of the word
        print(f"{vocab.decode(context)} ---> {vocab.itos[ix]}")
        hand_X.append(context)
        hand_Y.append(ix)
        context = [*context[1:], ix]  # slide the window by one

# %% [markdown] slideshow={"slide_type": "subslide"}
# A word of length L gives L + 1 examples (one per character, plus the end). `utils.data.context_windows`
# builds the same windows for any list of words as two integer tensors:

# %%
X3, Y3 = context_windows(words[:3], vocab, block_size)
print("X:", tuple(X3.shape), "Y:", tuple(Y3.shape))  # (N, block_size), (N,)
print(X3[:5].tolist(), "→", Y3[:5].tolist())
assert X3.tolist() == hand_X and Y3.tolist() == hand_Y
assert len(X3) == sum(len(w) + 1 for w in words[:3])

# %% [markdown] slideshow={"slide_type": "subslide"}
# We train on the course's shared split (notebook 00): the names are shuffled once with seed 42 and
# cut 80% / 10% / 10%. We **train** on the first part, use **dev** to choose settings and to watch
# for over-fitting, and touch **test** exactly once, at the very end. Every notebook reports on the
# same dev and test names, so the numbers compare across the course.

# %%
train_words, dev_words, test_words = split_words(words)
Xtr, Ytr = context_windows(train_words, vocab, block_size)  # (182625, 3), (182625,)
Xdev, Ydev = context_windows(dev_words, vocab, block_size)  # (22655, 3), (22655,)
Xte, Yte = context_windows(test_words, vocab, block_size)  # (22866, 3), (22866,)
for name, ws, X in [("train", train_words, Xtr), ("dev", dev_words, Xdev), ("test", test_words, Xte)]:
    print(f"{name:<5} {len(ws):>6,} words → {len(X):>7,} examples, X {tuple(X.shape)}")

# %%
assert (len(Xtr), len(Xdev), len(Xte)) == (182_625, 22_655, 22_866)
assert (len(train_words), len(dev_words), len(test_words)) == (25_626, 3_203, 3_204)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The embedding table C
#
# Notebook 02 fed characters in as one-hot vectors. Those vectors are **orthogonal**: the dot product
# of two different one-hot rows is 0, and every pair of different characters is the same distance
# (√2) apart. To a model that reads one-hot inputs, `a` is exactly as unlike `e` as it is unlike
# `x`, so whatever it learns after `a` teaches it nothing about `e`, however similarly the two behave.

# %%
eye = F.one_hot(torch.arange(V), num_classes=V).float()  # (27, 27): row i is token i, one-hot
dots = eye @ eye.T  # (27, 27): every pairwise dot product
i_a, i_e, i_x = vocab.stoi["a"], vocab.stoi["e"], vocab.stoi["x"]
print(f"a·e = {dots[i_a, i_e].item():.0f} · a·x = {dots[i_a, i_x].item():.0f} · a·a = {dots[i_a, i_a].item():.0f}")
print(f"distance a–e = {torch.dist(eye[i_a], eye[i_e]).item():.4f} · distance a–x = {torch.dist(eye[i_a], eye[i_x]).item():.4f}")
assert torch.equal(dots, torch.eye(V))  # orthogonal: no two tokens share anything
assert torch.dist(eye[i_a], eye[i_e]) == torch.dist(eye[i_a], eye[i_x])

# %% [markdown] slideshow={"slide_type": "subslide"}
# Bengio et al. worked with **words**, where this matters even more: their vocabularies held
# 16,383 words (the Brown corpus) and 17,964 words (AP News), so a one-hot input has about 17,000
# entries, and a sentence about a *cat* says nothing, through one-hot inputs, about the same
# sentence with *dog*. Their answer was to give each word a learned feature vector of a few dozen
# numbers (30 to 100 in their experiments), look up the vectors of the previous few words, and
# let training put words that are used alike near each other, so that what is learned about one
# word carries over to its neighbours. We do the same with characters: 27 tokens instead of
# ~17,000, and vectors of 2 to 12 numbers instead of 30 to 100.
#
# Each of the 27 tokens gets a row of a table `C` of shape `(V, d)`. We start with **d = 2** so
# that we can draw the embedding later. The rows start random; training will move them. The
# embedding of token $i$ is simply row $i$ of the table,
#
# $$e(i) = C_{i,:} \in \mathbb{R}^{d}, \qquad C \in \mathbb{R}^{V \times d},$$
#
# and in code `C[i]`:

# %%
g = make_generator()  # the course's seed, 2147483647
C = torch.randn(V, 2, generator=g)  # (27, 2)
print("C[5] =", C[5])  # one integer → one row, shape (2,)
print("C[[5, 6, 7]] =", C[[5, 6, 7]])  # a list → those rows, shape (3, 2)
idx = torch.tensor([[5, 6, 7], [7, 7, 0]])  # (2, 3)
print("C[idx].shape =", tuple(C[idx].shape))  # any shape of indices: (2, 3) → (2, 3, 2)
assert torch.equal(C[idx][1, 0], C[7]) and torch.equal(C[[5, 6, 7]][0], C[5])

# %% [markdown] slideshow={"slide_type": "subslide"}
# Indexing accepts integers, lists and tensors of any shape, repeats included: the result has the
# shape of the index with `d` appended. So `C[X]` embeds a whole batch of windows at once:

# %%
emb = C[Xtr[:32]]  # (32, 3) indices → (32, 3, 2) vectors
print(tuple(emb.shape))
assert emb.shape == (32, block_size, 2)
assert torch.equal(emb[4, 1], C[Xtr[4, 1]])

# %% [markdown] slideshow={"slide_type": "subslide"}
# Why is this a neural-network layer at all? Encode token 5 one-hot (notebook 02) and multiply by
# `C`: the single 1 picks out row 5 and the 26 zeros contribute nothing,
#
# $$\operatorname{onehot}(i)\, C = \sum_{j=1}^{V} [j = i]\, C_{j,:} = C_{i,:}.$$
#
# **Indexing is that matrix product with the multiplications by zero skipped.** So `C` is the
# weight matrix of a linear layer without bias whose input is one-hot, and gradients reach it the
# same way.

# %%
onehot = F.one_hot(torch.tensor(5), num_classes=V).float()  # (27,)
print("one_hot(5) @ C =", onehot @ C)
print("C[5]           =", C[5])
batch_onehot = F.one_hot(Xtr[:32], num_classes=V).float()  # (32, 3, 27)
assert torch.allclose(onehot @ C, C[5])
assert torch.allclose(batch_onehot @ C, C[Xtr[:32]])  # (32, 3, 27) @ (27, 2) → (32, 3, 2)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Flattening the window: `cat`, `unbind` and `view`
#
# The hidden layer wants one vector per example: the embeddings of the $k$ tokens of the window
# $(c_1, \dots, c_k)$ side by side,
#
# $$x = \left[\, C_{c_1,:} \;\; C_{c_2,:} \;\; \cdots \;\; C_{c_k,:} \,\right] \in \mathbb{R}^{k d},$$
#
# here $k = 3$ embeddings of $d = 2$ numbers, 6 numbers. There are three ways to get from
# `(32, 3, 2)` to `(32, 6)`:

# %%
flat_cat = torch.cat([emb[:, 0, :], emb[:, 1, :], emb[:, 2, :]], dim=1)  # (32, 6), hard-codes k = 3
flat_unbind = torch.cat(torch.unbind(emb, dim=1), dim=1)  # (32, 6), any k
flat_view = emb.view(32, -1)  # (32, 6), any k, and no copy
print(tuple(flat_cat.shape), tuple(flat_unbind.shape), tuple(flat_view.shape))
assert torch.equal(flat_cat, flat_view) and torch.equal(flat_unbind, flat_view)

# %% [markdown] slideshow={"slide_type": "subslide"}
# They hold the same numbers but cost different amounts of memory. A tensor is a view onto a flat
# block of memory (its *storage*) plus a shape and strides that say how to walk it. `emb` is
# already stored row after row, so `view` only changes the shape and strides and **shares the
# storage**; `cat` must allocate a new block and copy every number into it (and `unbind` returns
# three views, which `cat` then copies).

# %%
def storage(t):
    return t.untyped_storage().data_ptr()


for name, t in [("emb", emb), ("view", flat_view), ("cat", flat_cat), ("cat(unbind)", flat_unbind)]:
    shared = storage(t) == storage(emb)
    new_bytes = 0 if shared else t.untyped_storage().nbytes()
    print(f"{name:<12} shape {tuple(t.shape)!s:<10} strides {t.stride()!s:<10} "
          f"shares emb's storage: {shared!s:<5} new bytes: {new_bytes}")
assert storage(flat_view) == storage(emb)
assert storage(flat_cat) != storage(emb) and storage(flat_unbind) != storage(emb)
assert all(storage(t) == storage(emb) for t in torch.unbind(emb, dim=1))  # unbind itself copies nothing

# %% [markdown] slideshow={"slide_type": "subslide"}
# Sharing is not just bookkeeping: writing through the view changes `emb`. And a view is only
# possible when the layout allows it — after a transpose the numbers are no longer in the order the
# new shape needs, so `view` refuses and `reshape` quietly falls back to a copy.

# %%
e = emb.clone()
v = e.view(32, -1)
v[0, 0] = 99.0
print("after writing through the view, e[0, 0, 0] =", e[0, 0, 0].item())
try:
    e.transpose(1, 2).view(32, -1)
except RuntimeError as err:
    print("view after transpose:", str(err).split(".")[0])
r = e.transpose(1, 2).reshape(32, -1)
print("reshape after transpose shares storage:", storage(r) == storage(e))
assert e[0, 0, 0].item() == 99.0 and storage(r) != storage(e)

# %% [markdown] slideshow={"slide_type": "subslide"}
# For the whole training set with a 12-dimensional embedding, a `cat` copy is
# 182,625 × 36 × 4 bytes ≈ 26 MB on every forward pass (and the gradient takes the same path back);
# `view` costs nothing. We use `view(B, -1)` from now on.

# %%
print(f"cat copy of the full training set at d = 12: {Xtr.shape[0] * 3 * 12 * 4 / 1e6:.1f} MB")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The hidden layer and the output layer
#
# The hidden layer is a linear map from the $kd = 6$ inputs to $H$ neurons, followed by tanh; the
# output layer maps the $H$ activations to $V = 27$ logits $\ell$, and a softmax turns the logits
# into the probabilities of the next token. This is Bengio et al.'s model (without their optional
# direct connections from $x$ to the output):
#
# $$h = \tanh\left(x W_1 + b_1\right) \in \mathbb{R}^{H}, \qquad \ell = h W_2 + b_2 \in \mathbb{R}^{V},$$
#
# $$P(\text{next} = j \mid c_1, \dots, c_k) = \operatorname{softmax}(\ell)_j = \frac{e^{\ell_j}}{\sum_{i=1}^{V} e^{\ell_i}},$$
#
# with $W_1 \in \mathbb{R}^{kd \times H}$ and $W_2 \in \mathbb{R}^{H \times V}$. The bias `b1` has
# shape `(H,)` and broadcasts over the batch: shapes align from the right, so `(32, H) + (H,)` adds
# the same bias to every row.
#
# How to initialise the weights? Two rules make the first steps of training useful instead of
# wasted:
#
# - **The first loss should be ln 27 ≈ 3.2958.** Before training the model knows nothing, so it
#   should give every token about the same probability. Large random logits instead make it
#   *confidently wrong*. A small output layer (weights × 0.01, bias 0) keeps the logits near zero.
# - **tanh should not start saturated.** With unit-variance inputs, a sum of `fan_in` random terms
#   has standard deviation √fan_in; tanh of large numbers is ±1 and its gradient, 1 − tanh², is 0,
#   so a saturated neuron does not learn. Scaling the weights by gain/√fan_in keeps the
#   pre-activations of order one, so only their tails saturate; the gain 5/3 compensates for tanh
#   squashing its input (the value `torch.nn.init.calculate_gain("tanh")` gives, in the spirit of
#   Glorot & Bengio, 2010, and He et al., 2015). In symbols, with $Z$ a matrix of standard normal
#   draws: $W_1 = \frac{5/3}{\sqrt{kd}}\, Z$.
#
# First the parameters: five tensors, drawn from the course's generator, scaled unless `naive=True`.

# %%
def init_params(d, H, k=block_size, *, generator, naive=False, vocab_size=V):
    """[C, W1, b1, W2, b2] of an MLP with embedding size d, k inputs and H hidden neurons."""
    C = torch.randn(vocab_size, d, generator=generator)  # (V, d)
    W1 = torch.randn(k * d, H, generator=generator)  # (k·d, H)
    b1 = torch.randn(H, generator=generator)  # (H,)
    W2 = torch.randn(H, vocab_size, generator=generator)  # (H, V)
    b2 = torch.randn(vocab_size, generator=generator)  # (V,)
    if not naive:
        W1 *= (5 / 3) / (k * d) ** 0.5  # tanh gain / √fan_in
        b1 *= 0.01
        W2 *= 0.01  # logits ≈ 0 → first loss ≈ ln V
        b2 *= 0.0
    return [p.to(device).requires_grad_() for p in (C, W1, b1, W2, b2)]


params = init_params(10, 200, generator=make_generator())
print([tuple(p.shape) for p in params])  # C (27, 10), W1 (30, 200), b1 (200,), W2 (200, 27), b2 (27,)
assert [p.shape for p in params] == [(V, 10), (30, 200), (200,), (200, V), (V,)]

# %% [markdown] slideshow={"slide_type": "subslide"}
# Then the forward pass: embed the window ($C_{c_j,:}$), flatten it ($x$), hidden layer ($h$),
# output layer ($\ell$) — one line each.

# %%
def mlp(params, X):
    """Logits (B, V) for windows X (B, k): embed, flatten, tanh hidden layer, output layer."""
    C, W1, b1, W2, b2 = params
    emb = C[X]  # (B, k, d)
    h = torch.tanh(emb.view(X.shape[0], -1) @ W1 + b1)  # (B, H)
    return h @ W2 + b2  # (B, V)


Xb, Yb = Xtr[:512].to(device), Ytr[:512].to(device)  # a batch of 512 windows
print(tuple(mlp(params, Xb).shape))  # (512, 27): one row of logits per window
assert mlp(params, Xb).shape == (512, V)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The loss is notebook 02's: exponentiate the logits into counts, normalise each row, and average
# the negative log-probability of the correct next token over the $B$ examples of the batch (the
# **cross-entropy** between the data and the model):
#
# $$\mathcal{L} = -\frac{1}{B} \sum_{b=1}^{B} \log p_{b,\,y_b}, \qquad p_{b,:} = \operatorname{softmax}(\ell_{b,:}).$$

# %%
def nll(logits, Y):
    """Mean negative log-likelihood of the targets Y (B,) under logits (B, V), as in notebook 02."""
    counts = logits.exp()  # (B, V)
    probs = counts / counts.sum(1, keepdim=True)  # (B, V), rows sum to 1
    return -probs[torch.arange(len(Y), device=Y.device), Y].log().mean()


with torch.no_grad():
    first = nll(mlp(params, Xb), Yb).item()
print(f"first loss of the scaled model on the batch: {first:.4f}")
assert abs(first - math.log(V)) < 0.01

# %% [markdown] slideshow={"slide_type": "subslide"}
# Here is what the two initialisations do to that batch of 512 windows, for a model with a
# 10-dimensional embedding (30 inputs) and 200 hidden neurons:

# %%
for naive in (True, False):
    params = init_params(10, 200, generator=make_generator(), naive=naive)
    with torch.no_grad():
        C_, W1, b1, W2, b2 = params
        h = torch.tanh(C_[Xb].view(len(Xb), -1) @ W1 + b1)  # (512, 200)
        loss = nll(h @ W2 + b2, Yb).item()
    saturated = (h.abs() > 0.99).float().mean().item()
    print(f"{'naive  (randn)' if naive else 'scaled (ours) '}: first loss {loss:7.4f} · "
          f"tanh units saturated (|h| > 0.99): {saturated:6.1%}")
    if naive:
        naive_loss, naive_saturated = loss, saturated
print(f"uniform guess: ln {V} = {math.log(V):.4f}")
assert naive_loss > 10 and abs(loss - math.log(V)) < 0.01
assert saturated < naive_saturated / 3
assert math.isclose(torch.nn.init.calculate_gain("tanh"), 5 / 3)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The naive model starts out with a loss that training must first undo; ours starts exactly where
# knowing nothing should put it. From here on every model uses the scaled initialisation.
#
# ## 5. The loss, by hand and fused
#
# Our `nll` above is notebook 02's recipe: exponentiate the logits into positive "counts", normalise
# each row into probabilities, and average the negative log-probability of the correct next token.
# PyTorch's `F.cross_entropy` computes the same number in one call:

# %%
params = init_params(2, 100, generator=make_generator())
logits = mlp(params, Xtr[:32].to(device))  # (32, 27)
counts = logits.exp()  # (32, 27)
probs = counts / counts.sum(1, keepdim=True)  # (32, 27), rows sum to 1
loss_manual = -probs[torch.arange(32, device=device), Ytr[:32].to(device)].log().mean()
loss_fused = F.cross_entropy(logits, Ytr[:32].to(device))
print(f"manual {loss_manual.item():.4f} · F.cross_entropy {loss_fused.item():.4f}: they agree to within 1e-6")
assert torch.allclose(loss_manual, loss_fused, atol=1e-6)
assert torch.allclose(nll(logits, Ytr[:32].to(device)), loss_fused, atol=1e-6)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Why prefer the fused version? Besides being one call instead of four, the decisive reason is
# **numerical**. The softmax does not change if the same number is added to every logit of a row,
# so `F.cross_entropy` subtracts the row's maximum $m = \max_j \ell_j$ before exponentiating (the
# log-sum-exp trick):
#
# $$-\log p_y = -\ell_y + \log \sum_{j=1}^{V} e^{\ell_j} = -(\ell_y - m) + \log \sum_{j=1}^{V} e^{\ell_j - m},$$
#
# where every exponent is at most 0, so nothing overflows. The manual formula does not, and
# `exp(100)` ≈ 2.7·10⁴³ does not fit in a float32 (largest ≈ 3.4·10³⁸): it becomes `inf`, and
# `inf / inf` is `nan`.

# %%
big = torch.tensor([[-2.0, 3.0, 0.0, 100.0]])
target = torch.tensor([3])
c = big.exp()
manual = -(c / c.sum(1, keepdim=True))[0, 3].log()
print("exp of the logits:  ", c)
print("manual loss:        ", manual.item())
print("F.cross_entropy:    ", F.cross_entropy(big, target).item())
print("shifted by -100:    ", F.cross_entropy(big - 100, target).item())
assert math.isnan(manual.item()) and F.cross_entropy(big, target).item() == 0.0
assert torch.allclose(F.cross_entropy(big - 100, target), F.cross_entropy(big, target))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Minibatches: an approximate gradient, many more steps
#
# Notebook 02 computed the loss over *every* training example before each step. With 182,625
# examples that is expensive, and most of the work is redundant: a random batch of a few hundred
# examples already points in nearly the same direction. Let us measure it: compare the gradient of
# random batches with the full gradient (cosine similarity, 1 = same direction), five batches per
# size.

# %%
def flat_grad(params, X, Y):
    for p in params:
        p.grad = None
    F.cross_entropy(mlp(params, X.to(device)), Y.to(device)).backward()
    return torch.cat([p.grad.flatten() for p in params])


params = init_params(2, 100, generator=make_generator())
full = flat_grad(params, Xtr, Ytr)
gb = make_generator()
cosines = {}
for B in (32, 256, 2048):
    sims = [F.cosine_similarity(flat_grad(params, Xtr[ix], Ytr[ix]), full, dim=0).item()
            for ix in (torch.randint(0, len(Xtr), (B,), generator=gb) for _ in range(5))]
    cosines[B] = sum(sims) / len(sims)
    print(f"batch {B:>5} ({B / len(Xtr):6.2%} of the data): mean cosine with the full gradient {cosines[B]:.3f}")

# %%
assert cosines[32] < cosines[256] < cosines[2048] and cosines[256] > 0.7

# %% [markdown] slideshow={"slide_type": "subslide"}
# A batch of 256 examples costs 0.14% of a full pass and gives a direction already close to the
# full gradient's (a cosine near 0.8; larger batches are closer still, but cost proportionally
# more). So for the same amount of computation we can take about 700 noisy steps instead of one
# exact step. Here is that trade, from the same initialisation and at the same learning rate:
# 3 full-batch steps against 3 × 713 minibatch steps of 256 examples (both see about 548,000
# examples).

# %%
# NBVAL_IGNORE_OUTPUT
def sgd(params, X, Y, steps, lr, batch_size=None, generator=None):
    """Plain gradient descent; a random minibatch per step when batch_size is given."""
    for _ in range(steps):
        if batch_size is None:
            xb, yb = X, Y
        else:
            ix = torch.randint(0, len(X), (batch_size,), generator=generator)
            xb, yb = X[ix], Y[ix]
        loss = F.cross_entropy(mlp(params, xb.to(device)), yb.to(device))
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad


@torch.no_grad()
def split_loss(params, X, Y):
    return F.cross_entropy(mlp(params, X.to(device)), Y.to(device)).item()


full_params = init_params(2, 100, generator=make_generator())
sgd(full_params, Xtr, Ytr, steps=3, lr=0.5)
mini_params = init_params(2, 100, generator=make_generator())
sgd(mini_params, Xtr, Ytr, steps=3 * 713, lr=0.5, batch_size=256, generator=make_generator())
full_loss, mini_loss = split_loss(full_params, Xtr, Ytr), split_loss(mini_params, Xtr, Ytr)
print(f"3 full-batch steps:            training loss {full_loss:.3f}")
print(f"2,139 minibatch steps of 256:  training loss {mini_loss:.3f}")

# %%
assert mini_loss < full_loss - 0.5

# %% [markdown] slideshow={"slide_type": "subslide"}
# The exact gradient is a luxury: many cheap, slightly wrong steps get much further than a few
# expensive, exact ones. Both runs used the same update, **stochastic gradient descent**: every
# parameter $\theta$ (the five tensors) steps against the gradient of the loss $\mathcal{L}_{\mathcal{B}}$
# of the current batch $\mathcal{B}$ (the whole training set in the first run) with learning rate
# $\eta$,
#
# $$\theta \leftarrow \theta - \eta\, \nabla_{\theta} \mathcal{L}_{\mathcal{B}}(\theta),$$
#
# which is the line `p -= lr * p.grad` of `sgd` above.
#
# ## 7. A learning-rate finder
#
# The learning rate is the first setting of gradient descent to get right: too small and training
# crawls, too large and the loss jumps around or explodes. Instead of guessing, sweep it: start from
# a fresh model, take one minibatch step per learning rate while raising it exponentially from
# 10⁻³ to 10, and record the loss. (Smith, 2017, *Cyclical Learning Rates for Training Neural
# Networks*, popularised this test.) The loss first falls; once the steps become too large, it turns
# back up.

# %%
# NBVAL_IGNORE_OUTPUT
def lr_finder(forward, params, X, Y, *, generator, batch_size=256, lr_min=1e-3, lr_max=10.0, steps=800):
    """One SGD step per learning rate, raised exponentially; stops once the loss blows up."""
    lrs = torch.logspace(math.log10(lr_min), math.log10(lr_max), steps)  # (steps,)
    losses = []
    for lr in lrs.tolist():
        ix = torch.randint(0, len(X), (batch_size,), generator=generator)
        loss = F.cross_entropy(forward(X[ix].to(device)), Y[ix].to(device))
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 1.5 * losses[0]:
            break  # diverged: the rest of the sweep would only be noise
    return lrs[: len(losses)], torch.tensor(losses)


def pick_lr(lrs, losses, window=25):
    """The learning rate at the minimum of the moving average of the loss, to one significant digit."""
    smooth = losses.unfold(0, window, 1).mean(1)  # (n - window + 1,)
    best = smooth.argmin().item() + window // 2
    return float(f"{lrs[best].item():.1g}"), smooth


params = init_params(2, 100, generator=make_generator())
lrs, lr_losses = lr_finder(lambda X: mlp(params, X), params, Xtr, Ytr, generator=make_generator())
lr_2d, lr_smooth = pick_lr(lrs, lr_losses)
print(f"swept {len(lrs)} learning rates up to {lrs[-1].item():.2f}; lowest smoothed loss near lr = {lr_2d}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(lrs.tolist(), lr_losses.tolist(), alpha=0.3, label="loss of each step")
ax.plot(lrs[12 : 12 + len(lr_smooth)].tolist(), lr_smooth.tolist(), label="moving average of 25 steps")
ax.axvline(lr_2d, color="C3", linestyle="--", label=f"chosen: {lr_2d}")
ax.set_xscale("log")
ax.set_xlabel("learning rate (log scale)")
ax.set_ylabel("training loss")
ax.set_title("Learning-rate finder, 2-D embedding model")
ax.legend()
plt.show()

# %%
assert 0.1 <= lr_2d <= 1.0, lr_2d
assert lr_smooth[-1] > lr_smooth.min() + 0.1  # past the chosen rate the loss turns back up

# %% [markdown] slideshow={"slide_type": "subslide"}
# The loss falls steadily as the rate grows, is lowest near the chosen value, and beyond it the
# steps overshoot and the loss turns back up. A good recipe is to **start at the rate where the
# sweep's loss is lowest and decay it**: large steps cover ground early, small steps settle into a
# minimum late. The simplest
# schedule is a *step decay*: the full rate $\eta_0$ for the first three quarters of the $T$ steps,
# one tenth of it for the rest,
#
# $$\eta_t = \begin{cases} \eta_0 & t < \tfrac{3}{4} T \\ \eta_0 / 10 & t \ge \tfrac{3}{4} T, \end{cases}$$
#
# which is `step_decay` below.
#
# ## 8. The training loop, written out
#
# Everything so far, in one loop: sample a minibatch, forward, loss, backward, update. Around it,
# the things that make a loop usable in practice: a learning-rate schedule, a progress bar (`tqdm`),
# and an evaluation of the **whole dev split** every 1,000 steps, because the loss of one minibatch
# is too noisy to judge progress by. We train the 2-D embedding model for 8,000 steps.

# %%
def step_decay(step, lr=lr_2d, total=8000):
    return lr if step < 0.75 * total else lr / 10


@torch.no_grad()
def dev_loss(params):
    return F.cross_entropy(mlp(params, Xdev.to(device)), Ydev.to(device)).item()


params_2d = init_params(2, 100, generator=make_generator())  # C is (27, 2)
g = make_generator()
step_losses, dev_steps, dev_losses = [], [], []

# %%
# NBVAL_IGNORE_OUTPUT
steps_2d = 8000
bar = tqdm(range(steps_2d), file=sys.stdout, mininterval=2.0, ncols=90)
for step in bar:
    ix = torch.randint(0, len(Xtr), (256,), generator=g)  # (256,) random example indices
    xb, yb = Xtr[ix].to(device), Ytr[ix].to(device)  # (256, 3), (256,)
    loss = F.cross_entropy(mlp(params_2d, xb), yb)  # forward
    for p in params_2d:
        p.grad = None
    loss.backward()  # backward
    lr = step_decay(step)
    with torch.no_grad():
        for p in params_2d:
            p -= lr * p.grad  # update
    step_losses.append(loss.item())
    if (step + 1) % 1000 == 0:  # the whole dev split, every 1,000 steps
        dev_steps.append(step + 1)
        dev_losses.append(dev_loss(params_2d))
        bar.set_postfix(loss=f"{loss.item():.3f}", dev=f"{dev_losses[-1]:.4f}", refresh=False)
bar.close()
print(f"dev loss after {steps_2d:,} steps: {dev_losses[-1]:.4f}")

# %%
assert dev_losses[-1] < 2.35 and dev_losses[-1] < dev_losses[0], dev_losses
assert dev_losses[dev_steps.index(7000)] < dev_losses[dev_steps.index(6000)] - 0.03  # the decay at step 6,000

# %% [markdown] slideshow={"slide_type": "subslide"}
# The loss of single minibatches jumps around, so we plot its mean over blocks of 200 steps: a
# `(8000,)` list viewed as `(40, 200)` and averaged along the rows. The drop at step 6,000 is the
# learning-rate decay: smaller steps settle the parameters deeper into the valley they are in.

# %%
smooth = torch.tensor(step_losses).view(-1, 200).mean(1)  # (40,)
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(step_losses, alpha=0.15, label="loss of each minibatch")
ax.plot([200 * i + 100 for i in range(len(smooth))], smooth.tolist(), label="mean of 200 steps")
ax.plot(dev_steps, dev_losses, "o--", label="dev (whole split)")
ax.set_ylim(1.9, 3.4)
ax.set_xlabel("step")
ax.set_ylabel("loss (nats per character)")
ax.legend()
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to see: the single minibatches scatter in a wide band, while their 200-step mean and the dev
# points fall together and then step down once more right after step 6,000, where the rate drops
# to a tenth. The dev points sit on the training mean: a model this small does not over-fit. And
# even this tiny model (2 numbers per character!) with three characters of context ends well below
# the bigram's dev loss of about 2.45.

# %%
assert smooth[30:].mean() < smooth[20:30].mean()  # the training mean is lower after the decay at step 6,000
assert abs(dev_losses[-1] - smooth[-5:].mean().item()) < 0.1  # dev on the training mean: no over-fitting
assert dev_losses[-1] < 2.45 - 0.1  # below the bigram's dev loss
#
# ## 9. What the 2-D embedding learned
#
# Each character is now a point in the plane. Nothing told the model what a vowel is, yet
# characters that play similar roles in names — that can follow the same contexts and be followed by
# the same characters — have been pushed together, because sharing an embedding lets them share
# what the hidden layer learns.

# %%
C_2d = params_2d[0].detach().cpu()  # (27, 2)
plot_embedding_2d(C_2d, vocab, title="The learned 2-D embedding C (vowels in orange)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Look for the vowels: `a`, `e`, `i` and `o` sit together at one edge, with `y` — which often acts
# as a vowel in names — close to them; `u`, much rarer in names than the other four, has not joined
# them. The boundary token `.` is far from everything: no character behaves like "start or end of
# a name". In numbers:

# %%
# NBVAL_IGNORE_OUTPUT
def mean_distance(a, b):
    A, B = C_2d[[vocab.stoi[c] for c in a]], C_2d[[vocab.stoi[c] for c in b]]
    d = torch.cdist(A, B)
    return d.sum().item() / (d.numel() - (len(a) if a == b else 0))  # skip each point's distance to itself


vowels, consonants = "aeio", "bcdfghjklmnpqrstvwxz"
within_vowels, vowel_consonant = mean_distance(vowels, vowels), mean_distance(vowels, consonants)
y_vowel, u_vowel = mean_distance("y", vowels), mean_distance("u", vowels)
boundary_dist = torch.cdist(C_2d[:1], C_2d[1:]).mean().item()
print(f"mean distance among a, e, i, o:         {within_vowels:.2f}")
print(f"mean distance a, e, i, o ↔ consonants:  {vowel_consonant:.2f}")
print(f"mean distance y ↔ a, e, i, o:           {y_vowel:.2f}")
print(f"mean distance u ↔ a, e, i, o:           {u_vowel:.2f}")
print(f"mean distance '.' ↔ any character:      {boundary_dist:.2f}")
letter_counts = {c: sum(w.count(c) for w in words) for c in "aeiou"}
print("occurrences in the names:", letter_counts)

# %%
assert within_vowels < vowel_consonant and y_vowel < vowel_consonant
assert u_vowel > within_vowels and letter_counts["u"] < min(letter_counts[c] for c in vowels)
assert boundary_dist > vowel_consonant

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 10. The loop, packaged: `utils.train.train`
#
# The loop above is what every model of the course needs, so it is packaged in `utils.train`:
#
# - `train(model, X, Y, optimizer=..., steps=..., generator=g, batch_size=..., lr_schedule=fn, dev=(X_dev, Y_dev), eval_every=...)`
#   runs it with a progress bar and returns a `History` (the loss of every step, the learning rates,
#   the dev losses, the seconds spent);
# - `evaluate(model, X, Y)` is the loss over a whole split, in batches;
# - `lm_loss` is `F.cross_entropy` that also accepts the `(B, T, V)` logits of the sequence models of
#   notebooks 05 and 06.
#
# It takes a `torch.nn.Module` and a PyTorch optimizer. Our model becomes a module with the same
# parameters, the same initialisation and the same forward pass; `torch.optim.SGD` without
# momentum does exactly our update `p -= lr * p.grad`.

# %%
class MLP(torch.nn.Module):
    """Bengio et al. (2003): embeddings of the last k tokens → tanh hidden layer → logits."""

    def __init__(self, vocab_size, block_size, n_embd, n_hidden, *, generator):
        super().__init__()
        C, W1, b1, W2, b2 = init_params(n_embd, n_hidden, block_size, generator=generator, vocab_size=vocab_size)
        self.C, self.W1, self.b1, self.W2, self.b2 = (torch.nn.Parameter(p.detach()) for p in (C, W1, b1, W2, b2))

    def forward(self, X):  # (B, k) → (B, V)
        h = torch.tanh(self.C[X].view(X.shape[0], -1) @ self.W1 + self.b1)  # (B, H)
        return h @ self.W2 + self.b2


model = MLP(V, block_size, 2, 100, generator=make_generator()).to(device)
print(model.W1.shape, model.W2.shape, f"{n_params(model):,} parameters")

# %% [markdown] slideshow={"slide_type": "subslide"}
# PyTorch ships our two building blocks as layers, and notebooks 04 and 06 use them.
# `torch.nn.Embedding(V, d)` holds a `(V, d)` table in `.weight` and its forward pass is `C[X]`;
# `torch.nn.Linear(n_in, n_out)` holds a weight and a bias and computes `x @ W + b`, except that it
# stores the weight **transposed**, as `(n_out, n_in)`, and computes `x @ weight.T + bias`. Give
# them our tensors and they must reproduce our forward pass:

# %%
embedding = torch.nn.Embedding(V, 2).to(device)
hidden = torch.nn.Linear(block_size * 2, 100).to(device)
with torch.no_grad():
    embedding.weight.copy_(model.C)  # (27, 2): the same table
    hidden.weight.copy_(model.W1.T)  # (100, 6): W1 (6, 100), transposed
    hidden.bias.copy_(model.b1)  # (100,)
    xb = Xtr[:32].to(device)
    ours = torch.tanh(model.C[xb].view(32, -1) @ model.W1 + model.b1)  # (32, 100), by hand
    theirs = torch.tanh(hidden(embedding(xb).view(32, -1)))  # (32, 100), with the layers
print("nn.Embedding(X) equals C[X] exactly:", torch.equal(embedding(xb), model.C[xb]))
print("nn.Linear(x) equals x @ W1 + b1 to within 1e-6:", torch.allclose(theirs, ours, atol=1e-6))
assert torch.equal(embedding(xb), model.C[xb])
assert torch.allclose(theirs, ours, atol=1e-6)
assert hidden.weight.shape == (100, block_size * 2)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Same seed, same initialisation, same batches: the packaged loop must reproduce the first 500
# losses of our hand-written loop (up to float rounding).

# %%
# NBVAL_IGNORE_OUTPUT
h_check = train(model, Xtr, Ytr, optimizer=torch.optim.SGD(model.parameters(), lr=lr_2d), steps=500,
                generator=make_generator(), batch_size=256, lr_schedule=step_decay, progress=False, device=device)
gap = max(abs(a - b) for a, b in zip(h_check.step_loss, step_losses[:500], strict=True))
print(f"largest difference over 500 steps: {gap:.1e}")

# %%
assert gap < 1e-4

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 11. Under-fitting and over-fitting
#
# The dev split tells us something the training loss cannot: whether the model learned patterns
# that hold for *new* names. Two failure modes:
#
# - **under-fitting**: the model is too small (or trained too little) to capture the patterns;
#   training and dev loss are both high, and close to each other;
# - **over-fitting**: the model has enough capacity to memorise its training examples; the training
#   loss keeps falling while the dev loss stalls and then rises.
#
# With 182,625 examples and our budget of seconds, even a large MLP barely over-fits. To make it
# visible quickly we train on only the first 1,000 training names (about 7,000 examples) — a small
# data set is exactly where over-fitting bites in practice. Both models get the same 4,000 steps of
# 128 examples (about 70 passes over the small set); one has 10 hidden neurons, the other 500. We
# measure the whole dev split every 100 steps, often enough to see where the dev loss is lowest.
#
# From here on the learning rate follows a **cosine schedule** instead of section 8's single drop:
# it glides from its peak $\eta_0$ down to 5% of it along half a cosine wave, for step $t$ of $T$:
#
# $$\eta_t = \eta_0 \left(0.05 + 0.95 \cdot \tfrac{1}{2}\left(1 + \cos\frac{\pi t}{T}\right)\right).$$
#
# It starts flat (large steps
# while the loss falls fast), decays fastest in the middle, and flattens out again at the end (small
# steps that settle into a minimum), without the sudden jump of a step decay.

# %%
def cosine_decay(step, lr, total):
    """The learning rate at `step` of `total`: from lr down to 0.05·lr along half a cosine wave."""
    return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * step / total)))


print(" · ".join(f"step {t:>4}: {cosine_decay(t, 0.4, 4000):.3f}" for t in (0, 1000, 2000, 3000, 4000)))
assert cosine_decay(0, 0.4, 4000) == 0.4 and abs(cosine_decay(4000, 0.4, 4000) - 0.02) < 1e-12
assert abs(cosine_decay(2000, 0.4, 4000) - 0.21) < 1e-12  # halfway: the mean of 0.4 and 0.02
# the packaged schedule that the final model's recipe uses (utils.train.warmup_cosine, no warmup) is this curve
assert all(abs(cosine_decay(t, 0.4, 4000) - warmup_cosine(0.4, 0, 4000, 0.05)(t)) < 1e-12 for t in range(4001))

# %%
Xsmall, Ysmall = context_windows(train_words[:1000], vocab, block_size)  # (≈7,000, 3)
print(f"small training set: {len(Xsmall):,} examples")


def fit(n_embd, n_hidden, X, Y, steps, *, k=block_size, lr=0.4, batch_size=256, eval_every=500, Xd=Xdev, Yd=Ydev):
    """A fresh MLP trained with SGD and a cosine learning-rate decay; returns (model, history)."""
    model = MLP(V, k, n_embd, n_hidden, generator=make_generator()).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    schedule = lambda step: cosine_decay(step, lr, steps)
    history = train(model, X, Y, optimizer=opt, steps=steps, generator=make_generator(), batch_size=batch_size,
                    lr_schedule=schedule, dev=(Xd, Yd), eval_every=eval_every, progress=False, device=device)
    return model, history


# %%
# NBVAL_IGNORE_OUTPUT
fits = {}
for H in (10, 500):
    m, hist = fit(10, H, Xsmall, Ysmall, steps=4000, batch_size=128, eval_every=100)
    fits[H] = (evaluate(m, Xsmall, Ysmall, device=device), hist.dev_loss[-1], min(hist.dev_loss), hist)
    best_step = hist.dev_steps[min(range(len(hist.dev_loss)), key=hist.dev_loss.__getitem__)]
    print(f"H = {H:>3}: {n_params(m):>6,} parameters · train {fits[H][0]:.3f} · dev {fits[H][1]:.3f} "
          f"(best dev {fits[H][2]:.3f} at step {best_step:,}) · gap {fits[H][1] - fits[H][0]:+.3f}")

# %%
plot_loss({"10 hidden": fits[10][3], "500 hidden": fits[500][3]}, window=250,
          title="Small training set: under-fitting (10) and over-fitting (500)")
plt.ylim(1.0, 3.3)
plt.show()

# %%
(train10, dev10, _, _), (train500, dev500, best500, _) = fits[10], fits[500]
assert train10 > 2.2 and dev10 - train10 < 0.15  # under-fits: both high, close together
assert dev10 < dev500  # ... yet on so little data it generalises better than the large model
assert dev500 - train500 > 0.5  # over-fits: memorised the training names
assert dev500 > best500 + 0.05  # and its dev loss went back up
dev_curve500 = torch.tensor(fits[500][3].dev_loss)  # (40,): one dev loss every 100 steps
best_at = dev_curve500.argmin().item()
assert 0 < best_at < len(dev_curve500) - 1, best_at  # the dev minimum lies inside the run: a U
print(f"H = 500: {len(dev_curve500)} dev evaluations; the lowest is neither the first nor the last")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The small model's curves stay together at a high loss: it cannot represent what it sees. The
# large one drives its training loss far below anything achievable on new names while its dev loss
# traces a U: it falls, bottoms out early in the run, and climbs again for the rest of it. From
# the bottom of the U on, it is learning the 1,000 names by heart. Remedies are more data (the full training
# set), a smaller model, stopping early at the best dev loss, or regularisation (the L2 penalty of
# notebook 02). On the full training set, the final model below (300 neurons) shows only a small
# gap between train and dev: the right capacity depends on how much data there is.
#
# ## 12. A small hyper-parameter study
#
# Which matters most: a longer context (`block_size`), a richer embedding (`d`) or a wider hidden
# layer (`H`)? We vary one at a time around a base model (k = 3, d = 10, H = 200), with the same
# short recipe for all: 2,000 steps of 256 examples, cosine decay from lr 0.4. Short runs favour
# small models, so read the table as trends, not final numbers.

# %%
study_configs = [(3, 10, 200), (2, 10, 200), (4, 10, 200), (3, 2, 200), (3, 16, 200), (3, 10, 50), (3, 10, 400)]
windows = {k: (context_windows(train_words, vocab, k), context_windows(dev_words, vocab, k)) for k in (2, 4)}
windows[3] = ((Xtr, Ytr), (Xdev, Ydev))

# %%
# NBVAL_IGNORE_OUTPUT
study = []
for k, d, H in study_configs:
    (Xk, Yk), (Xk_dev, Yk_dev) = windows[k]
    m, hist = fit(d, H, Xk, Yk, steps=2000, k=k, eval_every=2000, Xd=Xk_dev, Yd=Yk_dev)
    study.append({"block": k, "embedding": d, "hidden": H, "params": n_params(m), "dev": hist.dev_loss[-1]})
display(Markdown(markdown_table(study, columns=["block", "embedding", "hidden", "params", "dev"],
                                extra={"block": "block size k", "embedding": "embedding d", "hidden": "hidden H"})))

# %%
dev_of = {(r["block"], r["embedding"], r["hidden"]): r["dev"] for r in study}
base = dev_of[(3, 10, 200)]
for small, large in [((2, 10, 200), (4, 10, 200)), ((3, 2, 200), (3, 16, 200)), ((3, 10, 50), (3, 10, 400))]:
    assert dev_of[small] > base > dev_of[large]  # each direction helps ...
    assert dev_of[small] - base > base - dev_of[large]  # ... with diminishing returns
params_of = {(r["block"], r["embedding"], r["hidden"]): r["params"] for r in study}
assert 1.9 < params_of[(3, 10, 400)] / params_of[(3, 10, 200)] < 2.1  # the wider layer: about twice the parameters

# %% [markdown] slideshow={"slide_type": "subslide"}
# Every direction helps, and each with diminishing returns: the step from 2 to 3 characters of
# context gains more than the step from 3 to 4, an embedding of 10 numbers is far better than 2 but
# 16 adds little, and 200 hidden neurons beat 50 by more than 400 beat 200 — while the wider layer
# has twice the parameters of the base, and each step costs about twice the multiply-adds. Every
# choice is read from the **dev** column; test plays no part. To stay comparable with the classic
# Bengio-style model we keep **block size 3** (a longer context is one of the exercises) and take a
# richer embedding and a wider hidden layer than the base: **d = 12, H = 300**, 19,551 parameters.
# It gets the largest share of this notebook's time budget.
#
# ## 13. The final model
#
# First the learning-rate finder again, because the best rate depends on the model:

# %%
# NBVAL_IGNORE_OUTPUT
final = MLP(V, block_size, 12, 300, generator=make_generator()).to(device)
lrs, lr_losses = lr_finder(final, list(final.parameters()), Xtr, Ytr, generator=make_generator())
lr_final, _ = pick_lr(lrs, lr_losses)
print(f"lowest smoothed loss near lr = {lr_final}")

# %%
assert 0.1 <= lr_final <= 1.0, lr_final
assert lr_final == RECIPES["mlp"].lr  # the final model's recipe (utils/models/mlp.py) holds this choice

# %% [markdown] slideshow={"slide_type": "subslide"}
# We decay from that rate with the **cosine schedule** of section 11 (from the peak down to 5% of
# it along half a cosine wave). 20,000 steps of 256 examples are 28
# passes over the training set.

# %%
# NBVAL_IGNORE_OUTPUT
recipe = RECIPES["mlp"]  # k = 3, d = 12, H = 300, 20,000 steps of 256, cosine from lr_final down to 5%
final_steps = recipe.steps
cosine = lr_schedule(recipe)  # lr_final · (0.05 + 0.95 · ½(1 + cos(π · step / final_steps)))
sizes = recipe.model  # MLPSettings(block_size=3, n_embd=12, n_hidden=300)
final = MLP(V, sizes.block_size, sizes.n_embd, sizes.n_hidden, generator=make_generator()).to(device)  # a fresh start
print(f"{n_params(final):,} parameters · lr {cosine(0):.3f} → {cosine(final_steps // 2):.3f} → {cosine(final_steps - 1):.3f}")
print(f"{final_steps * 256 / len(Xtr):.0f} passes over the training set")

# %%
# NBVAL_IGNORE_OUTPUT
hist_final = train(final, Xtr, Ytr, optimizer=make_optimizer(recipe, final), steps=final_steps,  # SGD at lr_final
                   generator=make_generator(), batch_size=recipe.batch, lr_schedule=cosine, dev=(Xdev, Ydev),
                   eval_every=recipe.eval_every, device=device)
train_final = evaluate(final, Xtr, Ytr, device=device)
dev_final = hist_final.dev_loss[-1]
print(f"training took {hist_final.seconds:.1f} s · train {train_final:.4f} · dev {dev_final:.4f}")

# %%
assert dev_final <= 2.12, dev_final
assert n_params(final) == 19_551
assert train_final < dev_final < train_final + 0.08  # a small gap: no serious over-fitting

# %%
plot_loss({"MLP k=3, d=12, H=300": hist_final}, window=500, title="The final model")
plt.ylim(1.9, 2.6)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to see: the training mean and the dev points fall fast for the first few thousand steps, then
# slowly, and keep falling to the end as the cosine schedule shrinks the steps; the dev points stay
# just above the training curve (the small gap asserted above), so there is nothing to gain from
# stopping early.

# %%
dev_curve = hist_final.dev_loss  # one dev loss every 2,000 steps
assert all(dev_curve[i + 1] < dev_curve[i] for i in range(len(dev_curve) - 1)), dev_curve  # dev falls at every evaluation
assert min(hist_final.dev_loss) == dev_final  # the last evaluation is the best: no reason to stop early

# %% [markdown] slideshow={"slide_type": "subslide"}
# Only now, with every choice made, do we look at the test split — once. It should agree with dev
# to within noise, since neither was used for training and only dev was used for choosing.

# %%
# NBVAL_IGNORE_OUTPUT
test_final = evaluate(final, Xte, Yte, device=device)
print(f"final model: dev {dev_final:.4f} · test {test_final:.4f}")

# %%
assert test_final <= 2.15 and abs(test_final - dev_final) < 0.05

# %% [markdown] slideshow={"slide_type": "subslide"}
# The final model is packaged as `utils.models.MLP` (the command `sequentia train --type mlp` trains
# it with this recipe). Built from the course's seed it draws the same initial weights as our class,
# and loaded with our trained weights it computes the same logits, on windows and along whole words:

# %%
import utils.models

fresh = utils.models.MLP(V, block_size, 12, 300, generator=make_generator())
ours = MLP(V, block_size, 12, 300, generator=make_generator())
assert all(torch.equal(a, b.cpu()) for a, b in zip(fresh.state_dict().values(), ours.state_dict().values(), strict=True))
packaged = utils.models.MLP(V, block_size, 12, 300)
packaged.load_state_dict({k: v.cpu() for k, v in final.state_dict().items()})
with torch.no_grad():
    assert torch.equal(packaged.window_logits(Xdev), final.cpu()(Xdev))  # (22655, 27)
    rows = torch.tensor([[0, *vocab.encode("emma")]])  # (1, 5): the packaged model reads whole words too
    assert torch.allclose(packaged(rows)[0], final(context_windows(["emma"], vocab, block_size)[0]), atol=1e-6)
final.to(device)
print("utils.models.MLP: the same initial weights from the same seed, and the same logits from our trained weights")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 14. Sampling
#
# To generate a name, start from `...`, ask the model for the next-character distribution, draw a
# character, slide the window, and repeat until the boundary token comes out. `utils.sampling.sample`
# does exactly that with the course's seeded generator (`window=3` keeps the last three tokens as
# context).

# %%
# NBVAL_IGNORE_OUTPUT
final.eval()
names = sample(final, vocab, 20, make_generator(), window=block_size, device=device)
known = set(words)
print(" ".join(names))
print(f"{sum(n not in known for n in names)} of {len(names)} are not in the data set")

# %%
assert len(names) == 20 and all(set(n) <= set(vocab.chars) for n in names)
assert sum(n not in known for n in names) >= 5  # the model invents names

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A **context window** of the last k characters, padded with the boundary token, turns every
#   name into (context, next character) examples: 182,625 / 22,655 / 22,866 for train / dev / test.
# - An **embedding table** `C` maps each token to a learned vector; `C[X]` is a one-hot matrix
#   product without the zeros. `view` flattens a window for free; `cat` copies.
# - A **tanh hidden layer** and an **output layer** give logits; `F.cross_entropy` is the loss,
#   stable where the hand formula overflows. A **scaled initialisation** starts at ln 27 with few
#   saturated neurons.
# - **Minibatches** give noisy but well-aligned gradients at a fraction of the cost; a
#   **learning-rate finder** picks the rate, and a decaying **schedule** finishes the job.
# - **Dev** shows under- and over-fitting; the **test** split is touched once.
# - The packaged loop, `utils.train.train`, is the one notebooks 04–06 use.
#
# The final MLP (k = 3, d = 12, H = 300) reaches about 2.09 nats per character on both dev and test
# (dev ≤ 2.12 is asserted above), against about 2.45 for the bigram models. The table below collects the course's results so far (the bigram rows are
# read from notebooks 01 and 02 when they have been executed). It leaves out training seconds: they
# depend on the machine and its load, and the bigram rows' would be those of whichever run stored 01
# and 02; each notebook prints its own.

# %%
# NBVAL_IGNORE_OUTPUT
rows = []
for nb in ("01_bigram_counting", "02_bigram_neural"):
    path = utils.REPO_ROOT / "notebooks" / f"{nb}.ipynb"
    if path.exists():
        rows += read_results(path)
mlp_row = {"model": "MLP (Bengio et al. 2003), k=3, d=12, H=300", "params": n_params(final),
           "train_seconds": hist_final.seconds, "dev": dev_final, "test": test_final}
publish("03_mlp", [*rows, mlp_row], columns=("model", "params", "dev", "test"))

# %%
assert mlp_row["dev"] <= 2.12 and mlp_row["train_seconds"] > 0
assert abs(dev_final - 2.09) < 0.02 and abs(test_final - 2.09) < 0.02
assert all(r["dev"] > mlp_row["dev"] for r in rows)  # the MLP beats every bigram row

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try next
#
# - **A longer window.** Train the final recipe with `block_size` 5 or 8 (`context_windows` and
#   `fit` take it) and watch the first layer grow as $kdH$ while the dev gain shrinks; notebook 04
#   reaches a context of 8 without that growth, by fusing the window hierarchically.
# - **Temperature.** `utils.sampling.sample` takes `temperature`: sample the final model at 0.5
#   and at 1.5 and say what changes in the names, and why, from the softmax equation above.
# - **A larger embedding, looked at.** Train with d = 12 and project `C` to two dimensions with
#   `torch.pca_lowrank`: do the vowels still gather?
# - **Early stopping by hand.** In the small-data run of section 11, keep the parameters of the best
#   dev evaluation instead of the last, and compare the two dev losses.
# - **Your own list.** `sequentia train -i FILE --type mlp -o runs/mine` trains this notebook's
#   recipe on any list, one item per line (see the README).
#
# **Next:** [04 — training deeper networks](04_training_dynamics.ipynb) stacks more hidden layers on
# this MLP and makes them train (initialisation, normalisation, backprop by hand, optimisers), then
# widens the window to 8 characters with a WaveNet-style hierarchy;
# [05 — recurrent networks](05_rnn_gru.ipynb) replaces the fixed window with a memory that runs
# along the whole name.
#
# ## Exercises
#
# Write your answer in place of the `...` and run the cell; the hidden cell after it holds a worked
# solution (click to expand it in JupyterLab or the HTML course).
#
# ### Exercise 1 — count the parameters
#
# Write the number of parameters of an MLP as a function of the vocabulary size `V`, the block size
# `k`, the embedding size `d` and the hidden size `H` (all five tensors: `C`, `W1`, `b1`, `W2`,
# `b2`). The check compares your formula with real models.

# %% tags=["exercise"]
def count_params(V, k, d, H):
    return ...  # your formula


check("03.1", count_params, MLP=MLP)  # compares your formula with real models of several sizes

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution: C is V×d, W1 is (k·d)×H, b1 is H, W2 is H×V, b2 is V.
def count_params(V, k, d, H):
    return V * d + k * d * H + H + H * V + V


print(f"V = 27, k = 5, d = 16, H = 128: {count_params(27, 5, 16, 128):,} parameters")
for cfg in [(27, 3, 12, 300), (27, 3, 2, 100), (40, 8, 24, 512)]:
    assert count_params(*cfg) == n_params(MLP(*cfg, generator=make_generator()))
assert check("03.1", count_params, MLP=MLP)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2 — a first loss of ln 27
#
# Below, a model with a *naive* initialisation: every tensor is `torch.randn`. Its first loss on
# the batch is far above ln 27. Change **only the output layer** (`W2_e` and `b2_e`) so that the
# first loss on `Xb, Yb` is within 0.01 of ln 27, and give the fixed output layer `(W2_e, b2_e)` as
# your answer: the check computes the loss of your layer on top of the naive hidden layer itself.

# %% tags=["exercise"]
ge = make_generator()
C_e, W1_e, b1_e, W2_e, b2_e = (torch.randn(*shape, generator=ge) for shape in [(V, 10), (30, 200), (200,), (200, V), (V,)])
# your change to W2_e and b2_e here
first_loss = F.cross_entropy(mlp([C_e, W1_e, b1_e, W2_e, b2_e], Xb.cpu()), Yb.cpu()).item()
print(f"first loss {first_loss:.4f}")
answer = ...  # (W2_e, b2_e), once you have fixed the output layer
check("03.2", answer, C=C_e, W1=W1_e, b1=b1_e, X=Xb, Y=Yb)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution: logits = h @ W2 + b2. Shrinking W2 makes every logit ≈ b2; a zero b2 makes them all equal,
# so the softmax is uniform and the loss is ln 27, whatever the (saturated) hidden layer does.
W2_e, b2_e = W2_e * 0.001, b2_e * 0.0
first_loss = F.cross_entropy(mlp([C_e, W1_e, b1_e, W2_e, b2_e], Xb.cpu()), Yb.cpu()).item()
saturated_e = (torch.tanh(C_e[Xb.cpu()].view(len(Xb), -1) @ W1_e + b1_e).abs() > 0.99).float().mean().item()
print(f"first loss {first_loss:.4f} · tanh units saturated: {saturated_e:.1%}")
assert saturated_e > 0.5
assert check("03.2", (W2_e, b2_e), C=C_e, W1=W1_e, b1=b1_e, X=Xb, Y=Yb)
# The output layer fixes the first loss, but not the saturated tanh units: with W1_e still
# unscaled most neurons sit at ±1 and learn slowly. That is why `init_params` scales W1 too.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3 — beat the notebook's dev loss
#
# The study showed that a longer context helps. Train a model of your choice on the training
# split (any block size, sizes, schedule, number of steps — `fit` and `train` are there to help)
# and give the trained model and its block size as `(model, block_size)`. The check builds the dev
# windows for that block size and scores the model itself; it must beat the final model's dev loss
# by at least 0.005 nats.

# %% tags=["exercise"]
answer = ...  # (your trained model, its block size)
check("03.3", answer, dev_words=dev_words, vocab=vocab, dev_final=dev_final)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# NBVAL_IGNORE_OUTPUT
# Solution: four characters of context, the final model's sizes and recipe, about a third of its steps.
(X4, Y4), (X4_dev, Y4_dev) = windows[4]
m4, h4 = fit(12, 300, X4, Y4, steps=7_000, k=4, lr=lr_final, eval_every=7_000, Xd=X4_dev, Yd=Y4_dev)
print(f"block size 4: dev {h4.dev_loss[-1]:.4f} vs {dev_final:.4f} in {h4.seconds:.1f} s")
assert check("03.3", (m4, 4), dev_words=dev_words, vocab=vocab, dev_final=dev_final)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4 — how surprising is a name?
#
# Write `name_nll(model, name)`: the mean negative log-likelihood per character that a window model
# gives to one name, the end token included (the loss $\mathcal{L}$ of section 4 over that name's
# windows, with `block_size` as in this notebook). The check runs your function on the final model
# for several names, including made-up ones, and compares it with its own computation. Then try it
# on your own name: is it more or less surprising than the dev average?

# %% tags=["exercise"]
def name_nll(model, name):
    return ...  # the mean NLL per character of `name` under `model`, end token included


check("03.4", name_nll, model=final, vocab=vocab, block_size=block_size, words=dev_words)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# NBVAL_IGNORE_OUTPUT
# Solution: the windows of the one name are its examples; the loss over them is the mean NLL.
def name_nll(model, name):
    Xn, Yn = context_windows([name], vocab, block_size)  # (len(name) + 1, 3), (len(name) + 1,)
    with torch.no_grad():
        return F.cross_entropy(model(Xn.to(device)), Yn.to(device)).item()


for name in ("emma", "sophia", "zyxwvu"):
    print(f"{name:>8}: {name_nll(final, name):.2f} nats per character")
assert name_nll(final, "emma") < dev_final < name_nll(final, "zyxwvu")
assert check("03.4", name_nll, model=final, vocab=vocab, block_size=block_size, words=dev_words)
