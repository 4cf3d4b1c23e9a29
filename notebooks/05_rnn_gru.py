# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 05 — Recurrent networks: a vanilla RNN and a GRU
#
# The MLP of notebook 03 predicts the next character from a fixed window of the three before it.
# Everything earlier in the name is invisible to it, and widening the window means a wider, more
# expensive first layer; notebook 04 widened it to eight characters and fused them hierarchically to
# keep that cost down, but the window stays fixed. A *recurrent* network takes another route: it
# reads the name one character
# at a time and carries a running summary, the **hidden state**, from one step to the next. The same
# small cell is applied at every position, so the model has the same number of parameters whether
# the name has 3 characters or 15, and every prediction can depend on the whole prefix.
#
# **What you will build**
# - whole words as training sequences: padding, targets shifted by one, and the positions past the
#   end of a word masked out of the loss;
# - a vanilla RNN cell (Elman; Mikolov et al. 2010) and a GRU cell (Cho et al. 2014) written out in
#   a few lines of tensor code, each checked against PyTorch's own cell with the same weights (and an
#   LSTM cell as a third contestant);
# - a picture of *vanishing gradients*: how much of the loss's gradient reaches each earlier step;
# - notebook 04's AdamW and gradient clipping, recalled and applied to a recurrent network, whose
#   gradients differ in size from one tensor to the next;
# - the three models trained with the course's training loop on the shared split, compared on dev
#   with every earlier model of the course (notebook 04's WaveNet-style model included), reported
#   once on test, and sampled.
#
# **What you need**: [03 — the MLP](03_mlp.ipynb) (embeddings, minibatches, the training loop that
# `utils.train.train` packages, train/dev/test), [04 — training deeper networks](04_training_dynamics.ipynb)
# (initialisation, backprop through a deep stack, the AdamW optimiser and gradient clipping, and
# the WaveNet-style model this notebook's results are compared with) and
# [02 — the neural bigram](02_bigram_neural.ipynb) (logits, softmax, cross-entropy).
#
# **Previous**: [04 — training deeper networks](04_training_dynamics.ipynb) · **Next**: [06 — the Transformer](06_transformer.ipynb),
# which replaces the step-by-step recurrence with attention over the whole prefix at once.

# %%
import math
from collections import Counter

import matplotlib.pyplot as plt
import torch
import torch.nn as nn
import torch.nn.functional as F
from IPython.display import Markdown, display

from utils import REPO_ROOT
from utils.data import IGNORE_INDEX, Vocab, load_words, padded_sequences, split_words
from utils.device import get_device, make_generator
from utils.exercises import check
from utils.models import RECIPES, n_params
from utils.plotting import plot_loss
from utils.results import markdown_table, publish, read_course_results
from utils.sampling import sample
from utils.train import evaluate, lm_loss, lr_schedule, make_optimizer, train

torch.set_num_threads(1)  # one thread: the same digits on every run (see notebook 00)
device = get_device()
words = load_words()
vocab = Vocab.from_words(words)
V = len(vocab)
train_words, dev_words, test_words = split_words(words)
print(f"device: {device.type}; {len(words):,} words, {V} tokens")
print(f"split by word: {len(train_words):,} train / {len(dev_words):,} dev / {len(test_words):,} test")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Whole words as sequences
#
# Notebook 03 cut every name into (context, next character) examples. A recurrent network instead
# reads a whole name in one pass and makes a prediction at *every* position. For one word the input
# is the boundary token `.` followed by the letters, and the target at each position is simply the
# next token: the input shifted left by one, ending with `.` to say "the name stops here".

# %%
word = "emma"
ids = vocab.encode(word)  # [5, 13, 13, 1]
x = [0, *ids]  # the boundary token starts the word: . e m m a
y = [*ids, 0]  # the targets are the inputs shifted by one:  e m m a .
print(" t  reads  must predict")
for t, (a, b) in enumerate(zip(x, y, strict=True)):
    print(f"{t:2d}    {vocab.itos[a]}       {vocab.itos[b]}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Five predictions from one four-letter word, and each one sees everything before it: at `t = 4` the
# model has read `.emma` and must say that the name ends. The MLP with a window of three would see
# only `mma` there.
#
# To train on many words at once they must fit in one rectangular tensor, so shorter words are
# **padded** to a common length. The padding in the inputs is harmless (the boundary token, index
# 0), but the padded *targets* must not count: a position past the end of a word is not something to
# predict. `utils.data.padded_sequences` marks them with `IGNORE_INDEX = -1`, and the cross-entropy
# skips every target equal to it.

# %%
Xs, Ys = padded_sequences(["emma", "olivia", "ava"], vocab)  # (3, 7) each: longest word + 1
print("X =", Xs.tolist()[0], "\nY =", Ys.tolist()[0])
for xr, yr in zip(Xs.tolist(), Ys.tolist(), strict=True):
    shown_y = "".join("-" if i == IGNORE_INDEX else vocab.itos[i] for i in yr)
    print(f"input {vocab.decode(xr)}   target {shown_y}")
assert Xs[0, :5].tolist() == x and Ys[0, :5].tolist() == y and Ys[0, 5:].tolist() == [IGNORE_INDEX] * 2

# %% [markdown] slideshow={"slide_type": "subslide"}
# (`-` marks an ignored target.) Now the whole split. Every split is padded to the longest word of
# the *whole* data set, so all three tensors have the same width `T`. The number of targets that
# count is exactly the number of examples that notebook 03 built with its context windows: the same
# predictions, now arranged word by word.

# %%
max_len = max(len(w) for w in words)  # 15 for names.txt
X_train, Y_train = padded_sequences(train_words, vocab, max_len)  # (25626, 16)
X_dev, Y_dev = padded_sequences(dev_words, vocab, max_len)  # (3203, 16)
X_test, Y_test = padded_sequences(test_words, vocab, max_len)  # (3204, 16)
n_targets = {name: int((Y != IGNORE_INDEX).sum()) for name, Y in [("train", Y_train), ("dev", Y_dev), ("test", Y_test)]}
print("shapes:", tuple(X_train.shape), tuple(X_dev.shape), tuple(X_test.shape))
print("targets that count:", {k: f"{v:,}" for k, v in n_targets.items()})
padding = 1 - n_targets["train"] / Y_train.numel()
print(f"share of the training grid that is padding: {padding:.1%}")
assert n_targets == {"train": 182_625, "dev": 22_655, "test": 22_866}
assert X_train.shape == (25_626, 16) and padding > 0.5

# %% [markdown] slideshow={"slide_type": "subslide"}
# More than half of the grid is padding. Without the mask the model would be rewarded for learning
# that `.` follows `.` — most of its loss would be about nothing. The masked loss is the mean over
# the real targets only: with $m_{b,t} = 1$ where word $b$ has a real target at position $t$ and 0
# in the padding,
#
# $$\mathcal{L} = \frac{\sum_{b,t} m_{b,t} \left(-\log p_{b,t}(y_{b,t})\right)}{\sum_{b,t} m_{b,t}}.$$
#
# Here is that claim checked on random logits, against the mean of the per-position losses where
# `Y ≠ -1`.

# %%
g = make_generator()
logits = torch.randn(*Xs.shape, V, generator=g)  # (3, 7, 27): any logits will do
masked = lm_loss(logits, Ys)  # F.cross_entropy(..., ignore_index=-1) underneath
per_position = F.cross_entropy(logits.view(-1, V), Ys.clamp(min=0).view(-1), reduction="none")  # (21,)
real = (Ys != IGNORE_INDEX).view(-1)  # (21,) True for the 5 + 7 + 4 = 16 real targets
print(f"masked loss {masked.item():.4f} = mean over {int(real.sum())} real targets {per_position[real].mean().item():.4f}")
print(f"(the mean over all {real.numel()} positions, padding included, would be {per_position.mean().item():.4f})")
assert torch.allclose(masked, per_position[real].mean())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. A vanilla RNN cell, written out
#
# The Elman network, which Mikolov et al. (2010) turned into a competitive language model, keeps a
# vector $h_t$ of `H` numbers. At each step it mixes the current character's embedding $x_t$ with the
# previous state, and squashes the result:
#
# $$h_t = \tanh\left(x_t W_x + b + h_{t-1} W_h\right)$$
#
# $W_x$ is `(E, H)`, $W_h$ is `(H, H)`. The *same* weights are used at every step; that sharing is
# what lets one cell read words of any length. The prediction at step $t$ is a linear read-out of
# $h_t$ (logits over the 27 tokens), exactly like the output layer of the MLP.
#
# Two implementation choices are worth a sentence. The weights start uniform in
# $\pm 1/\sqrt{H}$, PyTorch's default for recurrent layers, drawn from our seeded generator. And the
# cell is split into `project` (the input half, $x_t W_x + b$) and `step` (the recurrence): the
# input half does not depend on the past, so the model can compute it for all time steps in one
# matrix product before the loop, and the loop — the part Python must run step by step — does only
# what truly needs the previous state.

# %%
def uniform(*shape, bound, generator):
    """U(-bound, bound) from a seeded generator: PyTorch's default initialisation for recurrent layers."""
    return (torch.rand(*shape, generator=generator) * 2 - 1) * bound


class RNNCell(nn.Module):
    """One step of a vanilla (Elman) RNN: h_t = tanh(x_t W_x + b + h_{t-1} W_h)."""

    def __init__(self, n_in, n_hidden, generator):
        super().__init__()
        k = 1 / math.sqrt(n_hidden)
        self.W_x = nn.Parameter(uniform(n_in, n_hidden, bound=k, generator=generator))  # (E, H)
        self.W_h = nn.Parameter(uniform(n_hidden, n_hidden, bound=k, generator=generator))  # (H, H)
        self.b = nn.Parameter(uniform(n_hidden, bound=k, generator=generator))  # (H,)

    def project(self, x):  # (..., E) -> (..., H): the half that does not need the past
        return x @ self.W_x + self.b

    def step(self, xp, h):  # (B, H), (B, H) -> (B, H)
        return torch.tanh(xp + h @ self.W_h)

    def forward(self, x, h):  # one character for a batch: (B, E), (B, H) -> (B, H)
        return self.step(self.project(x), h)


# %% [markdown] slideshow={"slide_type": "subslide"}
# Before trusting it, compare it with `torch.nn.RNNCell` given the same weights. PyTorch stores
# weights as `(out, in)` — the transpose of ours — and has two bias vectors where we have one, so we
# copy `W_x.T`, `W_h.T`, `b` and a zero second bias.

# %%
E, H = 64, 128  # embedding size and hidden size used throughout
cell = RNNCell(E, H, make_generator())
reference = nn.RNNCell(E, H)
with torch.no_grad():
    reference.weight_ih.copy_(cell.W_x.T)
    reference.weight_hh.copy_(cell.W_h.T)
    reference.bias_ih.copy_(cell.b)
    reference.bias_hh.zero_()
x_t, h_prev = torch.randn(8, E, generator=g), torch.randn(8, H, generator=g)  # (8, 64), (8, 128)
ours, theirs = cell(x_t, h_prev), reference(x_t, h_prev)  # (8, 128) each
print("ours and nn.RNNCell agree to within 1e-6:", torch.allclose(ours, theirs, atol=1e-6))
assert torch.allclose(ours, theirs, atol=1e-6)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The language model around a cell
#
# The model is the same for every cell in this notebook: embed each character (the table `C` of
# notebook 03), start from a learned state `h0`, apply the cell once per position — this loop is the
# **unrolling** of the recurrence — and read out logits at every position.
#
# ```
#          h0 ──► cell ──► h1 ──► cell ──► h2 ──► cell ──► h3 ──► cell ──► h4 ──► cell ──► h5
#                  ▲        │       ▲        │       ▲        │       ▲        │       ▲        │
#                  .        ▼       e        ▼       m        ▼       m        ▼       a        ▼
#                        p(· | .)         p(· | .e)        p(· | .em)      p(· | .emm)     p(· | .emma)
#                       target e         target m         target m        target a        target .
# ```
#
# Five copies of one cell, one per character of `.emma`, each handing its state to the next. Reading
# the diagram backwards shows what training must do: the loss at the last position depends on `h0`
# and on the first character through four applications of the cell.

# %%
class RecurrentLM(nn.Module):
    """Embed each character, run a recurrent cell along the word, and read out logits at every step."""

    def __init__(self, cell, vocab_size, n_embd, n_hidden, generator, state_size=None):
        super().__init__()
        self.C = nn.Parameter(torch.randn(vocab_size, n_embd, generator=generator))  # (V, E)
        self.cell = cell
        self.h0 = nn.Parameter(torch.zeros(1, state_size or n_hidden))  # learned start state
        k = 0.1 / math.sqrt(n_hidden)  # a small read-out: the first predictions are near uniform
        self.W_out = nn.Parameter(uniform(n_hidden, vocab_size, bound=k, generator=generator))  # (H, V)
        self.b_out = nn.Parameter(torch.zeros(vocab_size))  # (V,)
        self.n_hidden = n_hidden

    def states(self, idx):  # (B, T) -> list of T states, each (B, state_size)
        B, T = idx.shape
        xp = self.cell.project(self.C[idx])  # (B, T, E) -> (B, T, ·): every input at once
        h = self.h0.expand(B, -1)  # (B, state_size)
        hs = []
        for t in range(T):  # the unrolled recurrence: one step per position
            h = self.cell.step(xp[:, t], h)
            hs.append(h)
        return hs

    def forward(self, idx):  # (B, T) -> (B, T, V)
        h = torch.stack(self.states(idx), dim=1)[..., : self.n_hidden]  # (B, T, H); an LSTM's cell state is dropped
        return h @ self.W_out + self.b_out


def make_rnn():
    g = make_generator()  # every model starts from the course's seed
    return RecurrentLM(RNNCell(E, H, g), V, E, H, g).to(device)


rnn = make_rnn()
logits = rnn(Xs.to(device))  # (3, 7, 27)
print("logits:", tuple(logits.shape), f"| loss at initialisation {lm_loss(logits, Ys.to(device)).item():.4f}")
print(f"for reference, a uniform guess scores ln {V} = {math.log(V):.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# At initialisation the loss is close to the uniform guess, as it should be: the read-out weights
# start small (the lesson of notebook 03), so every character gets roughly the same probability and
# no step is wasted unlearning confident mistakes.
#
# ## 3. The GRU cell: gates that decide what to keep
#
# The vanilla cell rewrites its whole state at every step, through a matrix and a `tanh`. Anything it
# wants to remember for ten steps must survive ten such rewrites, and the gradient that teaches it
# to remember must travel back through the same ten (section 4 makes this visible). The *gated
# recurrent unit* of Cho et al. (2014) adds two gates, vectors of numbers between 0 and 1 computed
# from the input and the previous state:
#
# $$r_t = \sigma\left(x_t W_{xr} + b_{xr} + h_{t-1} W_{hr} + b_{hr}\right) \qquad \text{reset gate}$$
# $$z_t = \sigma\left(x_t W_{xz} + b_{xz} + h_{t-1} W_{hz} + b_{hz}\right) \qquad \text{update gate}$$
# $$n_t = \tanh\left(x_t W_{xn} + b_{xn} + r_t \odot \left(h_{t-1} W_{hn} + b_{hn}\right)\right) \qquad \text{candidate}$$
# $$h_t = z_t \odot h_{t-1} + (1 - z_t) \odot n_t$$
#
# - The **update gate** $z_t$ is a per-unit dial between *keep* and *overwrite*. Where $z_t \approx 1$
#   the unit copies its old value forward untouched; where $z_t \approx 0$ it takes the candidate.
#   A unit that tracks "we are inside a double letter" or "the name has been long already" can hold
#   its value for many steps at no cost.
# - The **reset gate** $r_t$ decides how much of the past the candidate may look at. With
#   $r_t \approx 0$ the candidate is computed from the current character alone, as if the sequence
#   started afresh here.
# - The new state is an *interpolation*, not a rewrite. When $z_t \approx 1$, $h_t \approx h_{t-1}$
#   and the derivative $\partial h_t / \partial h_{t-1}$ is close to the identity: a path along which
#   gradients travel back without shrinking.
#
# One detail differs between papers and libraries. Cho et al. apply the reset gate *before* the
# matrix, $W_{hn}(r_t \odot h_{t-1})$; PyTorch and cuDNN apply it *after*, as written above, which
# lets $h_{t-1}$ be multiplied by all three matrices in one product. We follow PyTorch so that the
# cell can be checked against `nn.GRUCell`; the two variants train equally well in practice.
# The three input matrices are stored side by side as one `(E, 3H)` matrix, the three recurrent
# ones as one `(H, 3H)`, in PyTorch's order (r, z, n).

# %%
class GRUCell(nn.Module):
    """One step of a GRU (Cho et al. 2014), with the reset gate applied as PyTorch and cuDNN do."""

    def __init__(self, n_in, n_hidden, generator):
        super().__init__()
        k = 1 / math.sqrt(n_hidden)
        self.W_x = nn.Parameter(uniform(n_in, 3 * n_hidden, bound=k, generator=generator))  # (E, 3H): r | z | n
        self.W_h = nn.Parameter(uniform(n_hidden, 3 * n_hidden, bound=k, generator=generator))  # (H, 3H)
        self.b_x = nn.Parameter(uniform(3 * n_hidden, bound=k, generator=generator))  # (3H,)
        self.b_h = nn.Parameter(uniform(3 * n_hidden, bound=k, generator=generator))  # (3H,)

    def project(self, x):  # (..., E) -> (..., 3H)
        return x @ self.W_x + self.b_x

    def step(self, xp, h):  # (B, 3H), (B, H) -> (B, H)
        x_r, x_z, x_n = xp.chunk(3, dim=-1)  # (B, H) each
        h_r, h_z, h_n = (h @ self.W_h + self.b_h).chunk(3, dim=-1)  # (B, H) each
        r = torch.sigmoid(x_r + h_r)  # reset gate
        z = torch.sigmoid(x_z + h_z)  # update gate
        n = torch.tanh(x_n + r * h_n)  # candidate state
        return z * h + (1 - z) * n  # keep where z ≈ 1, overwrite where z ≈ 0

    def forward(self, x, h):  # (B, E), (B, H) -> (B, H)
        return self.step(self.project(x), h)


# %% [markdown] slideshow={"slide_type": "subslide"}
# Now the check against `torch.nn.GRUCell` with the same weights — over a whole word-length
# sequence, not just one step, so that any mistake in the gates would have 16 steps to grow.

# %%
gru_cell = GRUCell(E, H, make_generator())
reference = nn.GRUCell(E, H)
with torch.no_grad():
    reference.weight_ih.copy_(gru_cell.W_x.T)  # (3H, E)
    reference.weight_hh.copy_(gru_cell.W_h.T)  # (3H, H)
    reference.bias_ih.copy_(gru_cell.b_x)
    reference.bias_hh.copy_(gru_cell.b_h)
xs_seq = torch.randn(16, 8, E, generator=g)  # 16 steps of a batch of 8
h_ours = h_theirs = torch.zeros(8, H)
worst = 0.0
for x_t in xs_seq:
    h_ours, h_theirs = gru_cell(x_t, h_ours), reference(x_t, h_theirs)
    worst = max(worst, (h_ours - h_theirs).abs().max().item())
print("ours and nn.GRUCell agree to within 1e-5 at every one of 16 steps:", worst < 1e-5)
assert torch.allclose(h_ours, h_theirs, atol=1e-5) and worst < 1e-5

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### A third contestant: the LSTM
#
# The long short-term memory cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et
# al. 2000) predates the GRU and inspired it. It keeps *two* vectors: a cell state $c_t$, updated
# additively under a forget gate $f_t$ and an input gate $i_t$, and an output $h_t$ read from it
# through an output gate $o_t$:
#
# $$c_t = f_t \odot c_{t-1} + i_t \odot \tanh(g_t), \qquad h_t = o_t \odot \tanh(c_t),$$
#
# where $i_t, f_t, o_t$ are sigmoids and $g_t$ a linear function of $x_t$ and $h_{t-1}$. The GRU
# merges the forget and input gates into its single $z_t$ and drops the separate cell state, which is
# why it is cheaper. Our LSTM carries $(h, c)$ side by side in one state vector, so the same
# `RecurrentLM` drives it; the forget-gate bias starts at 1 (Jozefowicz et al. 2015), so the cell
# begins by remembering.

# %%
class LSTMCell(nn.Module):
    """One step of an LSTM with a forget gate; the state is [h, c] side by side, (B, 2H)."""

    def __init__(self, n_in, n_hidden, generator):
        super().__init__()
        k = 1 / math.sqrt(n_hidden)
        self.W_x = nn.Parameter(uniform(n_in, 4 * n_hidden, bound=k, generator=generator))  # (E, 4H): i | f | g | o
        self.W_h = nn.Parameter(uniform(n_hidden, 4 * n_hidden, bound=k, generator=generator))  # (H, 4H)
        b = torch.zeros(4 * n_hidden)
        b[n_hidden : 2 * n_hidden] = 1.0  # forget gate open at the start
        self.b = nn.Parameter(b)  # (4H,)

    def project(self, x):  # (..., E) -> (..., 4H)
        return x @ self.W_x + self.b

    def step(self, xp, state):  # (B, 4H), (B, 2H) -> (B, 2H)
        h, c = state.chunk(2, dim=-1)  # (B, H) each
        i, f, g_, o = (xp + h @ self.W_h).chunk(4, dim=-1)  # (B, H) each
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g_)  # additive memory update
        h = torch.sigmoid(o) * torch.tanh(c)
        return torch.cat([h, c], dim=-1)

    def forward(self, x, state):  # (B, E), (B, 2H) -> (B, 2H)
        return self.step(self.project(x), state)


# %% [markdown] slideshow={"slide_type": "subslide"}
# The same check against `torch.nn.LSTMCell` (gate order i, f, g, o, as in PyTorch), which keeps
# `h` and `c` as a pair where we keep them side by side.

# %%
lstm_cell = LSTMCell(E, H, make_generator())
reference = nn.LSTMCell(E, H)
with torch.no_grad():
    reference.weight_ih.copy_(lstm_cell.W_x.T)
    reference.weight_hh.copy_(lstm_cell.W_h.T)
    reference.bias_ih.copy_(lstm_cell.b)
    reference.bias_hh.zero_()
state = torch.zeros(8, 2 * H)
h_ref = c_ref = torch.zeros(8, H)
for x_t in xs_seq:
    state = lstm_cell(x_t, state)
    h_ref, c_ref = reference(x_t, (h_ref, c_ref))
print("ours and nn.LSTMCell agree to within 1e-5 after 16 steps:", torch.allclose(state, torch.cat([h_ref, c_ref], -1), atol=1e-5))
assert torch.allclose(state, torch.cat([h_ref, c_ref], dim=-1), atol=1e-5)

# %%
def make_gru():
    g = make_generator()
    return RecurrentLM(GRUCell(E, H, g), V, E, H, g).to(device)


def make_lstm():
    g = make_generator()
    return RecurrentLM(LSTMCell(E, H, g), V, E, H, g, state_size=2 * H).to(device)


models = {"RNN": make_rnn(), "GRU": make_gru(), "LSTM": make_lstm()}
for name, model in models.items():
    print(f"{name:4s}: {n_params(model):7,} parameters, of which the cell {n_params(model.cell):7,}")
assert n_params(models["GRU"].cell) == 3 * (E * H + H * H + 2 * H)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Same embedding, same read-out, same hidden size `H = 128`: only the cell differs, and the gated
# cells cost three and four times the vanilla one in weights (and roughly in compute per step).
#
# ## 4. Vanishing gradients, made visible
#
# Training adjusts what the cell does at step $t$ according to how the loss at later steps depends on
# $h_t$. For the vanilla cell, one step back multiplies the gradient by the Jacobian
#
# $$\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\left(1 - h_t^2\right) W_h^\top,$$
#
# and $k$ steps back by a product of $k$ such matrices. If they shrink vectors — a `tanh` slope below 1,
# a $W_h$ with small singular values — the gradient decays geometrically, and the cell cannot learn
# that something it saw long ago matters now (Bengio et al. 1994; Pascanu et al. 2013). The GRU's
# update gate offers the alternative path $h_t \approx h_{t-1}$, whose Jacobian is near the identity.
#
# To see it, take the names with at least 12 letters, compute the loss of the prediction at
# position 12 only, and measure the size of its gradient with respect to every earlier hidden state
# $h_t$: how much of the error signal reaches $t$ steps back.

# %%
long_words = [w for w in words if len(w) >= 12]  # a measurement, not training: any names will do
X_long, Y_long = padded_sequences(long_words, vocab, max_len)  # (N, 16) each
X_long = X_long[:, :13].to(device)  # (N, 13): the boundary and the first 12 letters
Y_long = Y_long[:, 12].to(device)  # (N,): what follows letter 12 (a 13th letter or the end)


def gradient_reach(model):
    """Mean norm of d(loss at the last position) / d(h_t) for every position t of X_long."""
    hs = model.states(X_long)
    for h in hs:
        h.retain_grad()  # keep the gradient of these intermediate tensors
    logits = hs[-1][:, : model.n_hidden] @ model.W_out + model.b_out  # (N, V): last position only
    F.cross_entropy(logits, Y_long).backward()
    model.zero_grad()
    return torch.stack([h.grad[:, : model.n_hidden].norm(dim=1).mean() for h in hs]).cpu()  # (13,)


reach_init = {name: gradient_reach(models[name]) for name in ("RNN", "GRU")}
print(f"{len(long_words)} names with 12 letters or more")
for name, r in reach_init.items():
    print(f"{name}: gradient at the last state {r[-1]:.2e}, 12 steps back {r[0]:.2e}, ratio {r[0] / r[-1]:.1e}")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
steps_back = torch.arange(12, -1, -1)  # position 0 is 12 steps before the loss
for i, (name, r) in enumerate(reach_init.items()):
    ax.semilogy(steps_back, r / r[-1], "o-", color=f"C{i}", label=f"{name}, at initialisation")
ax.set_xlabel("steps back from the predicted position")
ax.set_ylabel("gradient norm (relative to the last step)")
ax.set_title("How much of the loss's gradient reaches earlier hidden states")
ax.grid(alpha=0.3, which="both")
ax.legend()
plt.show()

# %%
ratio_init = {name: (r[0] / r[-1]).item() for name, r in reach_init.items()}
per_step = {name: ratio ** (1 / 12) for name, ratio in ratio_init.items()}
print("average factor per step back:", {name: round(f, 2) for name, f in per_step.items()})
assert all(reach_init["RNN"][t] < reach_init["RNN"][t + 1] for t in range(12)), "the RNN's gradient shrinks at every step back"
assert ratio_init["RNN"] < 1e-3 and ratio_init["GRU"] > 5 * ratio_init["RNN"], ratio_init

# %% [markdown] slideshow={"slide_type": "subslide"}
# At initialisation both cells lose signal at every step back, geometrically — a straight line on a
# logarithmic axis. The vanilla RNN keeps about half per step, so less than a thousandth of the
# gradient reaches twelve steps back: whatever the first letters contributed to that prediction, the
# cell gets almost no signal to learn it. The GRU loses less per step and ends up about ten times
# ahead: with random weights its update gate sits near 0.5, so each unit carries about half of its
# old value forward unchanged, on a path that bypasses the recurrent matrix.
#
# Names are short (most predictions look back fewer than eight characters), so even the vanilla RNN
# learns well here; on long sequences this difference decides whether a long-range dependency can be
# learned at all. We look at the trained models the same way after section 6.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The optimiser and clipping: a recap of notebook 04
#
# Notebooks 02 and 03 trained with plain SGD, one learning rate for every parameter. The
# [optimiser section of notebook 04](04_training_dynamics.ipynb) wrote out momentum, Adam and AdamW
# and checked each against `torch.optim`, and wrote out gradient clipping against
# `torch.nn.utils.clip_grad_norm_`. The recurrent models here train with the same two tools, so
# here they are only recalled, in the form the recipe of section 6 uses. **AdamW** (Kingma & Ba,
# 2015; Loshchilov & Hutter, 2019) keeps running averages of each parameter's gradient $g_t$ and of
# its square, corrects them for starting at zero, steps by their ratio, and decays the weights
# outside the averages:
#
# $$m_t = \beta_1 m_{t-1} + (1 - \beta_1)\, g_t, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2,$$
# $$p \leftarrow p - \eta\, \lambda\, p - \eta\, \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon},$$
#
# with $\beta_1 = 0.9$, $\beta_2 = 0.999$ and weight decay $\lambda = 0.01$ here
# (`utils.train.make_optimizer` builds `torch.optim.AdamW` from the recipe). **Clipping** treats
# all the gradients as one vector $g$ and caps its length at $c$, keeping its direction:
#
# $$g \leftarrow g \cdot \min\left(1, \frac{c}{\lVert g \rVert}\right),$$
#
# with $c = 1$ here (`utils.train.train(..., grad_clip=...)`). Both matter more for a recurrent
# network than for the MLP. Adam's per-parameter step suits it because its gradients differ widely in
# size from one tensor to the next: an embedding row gets a gradient only where its letter occurs,
# and it reaches it through the recurrence, while the read-out collects a direct contribution from
# every position of every word. Here are the sizes on one batch of 256 training words, at
# initialisation, as the root mean square of each tensor's gradient:

# %%
# NBVAL_IGNORE_OUTPUT
probe = make_rnn()
lm_loss(probe(X_train[:256].to(device)), Y_train[:256].to(device)).backward()
rms = {name: p.grad.pow(2).mean().sqrt().item() for name, p in probe.named_parameters()}  # one number per tensor
for name, r in sorted(rms.items(), key=lambda kv: kv[1]):
    print(f"{name:<10} {tuple(dict(probe.named_parameters())[name].shape)!s:<10} RMS gradient {r:.1e}")
print(f"spread of the RMS gradients, largest over smallest: {max(rms.values()) / min(rms.values()):.0f}×")

# %%
assert max(rms.values()) / min(rms.values()) > 100, rms  # one learning rate cannot suit every tensor
assert min(rms, key=rms.get) == "C" and max(rms, key=rms.get) == "b_out", rms
assert (RECIPES["rnn"].optimizer, RECIPES["rnn"].weight_decay, RECIPES["rnn"].grad_clip) == ("adamw", 0.01, 1.0)  # as recalled above
print("smallest RMS gradient: the embedding table C; largest: the read-out bias b_out; more than 100× apart")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The embedding table gets the smallest gradients and the read-out bias the largest, more than a
# hundred times apart, so with plain SGD one learning rate would be too large for some tensors or
# too small for others; Adam divides each by
# its own running scale, so every tensor moves at about $\eta$ per step. Clipping is the guard
# against the other recurrent hazard: a product of many Jacobians can grow as well as shrink
# (section 4 showed the shrinking), and one huge gradient can undo many good steps.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Training the three models
#
# Every model gets the same recipe, so that only the cell differs:
# - the training loop of notebook 03 (`utils.train.train`), with the same batches in the same order
#   (a fresh generator with the course's seed for each model);
# - AdamW (notebook 04, recalled in section 5; weight decay 0.01) and **batches of 256 words**. The cost of a step is
#   dominated by the Python loop over the 16 positions — dozens of small operations per position,
#   forward and backward — not by the arithmetic, so a larger batch adds little time per step while
#   it averages over more words;
# - a learning rate of 0.01 that decays to 0.001 along a cosine (notebook 03), which makes fast
#   progress early and settles at the end; the gradient norm clipped at 1 (section 5) guards
#   against the occasional large step that recurrent networks are prone to;
# - 800 steps, about eight passes over the 25,626 training names; the dev loss every 200 steps.
#
# The recipe is judged on dev only (the dev curves below); the test split is read once, in
# section 7.

# %%
recipe = RECIPES["rnn"]  # the recipe above, in utils/models/recurrent.py (the same for "gru" and "lstm")
assert (recipe.model.n_embd, recipe.model.n_hidden) == (E, H)
batch_size, steps = recipe.batch, recipe.steps  # 256, 800
lr_max, lr_min = recipe.lr, recipe.lr * recipe.floor  # 0.01, 0.001
cosine_lr = lr_schedule(recipe)  # lr_min + ½ (lr_max − lr_min)(1 + cos(π · step / steps)): utils.train.warmup_cosine


def fit(model):
    optimizer = make_optimizer(recipe, model)  # AdamW at lr_max, weight decay 0.01
    return train(model, X_train, Y_train, optimizer=optimizer, steps=steps, generator=make_generator(),
                 batch_size=batch_size, lr_schedule=cosine_lr, dev=(X_dev, Y_dev), eval_every=recipe.eval_every,
                 grad_clip=recipe.grad_clip, device=device)


print(f"learning rate: {cosine_lr(0):.4f} at step 0, {cosine_lr(steps // 2):.4f} halfway, {cosine_lr(steps):.4f} at the end")
print(f"{steps * batch_size / len(train_words):.1f} passes over the training names")

# %%
# NBVAL_IGNORE_OUTPUT
histories = {"RNN": fit(models["RNN"])}

# %%
# NBVAL_IGNORE_OUTPUT
histories["GRU"] = fit(models["GRU"])

# %%
# NBVAL_IGNORE_OUTPUT
histories["LSTM"] = fit(models["LSTM"])

# %%
# NBVAL_IGNORE_OUTPUT
for name, h in histories.items():
    print(f"{name:4s}: {h.seconds:5.1f} s, {1000 * h.seconds / steps:5.1f} ms per step; dev {h.dev_loss[-1]:.4f}")

# %%
dev_loss = {name: h.dev_loss[-1] for name, h in histories.items()}
assert dev_loss["RNN"] <= 2.06 and dev_loss["GRU"] <= 2.01 and dev_loss["LSTM"] <= 2.01, dev_loss
for gated in ("GRU", "LSTM"):  # ahead at every dev evaluation, not only at the end
    assert all(d < r for d, r in zip(histories[gated].dev_loss, histories["RNN"].dev_loss, strict=True)), gated
gap = {name: h.dev_loss[-1] - sum(h.step_loss[-100:]) / 100 for name, h in histories.items()}
assert gap["GRU"] > gap["RNN"] and gap["LSTM"] > gap["RNN"], gap
print("dev: RNN ≤ 2.06, GRU and LSTM ≤ 2.01; both gated cells ahead of the RNN at every evaluation")

# %%
plot_loss(histories, window=50, title="Recurrent models: training loss and dev loss")
plt.ylim(1.8, 2.6)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The gated cells pull ahead of the vanilla RNN early and stay ahead; the GRU and the LSTM are hard to
# tell apart (their curves lie on top of each other). Notice also the gap between the training curve
# and the dev markers: it is wider for the larger gated models, the first sign of over-fitting that a
# longer schedule or a larger model would have to fight with regularisation.
#
# ### Compared with every earlier model
#
# Each earlier notebook publishes its results table in its executed file; we read them back
# (`utils.results.read_course_results`, each model once) rather than copying numbers by hand: the
# bigram models of notebooks 01 and 02, the MLP of notebook 03 and the WaveNet-style model of
# notebook 04. All models are scored on the same dev split: the same 22,655 predictions.

# %%
# NBVAL_IGNORE_OUTPUT
earlier_notebooks = ("01_bigram_counting", "02_bigram_neural", "03_mlp", "04_training_dynamics")
earlier = read_course_results(REPO_ROOT / "notebooks" / f"{nb}.ipynb" for nb in earlier_notebooks)
missing = [nb for nb in earlier_notebooks if not any(r["notebook"] == nb for r in earlier)]
ours = [{"notebook": "05_rnn_gru", "model": f"{name} (this notebook)", "params": n_params(models[name]), "dev": d}
        for name, d in dev_loss.items()]
display(Markdown(markdown_table([*earlier, *ours], columns=("notebook", "model", "params", "dev"))))
if missing:
    print("not executed yet, so missing from the table:", ", ".join(missing))

# %%
best_of = {nb: min(r["dev"] for r in earlier if r["notebook"] == nb) for nb in earlier_notebooks if nb not in missing}
if {"03_mlp", "04_training_dynamics"} <= set(best_of):
    mlp_dev, wavenet_dev = best_of["03_mlp"], best_of["04_training_dynamics"]
    assert all(dev_loss["RNN"] < d for nb, d in best_of.items() if nb != "04_training_dynamics"), (dev_loss, best_of)
    assert wavenet_dev < dev_loss["RNN"], (wavenet_dev, dev_loss)  # 04's wider window beats the vanilla RNN ...
    assert all(abs(dev_loss[n] - wavenet_dev) < 0.03 for n in ("GRU", "LSTM")), (wavenet_dev, dev_loss)  # ... and ties with the gated cells
    wavenet_params = min((r for r in earlier if r["notebook"] == "04_training_dynamics"), key=lambda r: r["dev"])["params"]
    assert abs(wavenet_params / n_params(models["GRU"]) - 1) < 0.1, wavenet_params  # about the GRU's size
    print("dev: the RNN beats the bigrams and the MLP but not 04's WaveNet-style model; "
          "the GRU and the LSTM are within 0.03 of it, at about the GRU's number of parameters")
in_window = int((Y_dev[:, :8] != IGNORE_INDEX).sum()) / n_targets["dev"]  # positions 0-7: a window of 8 sees the whole prefix
print(f"dev predictions whose whole prefix fits in a window of 8 characters: {in_window:.0%}")
assert in_window > 0.95

# %% [markdown] slideshow={"slide_type": "subslide"}
# Read the table from the top. Seeing the whole prefix instead of a window of three pays: even the
# vanilla RNN does better than the MLP of notebook 03. But it does *not* beat notebook 04's
# WaveNet-style model, a feed-forward network with a window of eight characters, fused
# hierarchically. On names a window of eight is nearly as good as the whole prefix: for more than
# 95% of the dev predictions the prefix fits in it entirely. The GRU and the LSTM end within 0.03
# of that model, at about the GRU's number of parameters; with one run of each, a margin this
# small is not a ranking, so read it as a tie between a long window and a gated memory.
# The recurrent models' advantage — a context of any length at a fixed cost — would show on
# sequences longer than names.
#
# ### The trained models, seen through their gradients
#
# Training changes the cells, so it is worth looking again at how far gradients reach.

# %%
reach_trained = {name: gradient_reach(models[name]) for name in ("RNN", "GRU")}
fig, ax = plt.subplots(figsize=(7, 4))
for i, name in enumerate(reach_trained):
    ax.semilogy(steps_back, reach_init[name] / reach_init[name][-1], "o:", color=f"C{i}", alpha=0.5, label=f"{name}, at initialisation")
    ax.semilogy(steps_back, reach_trained[name] / reach_trained[name][-1], "o-", color=f"C{i}", label=f"{name}, trained")
ax.set_xlabel("steps back from the predicted position")
ax.set_ylabel("gradient norm (relative to the last step)")
ax.set_title("Gradient reach before and after training")
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8)
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
for name, r in reach_trained.items():
    print(f"{name} trained: 12 steps back keeps {r[0] / r[-1]:.1e} of the gradient at the last state")

# %%
ratio_trained = {name: (r[0] / r[-1]).item() for name, r in reach_trained.items()}
assert ratio_trained["GRU"] > 0.1 and ratio_trained["RNN"] < 0.05, ratio_trained
assert ratio_trained["GRU"] > 10 * ratio_trained["RNN"], ratio_trained
assert all(ratio_trained[n] > ratio_init[n] for n in ratio_init), (ratio_init, ratio_trained)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Training lengthens the reach of both cells — they learn that earlier letters matter — but not
# equally. The trained GRU still delivers more than a tenth of the gradient twelve steps back
# (close to a quarter here), an almost flat line: its update gates have learned to hold on to
# information, and the path that carries information forward carries the error signal backward.
# The vanilla RNN still loses it geometrically and keeps under 5% (under 1% here).
#
# ### One word, unrolled
#
# Here is the trained GRU reading `.emma` step by step: at each position, the probability it gave
# to the character that actually came next, and its three favourite guesses.

# %%
@torch.no_grad()
def unroll(model, word):
    x = torch.tensor([[0, *vocab.encode(word)]], device=device)  # (1, L + 1)
    probs = model(x).softmax(dim=-1)[0].cpu()  # (L + 1, V)
    targets = [*vocab.encode(word), 0]
    print(" t  read so far   next  p(next)  top three guesses")
    for t, target in enumerate(targets):
        top = probs[t].topk(3)
        guesses = "  ".join(f"{vocab.itos[i]} {p:.2f}" for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True))
        print(f"{t:2d}  {('.' + word)[: t + 1]:12s}  {vocab.itos[target]}     {probs[t, target]:.3f}   {guesses}")


# %%
# NBVAL_IGNORE_OUTPUT
unroll(models["GRU"], "emma")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The first letter is a hard guess (`a` is the most common first letter, at 14%). Once `.emm` has
# been read, `a` is the favourite. And after `.emma` the model does *not* expect the name to end:
# it bets on `l`. Is that a mistake? Count what actually follows `emma` in the training names.

# %%
# NBVAL_IGNORE_OUTPUT
prefix = "emma"
following = Counter(w[len(prefix)] if len(w) > len(prefix) else "." for w in train_words if w.startswith(prefix))
total = sum(following.values())
with torch.no_grad():
    p_model = models["GRU"](torch.tensor([[0, *vocab.encode(prefix)]], device=device))[0, -1].softmax(-1).cpu()  # (V,)
print(f"{total} training names start with {prefix!r}; what comes next:")
print(" next   in the data   GRU")
for ch, n in following.most_common(5):
    print(f"  {ch}      {n / total:.3f}      {p_model[vocab.stoi[ch]]:.3f}")
p_data = torch.zeros(V)  # (V,): the counts as a distribution
for ch, n in following.items():
    p_data[vocab.stoi[ch]] = n / total
tv = 0.5 * (p_data - p_model).abs().sum().item()  # total variation distance: 0 = identical, 1 = disjoint
print(f"total variation distance between the two columns (all {V} tokens): {tv:.2f}")

# %%
top_data = following.most_common(1)[0][0]
assert top_data == "l" and vocab.itos[p_model.argmax().item()] == top_data, (following, p_model.argmax())
assert following["."] / total < 0.1 and p_model[0] < 0.15
j_data, j_model = following["j"] / total, p_model[vocab.stoi["j"]].item()
assert following["j"] == 2 and j_model < j_data / 5, (j_data, j_model)  # but j: far below its share
assert following["n"] > following["r"] and p_model[vocab.stoi["r"]] > p_model[vocab.stoi["n"]]  # r and n swapped
assert 0.1 < tv < 0.4, tv
print(f"data and model agree: after {prefix!r} the most likely next character is {top_data!r}, and the end is unlikely")
print(f"they disagree on the rarer letters: j follows 2 of the {total} names, and the GRU gives it under a fifth of that")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The model is right where it matters most: `emma` is far more often the beginning of a longer name
# (emmalee, emmaline, emmanuel, …) than a whole one, so `l` first and the end unlikely. It does not
# copy the counts, though: it ranks `r` above `n`, and gives `j` (2 of the 35 names) a small fraction
# of its share; the total variation distance printed above measures the whole disagreement. That is
# what we should want: 35 names are a small sample, and the model blends them with everything it
# learned from other prefixes instead of memorising them. Note what the favourite needs: the whole
# prefix `emma`. An MLP with a window of three would see `mma`,
# which also ends names like `jemma` or `gemma`.
#
# ## 7. Test, once, and samples
#
# The recipe was chosen on dev; the test split is used once, here, for the final figures.

# %%
# NBVAL_IGNORE_OUTPUT
test_loss = {name: evaluate(model, X_test, Y_test, device=device) for name, model in models.items()}
for name in models:
    print(f"{name:4s}: dev {dev_loss[name]:.4f}  test {test_loss[name]:.4f}")

# %%
assert test_loss["GRU"] <= 2.03, test_loss
assert test_loss["RNN"] <= 2.08, test_loss
print("test: GRU ≤ 2.03 and RNN ≤ 2.08")
summary = {"RNN": (2.03, 2.03), "GRU": (1.98, 1.99), "LSTM": (1.98, 1.98)}  # (dev, test), as the summary quotes them
for name, (d, t) in summary.items():
    assert abs(dev_loss[name] - d) < 0.01 and abs(test_loss[name] - t) < 0.01, (name, dev_loss[name], test_loss[name])
print("to two decimals, dev / test:", " · ".join(f"{n} {d:.2f} / {t:.2f}" for n, (d, t) in summary.items()))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The three models are packaged as `utils.models.recurrent_lm("rnn" | "gru" | "lstm", ...)` (what
# `sequentia train --type gru` trains, with the recipe above). From the course's seed they draw the
# same initial weights as ours, and loaded with our trained weights they compute the same logits:

# %%
import utils.models

makers = {"RNN": make_rnn, "GRU": make_gru, "LSTM": make_lstm}
for name, model in models.items():
    fresh, ours = utils.models.recurrent_lm(name.lower(), V, E, H, make_generator()), makers[name]()
    assert all(torch.equal(a, b.cpu()) for a, b in zip(fresh.state_dict().values(), ours.state_dict().values(), strict=True))
    packaged = utils.models.recurrent_lm(name.lower(), V, E, H).to(device)
    packaged.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.equal(packaged(X_dev[:512].to(device)), model(X_dev[:512].to(device)))  # (512, 16, 27)
print("utils.models.recurrent_lm: the same initial weights from the same seed, the same logits from ours (RNN, GRU, LSTM)")

# %%
# NBVAL_IGNORE_OUTPUT
samples = {}
for name, model in models.items():
    samples[name] = sample(model, vocab, 10, make_generator(), window=None, device=device)  # reads the last position's logits
    print(f"{name:4s}: {', '.join(samples[name])}")
known = set(words)
print("new names (not in the data set):", {name: sum(s not in known for s in names) for name, names in samples.items()}, "of 10")

# %%
assert all(len(names) == 10 and all(names) for names in samples.values())
n_new = {name: sum(s not in known for s in names) for name, names in samples.items()}
assert all(n >= 3 for n in n_new.values()) and sum(n_new.values()) > 15, n_new
print("most samples are new names, from every model")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The samples come from the same seed for every model, so where two models give similar
# probabilities they draw the same letters, and differences are the models'. Most samples are new
# names; the rest are real names the models rediscovered. Sampling a recurrent model this way
# re-reads the whole prefix at every character; a real implementation would keep the hidden state
# between calls (a small exercise for the curious: it gives the same names, faster).
#
# ## Summary
#
# - A recurrent model reads a word one character at a time; padded sequences with targets shifted by
#   one give one prediction per position, and `ignore_index = -1` keeps the padding (more than half
#   of the grid) out of the loss. The real targets are exactly the 182,625 / 22,655 / 22,866
#   predictions of notebook 03.
# - The vanilla RNN cell is one line, $h_t = \tanh(x_t W_x + b + h_{t-1} W_h)$; the GRU adds an update
#   gate (keep or overwrite, per unit) and a reset gate (how much past the candidate sees). Both match
#   PyTorch's cells with the same weights, as does the LSTM.
# - Gradients vanish geometrically through a vanilla RNN: at initialisation less than a thousandth
#   reaches twelve steps back, and after training still under 5%. The GRU's interpolation keeps a
#   path open: ten times more at initialisation, more than a tenth after training.
# - Training uses notebook 04's AdamW and gradient clipping. AdamW suits a recurrent network, whose
#   gradients differ by more than a hundred times from the embedding table to the read-out bias;
#   clipping caps the length of a gradient, not its direction.
# - Trained with one recipe (batches of 256, AdamW, cosine from 0.01 to 0.001, 800 steps), the GRU
#   and the LSTM beat the vanilla RNN, and all three beat the MLP of notebook 03 on dev. Notebook
#   04's WaveNet-style model, with a window of eight, beats the vanilla RNN and ties with the gated
#   cells: on names a window of eight holds the whole prefix of almost every prediction. Dev / test,
#   to two decimals: **RNN 2.03 / 2.03, GRU 1.98 / 1.99, LSTM 1.98 / 1.98** (printed and asserted in
#   section 7).
#
# The results table below is published for the course's final comparison in notebook 06.

# %%
rows = [
    dict(model=f"{name} (E={E}, H={H})", params=n_params(models[name]), train_seconds=histories[name].seconds,
         dev=dev_loss[name], test=test_loss[name])
    for name in ("RNN", "GRU", "LSTM")
]

# %%
# NBVAL_IGNORE_OUTPUT
publish("05_rnn_gru", rows)

# %%
assert [r["model"] for r in rows] == ["RNN (E=64, H=128)", "GRU (E=64, H=128)", "LSTM (E=64, H=128)"]
assert all(r["test"] is not None and r["train_seconds"] > 0 for r in rows)
print("published:", ", ".join(r["model"] for r in rows))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try next
#
# - **Sample without re-reading.** `sample` re-reads the whole prefix at every character. Keep the
#   hidden state between steps instead (`model.cell.step` on one new character), and check that the
#   names come out the same from the same seed, faster.
# - **A longer budget.** Double the recipe's steps for the GRU and watch the gap between its
#   training curve and its dev points: does it over-fit, and would weight decay or dropout help?
# - **Truncated backprop.** Detach the hidden state every 4 positions (`h = h.detach()`) and measure
#   what it costs on dev: how much of the GRU's gain needs gradients that travel further back?
# - **The reset gate, Cho's way.** Apply $r_t$ before the matrix, $W_{hn}(r_t \odot h_{t-1})$ (section
#   3), train both variants from the same seed, and compare them on dev over three seeds.
# - **Muon on the cells.** Notebook 04's Muon can update the cell's two matrices, $W_x$ and $W_h$
#   (`--optimizer muon`). `make try-muon` trained the GRU and the LSTM of this recipe both ways from
#   three seeds (`notebooks/muon_trials.json`): Muon ended lower on average, by less than the seeds'
#   spread, a tie, so the recipe keeps AdamW (`tests/test_models.py` holds the recipe to that verdict).
#   Does Muon pull ahead with a larger learning rate, or with more steps?
# - **Your own list.** `sequentia train -i FILE --type gru -o runs/mine` trains this recipe on any
#   list, one item per line; a list of longer items is where a recurrent memory should pull away from
#   a fixed window.
#
# ## Exercises
#
# Each exercise has a cell for your answer: replace the `...`, run the cell, and the check tells you
# whether you are right. A worked solution follows in a collapsed cell.
#
# **Exercise 1 — where memory helps.** At position $t$ of a word the recurrent model has read the
# boundary token and $t$ letters; the MLP of notebook 03 sees only the last three tokens. So at
# $t \ge 3$ the recurrent model has strictly more context than the MLP. How many of the real targets
# of `Y_dev` sit at positions $t \ge 3$? Compute it from the tensor.

# %% tags=["exercise"]
answer = ...  # your code here, using Y_dev and IGNORE_INDEX
check("05.1", answer, dev_words=dev_words)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution: slice the columns t ≥ 3, then count the targets that are not padding.
answer = int((Y_dev[:, 3:] != IGNORE_INDEX).sum())
print(f"{answer:,} of the {n_targets['dev']:,} dev targets ({answer / n_targets['dev']:.0%}) are predicted from more than three tokens")
assert answer == sum(len(w) - 2 for w in dev_words)  # every name has at least 2 letters
assert check("05.1", answer, dev_words=dev_words)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2 — a vanishing gradient by hand.** Take a vanilla RNN cell with $W_x = 0$, $b = 0$ and
# $W_h = 0.5\,I$, and start it from a tiny state (say $h_0 = 10^{-3}$ in every unit), where `tanh` is
# practically the identity. By what factor is the gradient of $h_{10}$ (summed over its units) with
# respect to $h_0$ smaller than the gradient of $h_{10}$ with respect to $h_{10}$ itself (which is 1)?
# Reason it out first from the Jacobian above, then give the number.

# %% tags=["exercise"]
answer = ...  # a float
check("05.2", answer)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution: the Jacobian of one step is diag(1 - h_t²) · 0.5 I ≈ 0.5 I, so ten steps give 0.5¹⁰ ≈ 0.001.
toy = RNNCell(4, 4, make_generator())
with torch.no_grad():
    toy.W_x.zero_()
    toy.b.zero_()
    toy.W_h.copy_(0.5 * torch.eye(4))
h0 = torch.full((1, 4), 1e-3, requires_grad=True)
h = h0
for _ in range(10):
    h = toy(torch.zeros(1, 4), h)
h.sum().backward()
answer = h0.grad[0, 0].item()
print(f"gradient reaching h_0: {answer:.3e}  (0.5^10 = {0.5**10:.3e})")
assert check("05.2", answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3 — the GRU's highway.** Now take a GRU cell with $W_h = 0$ (no recurrent matrix at
# all), zero inputs, and the z-part of both biases set to $+1$, so that the update gate is
# $z_t = \sigma(1 + 1)$ in every unit at every step. Run it for ten steps from a random state. By
# what factor is the gradient of $h_{10}$ (summed over its units) with respect to one unit of $h_0$
# smaller than 1? Reason it out from the GRU's equations in section 3 first: which term of
# $h_t = z_t \odot h_{t-1} + (1 - z_t) \odot n_t$ still depends on $h_{t-1}$?

# %% tags=["exercise"]
answer = ...  # a float
check("05.3", answer)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution: with W_h = 0, the candidate n_t no longer depends on h_{t-1}, and z_t = σ(2) does not
# either; so ∂h_t/∂h_{t-1} = z_t I = σ(2) I, and ten steps give σ(2)¹⁰.
gate = GRUCell(4, 4, make_generator())
with torch.no_grad():
    gate.W_h.zero_()
    gate.b_x[4:8] = 1.0  # z-part of the input bias (order r | z | n)
    gate.b_h[4:8] = 1.0  # z-part of the recurrent bias
h0 = torch.randn(1, 4, generator=make_generator()).requires_grad_()
h = h0
for _ in range(10):
    h = gate(torch.zeros(1, 4), h)
h.sum().backward()
answer = h0.grad[0, 0].item()
print(f"gradient reaching h_0 through ten GRU steps with z = σ(2): {answer:.4f}  (σ(2)^10 = {torch.sigmoid(torch.tensor(2.0)).item() ** 10:.4f})")
assert check("05.3", answer)
# Against the vanilla cell's 0.5 per step (Exercise 2), the gate keeps σ(2) ≈ 0.88 per step, on a
# path that needs no recurrent matrix; with z → 1 the factor tends to 1, ten steps or a hundred.
# A gated cell can choose, unit by unit and step by step, how close to the identity to be — which is
# what "long short-term memory" means. Real GRUs use this selectively: the update gate opens to take
# in a new character and closes to hold what matters.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 4 — the loss, position by position.** Does the model do better once it has read more of
# the name? Write `loss_by_position(model, X, Y)`: the mean loss at each position $t = 0, \dots, 7$
# over the words that have a real target there, a tensor of shape `(8,)` (the masked loss of
# section 1, averaged per column instead of over the whole grid). The check recomputes it for the
# trained GRU on the dev split.

# %% tags=["exercise"]
def loss_by_position(model, X, Y):
    return ...  # a (8,) tensor: the mean loss at positions 0..7


check("05.4", loss_by_position, model=models["GRU"], X=X_dev, Y=Y_dev)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# NBVAL_IGNORE_OUTPUT
# Solution: per-position losses without reduction, the padding masked out, then a mean per column.
def loss_by_position(model, X, Y):
    with torch.no_grad():
        logits = model(X.to(device))[:, :8]  # (B, 8, V)
    Y8 = Y[:, :8].to(device)  # (B, 8)
    real = (Y8 != IGNORE_INDEX).float()  # (B, 8): 1 where a word has a target at t
    per = F.cross_entropy(logits.transpose(1, 2), Y8.clamp(min=0), reduction="none")  # (B, 8)
    return ((per * real).sum(0) / real.sum(0)).cpu()  # (8,)


by_t = loss_by_position(models["GRU"], X_dev, Y_dev)
print("GRU dev loss by position:", " ".join(f"{v:.2f}" for v in by_t.tolist()))
assert by_t[0] > by_t[1:].max()  # the first letter, read from nothing but the boundary, is the hardest
assert check("05.4", loss_by_position, model=models["GRU"], X=X_dev, Y=Y_dev)
