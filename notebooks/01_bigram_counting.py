# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 01 — Counting bigrams: the simplest language model
#
# A *language model* assigns a probability to every possible next character, given what came
# before. In this notebook "what came before" is a single character, and the model is nothing
# more than a table of counts: how often each character follows each other character in 32,033
# names. That table already generates name-like strings, and it gives us the yardstick every
# later model in the course is measured against.
#
# **What you will build**
# - the 27×27 table of bigram counts, first with a Python loop, then vectorised (and why the
#   second is orders of magnitude faster);
# - a sampler that "makes more" names from the table, with a seeded generator;
# - the loss: the average negative log-likelihood, in nats per character, over the whole set
#   (2.4546 with add-one smoothing);
# - additive smoothing as a knob, its strength chosen on a dev split and reported once on test.
#
# **What you need**: [00 — start here](00_start_here.ipynb) (the environment, `load_words` and
# the vocabulary). No machine learning yet: counting, dividing and taking logarithms.
#
# **Previous**: [00 — start here](00_start_here.ipynb) · **Next**:
# [02 — the neural bigram](02_bigram_neural.ipynb), which learns the same table by gradient descent.

# %%
import math
import random
import time
from collections import Counter
from itertools import pairwise

import matplotlib.pyplot as plt
import numpy as np
import torch

from utils.data import Vocab, bigram_pairs, load_words, split_words
from utils.device import SEED
from utils.exercises import check
from utils.plotting import plot_bigram_heatmap
from utils.results import publish
from utils.sampling import sample_from_table

torch.set_num_threads(1)  # one thread: the same digits on every run (see notebook 00)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. The data at a glance
#
# One name per line. `load_words` reads the file (stripping whitespace, skipping blank lines); the
# vocabulary is built below from the characters that actually occur, first by hand.

# %%
words = load_words()
print(f"{len(words):,} words; the first eight: {words[:8]}")
lengths = [len(w) for w in words]
print(f"lengths: shortest {min(lengths)}, longest {max(lengths)}, mean {sum(lengths) / len(lengths):.2f}")
longest = max(lengths)
print("the longest:", [w for w in words if len(w) == longest])

# %% [markdown] slideshow={"slide_type": "subslide"}
# The model works with integers, so every character needs an index. The vocabulary is the sorted
# set of characters in the data, numbered from 1; index 0 is kept for a boundary token `.`
# (section 2 says why). Two dictionaries translate: `stoi` (string → integer) and `itos` (back).

# %%
chars = sorted(set("".join(words)))  # every distinct character, in alphabetical order
stoi = {c: i + 1 for i, c in enumerate(chars)}
stoi["."] = 0  # the boundary token
itos = {i: c for c, i in stoi.items()}
print(f"{len(stoi)} tokens:", "".join(itos[i] for i in range(len(itos))))
print("stoi:", {c: stoi[c] for c in ".abz"}, "…   itos:", {i: itos[i] for i in (0, 1, 2, 26)}, "…")

# %% [markdown] slideshow={"slide_type": "subslide"}
# `utils.data.Vocab.from_words` packages exactly these lines and adds `encode`/`decode`; every later
# notebook uses it. There the boundary is a token of its own, not the character `.`: a list whose
# items contain dots (`St. Helens`) gets `.` as an ordinary character with its own index. For the
# names, which have no dots, it gives the same two tables:

# %%
vocab = Vocab.from_words(words)
V = len(vocab)
assert vocab.stoi == stoi and vocab.itos == itos and list(vocab.chars) == chars
assert V == 27 and vocab.stoi["."] == 0 and vocab.stoi["a"] == 1
print(f"Vocab.from_words: the same {V} tokens, stoi and itos equal to ours;", "emma →", vocab.encode("emma"))

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Bigrams, with a boundary token
#
# A bigram is a pair of consecutive characters. A name also tells us *how names start* and *how
# they end*, so we pad every name with a boundary token `.` on both sides: `.emma.` holds the
# bigrams `.e` ("e starts a name"), `em`, `mm`, `ma` and `a.` ("a ends a name"). One token does
# both jobs: at the start it means "nothing yet", at the end it means "stop". A name of length
# L gives L + 1 bigrams.

# %%
def bigrams(word):
    chars = ["."] + list(word) + ["."]
    return [a + b for a, b in pairwise(chars)]  # pairwise("abc") → ("a", "b"), ("b", "c")


print(bigrams("emma"))
print(bigrams("ava"))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The simplest way to count them is a dictionary from bigram to count.

# %%
counts = Counter()
for w in words:
    for bg in bigrams(w):
        counts[bg] += 1

n_bigrams = sum(counts.values())
print(f"{n_bigrams:,} bigrams in total, {len(counts)} distinct (out of {V}×{V} = {V * V} possible)")
assert n_bigrams == sum(len(w) + 1 for w in words) == 228_146

# %%
print("most common: ", counts.most_common(10))
rarest = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))[:10]
print("least common:", rarest)
assert counts.most_common(2) == [("n.", 6763), ("a.", 6640)]
assert max((c, bg) for bg, c in counts.items() if "." not in bg)[1] == "an"  # the most common pair inside a name
assert V * V - len(counts) == 102  # the pairs that never occur
assert sum(c == 1 for c in counts.values()) >= 24  # dozens of pairs seen exactly once

# %% [markdown] slideshow={"slide_type": "subslide"}
# Names end in `n` and `a` more than anything else happens in them (`n.` 6,763 times, `a.` 6,640),
# and `an` is the most common pair inside a name. At the other end, dozens of pairs occur exactly
# once (`bc`, `cd`, …), and 102 of the 729 possible pairs never occur at all. Remember those
# zeros: they will give us an infinite loss in section 7.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Why one boundary token, and not two
#
# The obvious first design marks the two ends differently: `<S>` before every name, `<E>` after it.
# That is 26 letters + 2 = 28 tokens and a 28×28 table. Counted the same way:

# %%
tokens28 = ["<S>"] + chars + ["<E>"]  # <S> = 0, a = 1 … z = 26, <E> = 27
idx28 = {t: i for i, t in enumerate(tokens28)}
pairs28 = Counter(pair for w in words for pair in pairwise(["<S>"] + list(w) + ["<E>"]))
N28 = torch.zeros((28, 28), dtype=torch.int64)  # (28, 28)
for (a, b), c in pairs28.items():
    N28[idx28[a], idx28[b]] = c
S, E = idx28["<S>"], idx28["<E>"]
dead = int((N28[E] == 0).sum() + (N28[:, S] == 0).sum() - int(N28[E, S] == 0))  # the corner counted once
print(f"28×28 table, {int(N28.sum()):,} bigrams")
print(f"row <E> (what follows the end) holds {int(N28[E].sum())} counts; column <S> (what precedes the start) {int(N28[:, S].sum())}")
print(f"{dead} of {28 * 28} cells can never be non-zero, and row <E> cannot even be normalised: "
      f"0/0 = {(N28[E].float() / N28[E].sum())[0].item()}")
assert N28.sum() == n_bigrams and N28[E].sum() == 0 and N28[:, S].sum() == 0 and dead == 55

# %% [markdown] slideshow={"slide_type": "subslide"}
# `<S>` only ever stands first in a pair and `<E>` only ever second, so a whole row and a whole
# column of the table are wasted. One token can do both jobs without ambiguity: `.` at index 0,
# whose row is the old `<S>` row (how names start) and whose column is the old `<E>` column (how
# they end). The table shrinks to 27×27 and every row can be normalised. (Section 3 checks that it
# holds exactly the same counts.)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. The 27×27 count tensor
#
# A dictionary keyed by strings is convenient but slow to compute with. Because every character
# has an index, the counts fit in a 27×27 integer tensor `N`, where `N[i, j]` counts how often
# character `j` follows character `i`. First the direct translation: a Python loop that adds one
# for each bigram.

# %%
# NBVAL_IGNORE_OUTPUT
t0 = time.perf_counter()
N_loop = torch.zeros((V, V), dtype=torch.int32)  # (27, 27)
for w in words:
    chars = ["."] + list(w) + ["."]
    for a, b in pairwise(chars):
        N_loop[vocab.stoi[a], vocab.stoi[b]] += 1
loop_seconds = time.perf_counter() - t0
print(f"Python loop: {loop_seconds:.2f} s")

# %%
assert all(N_loop[vocab.stoi[bg[0]], vocab.stoi[bg[1]]] == c for bg, c in counts.items())
assert N_loop.sum() == n_bigrams
print("the tensor agrees with the dictionary on all", len(counts), "bigrams")
# the same counts as the 28×28 table: row 0 is its <S> row, column 0 its <E> column
assert torch.equal(N_loop[:, 1:], N28[:27, 1:27].int()) and torch.equal(N_loop[1:, 0], N28[1:27, E].int())
assert N_loop[0, 0] == N28[S, E] == 0
print("and the 27×27 table holds exactly the counts of the 28×28 one, without its empty row and column")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now vectorised. Turn the whole data set into two index tensors once — `xs` holds the first
# character of every bigram and `ys` the second — then count all pairs in one call. The trick:
# the pair `(i, j)` becomes the single number `i * 27 + j`, `torch.bincount` counts how often each
# number 0 … 728 occurs, and `view(27, 27)` folds the 729 counts back into a table.

# %%
xs_list, ys_list = [], []
for w in words:
    ids = [0] + vocab.encode(w) + [0]
    xs_list.extend(ids[:-1])
    ys_list.extend(ids[1:])
xs, ys = torch.tensor(xs_list), torch.tensor(ys_list)  # (228146,), (228146,)
print(xs[:6], ys[:6], "   .emma. →", vocab.decode(xs[:5]), "→", vocab.decode(ys[:5]))

# %%
# NBVAL_IGNORE_OUTPUT
times = []
for _ in range(5):  # a few milliseconds is easily disturbed by other programs: keep the fastest of 5
    t0 = time.perf_counter()
    N = torch.bincount(xs * V + ys, minlength=V * V).view(V, V)  # (27, 27), int64
    times.append(time.perf_counter() - t0)
vector_seconds = min(times)
print(f"vectorised: {vector_seconds * 1000:.2f} ms, {loop_seconds / vector_seconds:,.0f}× faster than the loop")

# %%
assert torch.equal(N, N_loop.long())
assert loop_seconds / vector_seconds > 50, (loop_seconds, vector_seconds)
print("same table; the vectorised count is more than 50× faster (the exact factor depends on the machine)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Why such a gap? The loop runs the Python interpreter 228,146 times: each step looks up two
# characters in a dictionary, builds an index, creates a tensor view and dispatches a tiny
# in-place addition — microseconds of bookkeeping for one addition. `bincount` does the same
# additions in one compiled loop over contiguous memory, a few nanoseconds each. The lesson holds
# for the whole course: **move the loop into the tensor library**. (Building `xs` and `ys` is still
# a Python loop; `utils.data.bigram_pairs(words, vocab)` packages exactly that loop for later
# notebooks.)

# %%
xs_u, ys_u = bigram_pairs(words, vocab)
assert torch.equal(xs_u, xs) and torch.equal(ys_u, ys)
print("utils.data.bigram_pairs gives the same", len(xs_u), "pairs")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The table, every cell labelled
#
# Row = first character, column = second character; each cell shows the bigram and its count.
# The shading is logarithmic so that a pair seen 10 times is distinguishable from one never seen
# (white) next to `n.` with 6,763.

# %%
plot_bigram_heatmap(N, vocab, title="bigram counts in 32,033 names (row: first character, column: next)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Reading the table: the first row (`.` followed by …) is the distribution of **first letters**
# (`a`, `k`, `m`, `j` lead); the first column (… followed by `.`) is the distribution of **last
# letters** (`n`, `a`, `e`, then `i` and `h`). The cell `..` is 0 — no name is empty. Some rows are nearly empty
# (`q` appears only 272 times, three times in four followed by `u`), and blank cells such as `jq` or
# `fq` are combinations the data never shows.
#
# Two facts we will use later: every character is followed by something and preceded by something,
# so **row sums equal column sums**; and the row sums are how often each character appears.

# %%
assert torch.equal(N.sum(1), N.sum(0))
print("row sums (= column sums) for . a b c q:", [N.sum(1)[vocab.stoi[c]].item() for c in ".abcq"])
print("q is followed by:", {vocab.itos[j]: N[vocab.stoi["q"], j].item() for j in range(V) if N[vocab.stoi["q"], j] > 0})
first = [vocab.itos[i] for i in N[0].argsort(descending=True)[:4].tolist()]  # row 0: the first letters
last = [vocab.itos[i] for i in N[:, 0].argsort(descending=True)[:5].tolist()]  # column 0: the last letters
print("most common first letters:", first, "  most common last letters:", last)
q, u = vocab.stoi["q"], vocab.stoi["u"]
assert first == list("akmj") and last == list("naeih") and N[0, 0] == 0
assert N[q].sum() == 272 and 0.7 < N[q, u] / N[q].sum() < 0.8  # "three times in four"
assert N[vocab.stoi["j"], q] == N[vocab.stoi["f"], q] == 0

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Sampling: making more names
#
# The table turns into probabilities row by row: the model's probability that character $j$
# follows character $i$ is the share of row $i$'s count that falls in column $j$,
#
# $$P(j \mid i) = \frac{N_{ij}}{\sum_{k} N_{ik}}.$$
#
# To generate a name, start at `.`, draw the next character with the probabilities of that row,
# move to the drawn character's row, and repeat until `.` is drawn again. Row 0 normalised is the
# distribution of first letters, $P(j \mid \texttt{.})$:

# %%
p = N[0].float()
p = p / p.sum()  # (27,) — probabilities of the first character
print("P(first letter):", " ".join(f"{vocab.itos[i]}:{p[i]:.3f}" for i in range(V)))

# %% [markdown] slideshow={"slide_type": "subslide"}
# `torch.multinomial(p, num_samples=1, replacement=True, generator=g)` draws one index with these
# probabilities. The generator `g` is the source of randomness: seeded with 2147483647 (the course's
# seed, `utils.device.SEED`), it produces the same draws on every machine, so the names below are
# compared exactly when the notebook is tested.

# %%
g = torch.Generator().manual_seed(SEED)
draws = torch.multinomial(p, num_samples=20, replacement=True, generator=g)
print("20 first letters:", vocab.decode(draws))

# %% [markdown] slideshow={"slide_type": "subslide"}
# The sampling loop, written out. The same index 0 both starts a name (as the context) and ends
# it (when it is drawn).

# %%
g = torch.Generator().manual_seed(SEED)
names_counts = []
for _ in range(10):
    out = []
    ix = 0  # start at the boundary
    while True:
        p = N[ix].float()
        p = p / p.sum()  # the row of the current character, normalised
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        if ix == 0:  # drawing the boundary ends the name
            break
        out.append(vocab.itos[ix])
    names_counts.append("".join(out))
print(names_counts)

# %% [markdown] slideshow={"slide_type": "subslide"}
# They are not good names, but they are not random strings either: the vowels and consonants
# alternate plausibly and the lengths look right. For contrast, the same loop with a **uniform**
# model, where every token is equally likely after every character:

# %%
g = torch.Generator().manual_seed(SEED)
names_uniform = []
for _ in range(10):
    out, ix = [], 0
    while True:
        p = torch.ones(V) / V  # every token 1/27, whatever came before
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        if ix == 0:
            break
        out.append(vocab.itos[ix])
    names_uniform.append("".join(out))
print(names_uniform)

# %%
mean_len = sum(map(len, names_uniform)) / len(names_uniform)
print(f"mean length: bigram {sum(map(len, names_counts)) / 10:.1f}, uniform {mean_len:.1f}, data {sum(lengths) / len(lengths):.1f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Under the uniform model a name ends with probability 1/27 at each step, so names are 26
# characters long on average, and any letter may follow any other. The bigram table knows that
# names are short and that `q` wants a `u`. Everything after this notebook is about giving the
# model *more context* than one character.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Normalising rows once: broadcasting and the `keepdim` trap
#
# Normalising a row inside the loop repeats work. Better: build the probability table `P` once,
# dividing each row by its sum. `N.sum(1, keepdim=True)` has shape (27, 1); dividing a (27, 27)
# tensor by it **broadcasts**: the single column is stretched across the 27 columns, so every
# element of row `i` is divided by the sum of row `i`.

# %%
row_sums = N.float().sum(1, keepdim=True)  # (27, 1)
P0 = N.float() / row_sums  # (27, 27) / (27, 1) → (27, 27)
print("shapes:", tuple(N.shape), "/", tuple(row_sums.shape), "→", tuple(P0.shape))
print("row sums of P0:", [f"{s:.4f}" for s in P0.sum(1)[:6].tolist()])
assert torch.allclose(P0.sum(1), torch.ones(V))

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now the trap. Without `keepdim`, `N.sum(1)` has shape (27,). Broadcasting aligns shapes **from
# the right**, so (27,) is treated as (1, 27) — a *row* — and stretched down the 27 rows: element
# `(i, j)` is divided by the sum of row **j**,
#
# $$P^{\text{wrong}}_{ij} = \frac{N_{ij}}{\sum_k N_{jk}} \quad\text{instead of}\quad \frac{N_{ij}}{\sum_k N_{ik}}.$$
#
# No error, no warning, the shapes "work".

# %%
P_wrong = N.float() / N.float().sum(1)  # (27, 27) / (27,) → divides column j by row sum j!
print("row sums of P_wrong:   ", [f"{s:.3f}" for s in P_wrong.sum(1)[:6].tolist()])
print("column sums of P_wrong:", [f"{s:.3f}" for s in P_wrong.sum(0)[:6].tolist()])
assert not torch.allclose(P_wrong.sum(1), torch.ones(V))
assert torch.allclose(P_wrong.sum(0), torch.ones(V))
assert torch.allclose(P_wrong, N.float() / N.float().sum(1)[None, :])  # column j divided by row sum j

# %% [markdown] slideshow={"slide_type": "subslide"}
# The rows of `P_wrong` do not sum to 1 (row `.` sums to 7.0, row `a` to 4.4, row `b` to 0.2), so they are not
# distributions. What makes the bug treacherous is the second line: because row sums equal column
# sums here (section 4), `P_wrong`'s **columns** sum to exactly 1 — it looks like a perfectly
# normalised table, only transposed in meaning. And `torch.multinomial` silently renormalises
# whatever weights it gets, so sampling from `P_wrong` runs without complaint. The sampling loop of
# section 5, now reading a row of a probability table, run on both tables from the same seed:

# %%
def sample_names(table, n, g):
    names = []
    for _ in range(n):
        out, ix = [], 0
        while True:
            ix = torch.multinomial(table[ix], num_samples=1, replacement=True, generator=g).item()
            if ix == 0:
                break
            out.append(vocab.itos[ix])
        names.append("".join(out))
    return names


g = torch.Generator().manual_seed(SEED)
print("P_wrong:", sample_names(P_wrong, 8, g))
g = torch.Generator().manual_seed(SEED)
print("P0:     ", sample_names(P0, 8, g))

# %%
many = {"P_wrong": sample_names(P_wrong, 1000, torch.Generator().manual_seed(SEED)),
        "P0": sample_names(P0, 1000, torch.Generator().manual_seed(SEED))}
mean_length = {k: sum(map(len, v)) / len(v) for k, v in many.items()}
print(f"mean length of 1,000 sampled names: P_wrong {mean_length['P_wrong']:.1f}, P0 {mean_length['P0']:.1f}, "
      f"the data {sum(lengths) / len(lengths):.1f}")
assert mean_length["P_wrong"] > 3 * mean_length["P0"] and abs(mean_length["P0"] - sum(lengths) / len(lengths)) < 0.5
freq = N[1:].sum(1).float() / N[1:].sum()  # (26,) how often each letter occurs
p_end = {name: (freq * table[1:, 0] / table[1:].sum(1)).sum().item() for name, table in [("P_wrong", P_wrong), ("P0", P0)]}
print(f"chance to end after a letter (averaged over letters): P_wrong {p_end['P_wrong']:.2f}, P0 {p_end['P0']:.2f}")
print("letters that occur more often than names end:", [vocab.itos[i] for i in range(1, V) if N[i].sum() > N[0].sum()])
assert 0.25 < p_end["P_wrong"] / p_end["P0"] < 0.45  # "about a third"

# %% [markdown] slideshow={"slide_type": "subslide"}
# The wrong table's names are wrong in a measurable way: several times too long, with letter
# sequences no name has. Column `j` of `P_wrong` is column `j` of `N` divided by how often `j`
# occurs. The end token's column is divided by 32,033 (one end per name), more than any letter but
# `a`, so after renormalisation every rarer letter gains weight against ending: the chance to end
# after a letter drops to about a third, and the names run on. Check a normalisation by checking
# the sums along the axis you meant.
#
# With `P0` in hand, `utils.sampling.sample_from_table(P, vocab, n, g)` packages the loop of
# section 5. With the same seed it reproduces our hand-written names exactly, because it performs
# the same draws in the same order:

# %%
g = torch.Generator().manual_seed(SEED)
names_table = sample_from_table(P0, vocab, 10, g)
print(names_table)
assert names_table == names_counts

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. How good is the model? Likelihood → log-likelihood → average NLL
#
# A model is good if it assigns high probability to the data. The bigram model gives a name
# $w = c_1 c_2 \dots c_L$, padded with $c_0 = c_{L+1} = \texttt{.}$, the product of its bigram
# probabilities:
#
# $$P(w) = \prod_{t=1}^{L+1} P(c_t \mid c_{t-1}).$$
#
# Over the whole data set $D$ (the names taken as independent) the product of these is the
# **likelihood** $\mathcal{L} = \prod_{w \in D} P(w)$. Products of many numbers below 1 quickly
# underflow, so we add logarithms instead — the **log-likelihood**, which is at most 0:
#
# $$\log \mathcal{L} = \sum_{w \in D} \sum_{t=1}^{|w|+1} \log P(c_t \mid c_{t-1}).$$
#
# We want a loss to minimise, so we negate it, and divide by the number of bigrams
# $n = \sum_{w \in D} (|w| + 1) = 228{,}146$ to get the **average negative log-likelihood** in nats
# per character:
#
# $$\text{NLL} = -\frac{1}{n} \log \mathcal{L}.$$
#
# A model that knew nothing, the uniform one with $P(j \mid i) = 1/27$ everywhere, scores
# $-\log \frac{1}{27} = \ln 27 = 3.2958$; a perfect one would score 0.
#
# From here on we use **add-one smoothing**, as if every bigram had been seen once more than it was:
#
# $$P(j \mid i) = \frac{N_{ij} + 1}{\sum_k N_{ik} + 27}.$$
#
# Section 8 explains why and tunes the "1". Below, the two names' bigram probabilities, their
# logarithms and the product $P(w)$:

# %%
P = (N + 1).float()
P = P / P.sum(1, keepdim=True)  # (27, 27), every entry > 0
assert torch.allclose(P, (N + 1) / (N.sum(1, keepdim=True) + V))  # the formula above, term by term
assert f"{math.log(V):.4f}" == "3.2958"  # the uniform model's NLL, -log(1/27)

for w in ["emma", "ava"]:
    ids = [0] + vocab.encode(w) + [0]
    for a, b in pairwise(ids):
        print(f"  {vocab.itos[a]}{vocab.itos[b]}: P = {P[a, b]:.4f}  log P = {torch.log(P[a, b]):.4f}")
    print(f"{w}: likelihood {math.prod(P[a, b].item() for a, b in pairwise(ids)):.3e}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The likelihood of one four-letter name is already a few millionths; the product over all 228,146
# bigrams would be about e⁻⁵⁶⁰⁰⁰⁰, far below the smallest float. Sums of logs have no such problem.
#
# **The whole set, as a float32 running sum** — one bigram at a time, exactly as the definition
# reads:

# %%
log_likelihood = torch.tensor(0.0)  # float32
n = 0
for w in words:
    ids = [0] + vocab.encode(w) + [0]
    for a, b in pairwise(ids):
        log_likelihood += torch.log(P[a, b])
        n += 1
nll_running = -log_likelihood / n
print(f"log-likelihood {log_likelihood.item():.2f} over {n:,} bigrams")
print(f"average NLL (float32 running sum): {nll_running.item():.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **The whole set, vectorised.** Every occurrence of the bigram $(i, j)$ contributes the same
# $\log P_{ij}$, so the sum over 228,146 bigrams is a sum over 729 cells weighted by the counts:
#
# $$\text{NLL} = -\frac{1}{n} \sum_{i,j} N_{ij} \log P_{ij}, \qquad n = \sum_{i,j} N_{ij},$$
#
# which is `-(N * P.log()).sum() / N.sum()`.

# %%
nll = -(N * P.log()).sum() / N.sum()  # (27, 27) * (27, 27) → one number
print(f"average NLL (vectorised): {nll.item():.4f}")
assert f"{nll.item():.4f}" == "2.4546"

# %% [markdown] slideshow={"slide_type": "subslide"}
# Same model, same data — 2.4544 against 2.4546. Which is right? A float64 reference settles it,
# and float32's resolution explains it:

# %%
exact = -(N.double() * P.double().log()).sum().item()  # float64: ~16 significant digits
print(f"float64 sum of log-probabilities:     {-exact:,.4f}")
print(f"float32 running sum:                  {log_likelihood.item():,.4f}")
print(f"float32 spacing near 560,000:         {np.spacing(np.float32(560_000)):.4f}")
print(f"float64 average NLL: {exact / n:.6f}")
print(f"vectorised float32 agrees with it to within 1e-6; the running sum is {nll_running.item() - exact / n:+.4f} off")
assert abs(exact / n - nll.item()) < 1e-6 and abs(exact / n - nll_running.item()) > 1e-4

# %% [markdown] slideshow={"slide_type": "subslide"}
# A float32 keeps 24 bits of mantissa (about 7 significant digits). Once the running sum reaches
# several hundred thousand, neighbouring float32 values are 1/16 = 0.0625 apart, so each addition
# of a term like −2.45 is rounded to a multiple of 0.0625. Those rounding errors do not cancel
# over 228,146 additions; they drift the total by about 50 nats, which is 0.0002 per character —
# enough to change the fourth digit.
#
# Is float32 itself the culprit, or the way the loop adds? Three experiments, all in float32: the
# same 228,146 terms summed by `torch.sum`; the same terms added **pairwise** by hand (add
# neighbours, halving the list until one number is left, so most additions combine small partial
# sums); and the 729 weighted cells of the vectorised formula added **one by one**, like the loop.

# %%
terms = P[xs, ys].log()  # (228146,) float32: log P of every bigram, in the loop's order
pairwise_sum = terms.clone()
while len(pairwise_sum) > 1:  # 18 rounds of "add neighbours" (a zero pads an odd length)
    if len(pairwise_sum) % 2:
        pairwise_sum = torch.cat([pairwise_sum, pairwise_sum.new_zeros(1)])
    pairwise_sum = pairwise_sum[0::2] + pairwise_sum[1::2]  # float32 additions
cells = (N * P.log()).flatten()  # (729,) float32
one_by_one_729 = np.float32(0)
for c in cells.numpy():
    one_by_one_729 = np.float32(one_by_one_729 + c)  # a float32 running sum, as in the loop
one_by_one_all = np.float32(0)
for t in terms.numpy():
    one_by_one_all = np.float32(one_by_one_all + t)
results = {"228,146 terms, one by one (the loop)": float(one_by_one_all),
           "228,146 terms, torch.sum": terms.sum().item(),
           "228,146 terms, pairwise by hand": pairwise_sum.item(),
           "729 weighted cells, one by one": float(one_by_one_729)}
for name, total in results.items():
    err = abs(-total / n - exact / n)
    print(f"{name:38} {'within 1e-6 of float64' if err < 1e-6 else f'off by {err:.4f} per character'}")
errors = [abs(-total / n - exact / n) for total in results.values()]
assert errors[0] > 1e-4 and max(errors[1:]) < 1e-6
assert float(one_by_one_all) == log_likelihood.item()  # exactly the loop's number

# %% [markdown] slideshow={"slide_type": "subslide"}
# So float32 is precise enough; sequential accumulation of many terms is what drifts. Each addition
# to a large running total rounds at that total's resolution, and the loop does 228,146 of them.
# Adding the same terms pairwise keeps the partial sums small for most of the additions; `torch.sum`
# agrees with float64 as well (whatever order it uses inside, it is not one float32 running sum,
# which would reproduce the loop's number). And the vectorised formula, having grouped equal terms
# into 729 weighted cells, makes only 729 additions: few enough to stay within 1e-6 even one by one. **The loss of this model is 2.4546**; when you sum many small numbers, sum
# them in a tensor (or in float64), not in a float32 loop.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The loss of single words, and an infinite one
#
# The same formula on one word says how surprising that word is to the model. The model knows
# bigrams, not names: a popular name can score above the average (`emma`, `olivia`) when its pairs
# are less predictable than `ava`'s, while a string of rare pairs scores worse than the uniform
# model's ln 27:

# %%
def word_nll(word, table):
    ids = [0] + vocab.encode(word) + [0]
    logp = torch.stack([table[a, b].log() for a, b in pairwise(ids)])
    return -logp.mean().item()


for w in ["ava", "emma", "olivia", "zyx"]:
    print(f"{w:>8}: {word_nll(w, P):.4f} nats per character")
assert word_nll("ava", P) < nll.item() < min(word_nll("emma", P), word_nll("olivia", P))
assert word_nll("zyx", P) > math.log(V)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Now take the **unsmoothed** table `P0` and a word with a bigram the data never contains, such
# as `jq` in "jqueline". Its probability is exactly 0, its log is −∞, and one such bigram makes
# the loss of the whole word — and of any data set containing it — infinite:

# %%
print("count of jq:", N[vocab.stoi["j"], vocab.stoi["q"]].item())
print(f"unsmoothed loss of 'jqueline': {word_nll('jqueline', P0)}")
print(f"add-one smoothed loss:          {word_nll('jqueline', P):.4f}")
assert math.isinf(word_nll("jqueline", P0)) and math.isfinite(word_nll("jqueline", P))

# %% [markdown] slideshow={"slide_type": "subslide"}
# That is why we smooth: pretending every bigram was seen one extra time leaves room for the
# unseen, at the cost of slightly less probability for the seen.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Smoothing as a knob, chosen on held-out data
#
# "+1" is arbitrary. Additive smoothing with strength α adds α pseudo-counts to every cell before
# normalising: α = 0 is the raw table, large α pulls every row towards uniform. Measured on the data we counted, α = 0
# always wins — the raw frequencies *are* the maximum-likelihood fit. The question that matters is
# how well the table predicts **names it has not seen**, so we split the names: 80% to count
# (train), 10% to choose α (dev), 10% touched once at the end (test). The file has an order of its
# own (it starts emma, olivia, ava, … as section 1 printed) and a split must not inherit it, so we
# shuffle a copy first, with a fixed seed so that every notebook of the course gets the same sets:

# %%
shuffled = list(words)  # a copy: `words` keeps its order
random.Random(42).shuffle(shuffled)  # the same permutation as `random.seed(42); random.shuffle(...)`
n1, n2 = int(0.8 * len(shuffled)), int(0.9 * len(shuffled))
train_words, dev_words, test_words = shuffled[:n1], shuffled[n1:n2], shuffled[n2:]
print(f"train {len(train_words):,} / dev {len(dev_words):,} / test {len(test_words):,} names;",
      "first training names:", train_words[:4])
assert sorted(train_words + dev_words + test_words) == sorted(words)  # every name in exactly one split

# %% [markdown] slideshow={"slide_type": "subslide"}
# `utils.data.split_words(words)` packages these lines (without touching Python's global random
# state) and is what every later notebook calls. It gives the same three lists:

# %%
assert split_words(words) == (train_words, dev_words, test_words)
print("split_words(words) == (train_words, dev_words, test_words):", split_words(words) == (train_words, dev_words, test_words))
Xtr, Ytr = bigram_pairs(train_words, vocab)
Xdev, Ydev = bigram_pairs(dev_words, vocab)
Xte, Yte = bigram_pairs(test_words, vocab)
print(f"bigrams: train {len(Xtr):,} / dev {len(Xdev):,} / test {len(Xte):,}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Count the training names once; then, for each α, the smoothed table (`smoothed` below) is
#
# $$P_\alpha(j \mid i) = \frac{N^{\text{train}}_{ij} + \alpha}{\sum_k N^{\text{train}}_{ik} + V\alpha},$$
#
# and `split_nll` scores it on a split with section 7's average NLL, now by indexing: one
# log-probability per bigram of the split, $-\frac{1}{n}\sum_{m} \log P_\alpha(y_m \mid x_m)$.

# %%
t0 = time.perf_counter()
N_train = torch.bincount(Xtr * V + Ytr, minlength=V * V).view(V, V)  # (27, 27), counted on train only
count_seconds = time.perf_counter() - t0


def smoothed(counts, alpha):
    Pa = (counts + alpha).float()
    return Pa / Pa.sum(1, keepdim=True)


assert torch.allclose(smoothed(N_train, 3), (N_train + 3) / (N_train.sum(1, keepdim=True) + V * 3))


def split_nll(table, X, Y):
    return -table[X, Y].log().mean().item()  # the loss by indexing: one log-probability per bigram


alphas = [0, 0.01, 0.1, 0.3, 1, 3, 10, 30, 100]
sweep = {a: (split_nll(smoothed(N_train, a), Xtr, Ytr), split_nll(smoothed(N_train, a), Xdev, Ydev)) for a in alphas}
print("   alpha   train NLL   dev NLL")
for a, (tr, dv) in sweep.items():
    print(f"{a:>8}   {tr:9.4f}   {dv:7.4f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The columns tell the story:
# - **α = 0**: the best fit to the training names, and an **infinite** dev loss — some dev names
#   contain a bigram never seen in training;
# - **small α** fixes that at almost no cost;
# - **large α** flattens the rows towards uniform and both losses climb: at α = 100 each row gets
#   27 × 100 = 2,700 pseudo-counts, more than the real counts of 11 of the 27 rows (printed below),
#   so in those rows the made-up counts outweigh the data.

# %%
unseen = (N_train[Xdev, Ydev] == 0).sum().item()
print(f"dev bigrams never seen in train: {unseen}")
train_losses = [tr for tr, _ in sweep.values()]
assert unseen > 0 and math.isinf(sweep[0][1])
assert train_losses == sorted(train_losses), "the training loss only grows with alpha"
outweighed = [vocab.itos[i] for i in range(V) if N_train[i].sum() < V * 100]
print(f"rows with fewer real counts than the {V * 100:,} pseudo-counts of α = 100: {len(outweighed)}, {outweighed}")
assert len(outweighed) == 11

# %%
finite = [a for a in alphas if a > 0]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogx(finite, [sweep[a][0] for a in finite], "o-", label="train (counted on)")
ax.semilogx(finite, [sweep[a][1] for a in finite], "o-", label="dev (held out)")
ax.set_xlabel("smoothing strength α (pseudo-counts per bigram)")
ax.set_ylabel("average NLL (nats per character)")
ax.set_title("additive smoothing: α = 0 gives an infinite dev loss (not shown)")
ax.grid(alpha=0.3)
ax.legend()
plt.show()
dev_curve = [sweep[a][1] for a in finite]  # α = 0.01 … 100
best_at = finite.index(0.3)
assert min(dev_curve) == dev_curve[best_at]
assert dev_curve[:best_at + 1] == sorted(dev_curve[:best_at + 1], reverse=True)  # falls up to α = 0.3
assert dev_curve[best_at:] == sorted(dev_curve[best_at:])  # and rises after it
assert sweep[100][0] - sweep[3][0] > 0.05 and sweep[100][1] - sweep[3][1] > 0.05

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to see in the figure: the training loss only rises with α (every pseudo-count moves the
# table away from the training names' own frequencies), while the dev loss first falls, to its
# lowest point at α = 0.3, and rises after it; from α = 3 on the two curves climb together, by more
# than 0.05 nats up to α = 100, as the rows flatten towards uniform.
#
# One thing in the table looks wrong: at every α > 0 the dev loss is *below* the training loss,
# although the table was counted on the training names. Is the table somehow better on names it
# has not seen? Two measurements say no. First, a set of 3,203 names is a noisy sample: draw 100
# random sets of 3,203 names from the *training* split (names the table was counted on) and
# score them. Second, a fair comparison for the dev names: score them with a table counted on all
# names (dev included) and with the training-only table.

# %%
T = smoothed(N_train, 0.3)
rng = random.Random(0)
subset_nll = torch.tensor([split_nll(T, *bigram_pairs(rng.sample(train_words, len(dev_words)), vocab))
                           for _ in range(100)])
print(f"train {sweep[0.3][0]:.4f}, dev {sweep[0.3][1]:.4f}: a gap of {sweep[0.3][0] - sweep[0.3][1]:.4f}")
print(f"100 random sets of {len(dev_words):,} training names: {subset_nll.mean():.4f} ± {subset_nll.std():.4f} "
      f"(mean ± std); {(subset_nll < sweep[0.3][1]).sum()} of 100 score below dev")
dev_seen = split_nll(smoothed(N, 0.3), Xdev, Ydev)  # N counts every name, the dev names included
print(f"dev names, table counted on every name: {dev_seen:.4f}; on the training names only: {sweep[0.3][1]:.4f} "
      f"(+{sweep[0.3][1] - dev_seen:.4f})")
assert all(dv < tr for tr, dv in list(sweep.values())[1:])
assert sweep[0.3][0] - sweep[0.3][1] < subset_nll.std() and (subset_nll < sweep[0.3][1]).sum() > 20
assert 0 < sweep[0.3][1] - dev_seen < 0.01

# %% [markdown] slideshow={"slide_type": "subslide"}
# The gap between train and dev is smaller than the spread between random sets of the same size,
# and many sets of *training* names score below dev: the dev names happen to be a little easier
# for a bigram model, that is all. Holding them out does cost something — they score higher with
# the training-only table than with a table that counted them — but little, because 729 numbers
# estimated from 180,000 bigrams barely over-fit. Comparisons between models on the *same* dev
# names are what matter, and that is how α is chosen.
#
# The dev curve is flat near its minimum, so the choice is not delicate; we take the α with the
# lowest dev loss and only then, once, look at the test split.

# %%
best_alpha = min(finite, key=lambda a: sweep[a][1])  # chosen on dev alone
P_best = smoothed(N_train, best_alpha)
dev_nll = split_nll(P_best, Xdev, Ydev)
test_nll = split_nll(P_best, Xte, Yte)  # the only time this notebook reads the test names
print(f"best alpha on dev: {best_alpha}")
print(f"dev NLL {dev_nll:.4f}, test NLL {test_nll:.4f}")
assert best_alpha == 0.3 and dev_nll < sweep[1][1] < sweep[10][1]
assert 2.45 < dev_nll < 2.46 and 2.45 < test_nll < 2.47

# %% [markdown] slideshow={"slide_type": "subslide"}
# This model is packaged as `utils.models.Bigram` (its logits are the log of the smoothed table), and
# its recipe (in `utils/models/bigram.py`, read as `RECIPES["bigram"]`) holds the α chosen here: `sequentia train --type bigram` counts with it.
# The packaged model gives the same probabilities as `P_best`:

# %%
from utils.models import RECIPES, Bigram

packaged = Bigram.from_counts(N_train, RECIPES["bigram"].model.alpha)
assert RECIPES["bigram"].model.alpha == best_alpha
assert torch.equal(packaged(Xdev[None])[0], P_best.log()[Xdev])  # (22655, 27) logits: log P_best, row by row
print(f"utils.models.Bigram with the recipe's α = {RECIPES['bigram'].model.alpha}: the logits of P_best, exactly")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - A bigram model predicts the next character from the current one. With a boundary token `.`
#   it also models how names start and end; counting the 228,146 bigrams of 32,033 names gives a
#   27×27 table.
# - Counting with a tensor operation (`bincount`) instead of a Python loop is orders of magnitude
#   faster; the loop's cost is the interpreter, not the arithmetic.
# - Normalising rows uses broadcasting; forgetting `keepdim=True` divides by the wrong sums and
#   fails silently.
# - Sampling walks the table with `torch.multinomial` and a seeded generator
#   (`utils.sampling.sample_from_table` from now on).
# - The loss is the average negative log-likelihood over the whole set with add-one smoothing; a
#   float32 running sum drifts in the fourth digit because it accumulates 228,146 terms one by one.
#   The uniform model scores ln 27.
# - Unseen bigrams make the loss infinite; additive smoothing fixes that, and its strength is a
#   hyper-parameter chosen on the dev split (counted on the training names only; test measured
#   once). The figures this notebook reached:

# %%
print(f"whole set, add-one smoothing: {nll.item():.4f} nats per character "
      f"(a float32 running sum prints {nll_running.item():.4f}); uniform model: ln {V} = {math.log(V):.4f}")
print(f"held out: α = {best_alpha}, chosen on dev → dev {dev_nll:.4f}, test {test_nll:.4f} (test read once)")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The results table below is published in a form that later notebooks read back: notebook 02
# reaches the same loss with a neural network, and every later model is compared with this line.

# %%
# NBVAL_IGNORE_OUTPUT
rows = [
    dict(
        model=f"bigram, counts (α = {best_alpha})",
        params=V * V,
        train_seconds=count_seconds,
        dev=dev_nll,
        test=test_nll,
    )
]
publish("01_bigram_counting", rows)

# %%
assert rows[0]["params"] == 729 and round(rows[0]["dev"], 4) == 2.4530, rows
print(f"published: {rows[0]['model']}, dev {rows[0]['dev']:.4f}, test {rows[0]['test']:.4f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Try next
#
# - **Your own list.** `load_words(path)` reads any UTF-8 file with one item per line
#   (`data/subdivisions.txt` and `data/sympy_modules.txt` come with `make data`); run sections 3–8 on
#   it and see which pairs dominate its table, and whether its best α differs.
# - **Two characters of context.** Count trigrams into a 27×27×27 tensor (the pair `(i, j)` as the
#   context, `i * 27 + j`), smooth it, choose α on dev and compare the dev NLL with this notebook's.
#   How many of the 729 contexts does the training split see?
# - **Temperature.** Raise every row of `P` to the power $1/T$ and renormalise before sampling:
#   what do $T = 0.5$ and $T = 2$ do to the names, and to the NLL?
# - **Which names are hard?** Score every dev name with `word_nll` and print the ten most and least
#   surprising: what do they have in common?
#
# ## Exercises
#
# Each exercise has a cell for your answer: replace the `...`, run the cell, and the check tells
# you whether you are right (it knows the answer; the cell does not show it). A worked solution
# follows in a collapsed cell, its code and its output hidden: click the collapsed cell to open it
# in JupyterLab, or "Show code cell content" on the course website.
#
# **Exercise 1 — never seen in training.** Section 2 counted the pairs that never occur in the whole
# data set. How many of the 729 possible bigrams have a count of 0 in `N_train`, the table counted on
# the training names only (section 8)? Compute it; then think about why it cannot be fewer than in
# the whole set, and what the extra ones did to the unsmoothed table's dev loss.

# %% tags=["exercise"]
answer = ...  # your code here, an expression using N_train
check("01.1", answer, N_train=N_train)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution
answer = (N_train == 0).sum().item()
extra = [vocab.itos[i] + vocab.itos[j] for i, j in ((N_train == 0) & (N > 0)).nonzero().tolist()]
in_dev = [bg for bg in extra if any(bg in "." + w + "." for w in dev_words)]
print(f"{answer} bigrams never occur in the training names; {len(extra)} of them occur in dev or test names: {extra}")
print(f"of those, {in_dev} occur in dev names")
assert check("01.1", answer, N_train=N_train)
assert ((N == 0) <= (N_train == 0)).all() and in_dev and unseen > 0
# A pair missing from the whole set is missing from every part of it, so the count can only grow.
# A pair that occurs in dev names but not in training names gets probability 0 from the unsmoothed
# training table, and each of its occurrences is one of the dev bigrams that made the α = 0 dev loss
# infinite in section 8.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2 — how surprising is "anna"?** Under the add-one smoothed table `P` (section 7),
# what is the average negative log-likelihood of the name "anna", boundary bigrams included?
# Give a float; write the sum yourself rather than calling `word_nll`.

# %% tags=["exercise"]
answer = ...
check("01.2", answer, P=P, vocab=vocab)

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution
ids = [0] + vocab.encode("anna") + [0]  # . a n n a .
answer = -sum(P[a, b].log().item() for a, b in pairwise(ids)) / (len(ids) - 1)
print(f"{answer:.4f} nats per character: less surprising than the average name (2.4546)")
assert check("01.2", answer, P=P, vocab=vocab)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3 — greedy is boring.** Instead of sampling, always take the *most likely* next
# character (`argmax` of the row), starting from `.` and stopping when `.` comes back. Write a
# function `greedy_name(table)` that does this for any probability table and returns the name
# (without the boundaries). The check runs it on `P0` and on a small made-up table. Which name does
# `P0` give, and why is a sampler more useful than this rule?

# %% tags=["exercise"]
def greedy_name(table):
    ...  # your code here


check("01.3", greedy_name, P0=P0, vocab=vocab)  # runs it on P0 and on a small made-up table

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution
def greedy_name(table):
    out, ix = [], 0
    while True:
        ix = table[ix].argmax().item()
        if ix == 0:
            return "".join(out)
        out.append(vocab.itos[ix])


print(f"greedy name from P0: {greedy_name(P0)!r}")
assert check("01.3", greedy_name, P0=P0, vocab=vocab)
a, n_ = vocab.stoi["a"], vocab.stoi["n"]
print(f"after 'a': end of name {N[a, 0].item():,} times, 'n' {N[a, n_].item():,}")
assert greedy_name(P0) == "a" and N[a, 0] == N[a].max() and N[0].argmax() == a
# The greedy rule gives "a": `a` is the most common first letter, and the most common thing after
# an `a` is the end of the name (printed above: more often than `an`). A deterministic rule has
# exactly one name to offer; sampling explores the whole distribution.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 4 — a second kind of smoothing.** Additive smoothing mixes every row with the *uniform*
# distribution. A better-informed fallback is the **unigram** distribution, how often each token is
# the next one overall, $u_j = \sum_i N_{ij} / \sum_{i,j} N_{ij}$. **Interpolation** mixes each row
# of the raw table with it:
#
# $$P_\lambda(j \mid i) = \lambda \, \frac{N_{ij}}{\sum_k N_{ik}} + (1 - \lambda) \, u_j, \qquad 0 \le \lambda \le 1.$$
#
# Write `interpolated(counts, lam)` that returns this $V \times V$ table for any table of counts
# (every row with at least one count) and any $\lambda$. The check runs it on `N_train` and on a
# made-up table of counts for several $\lambda$, against its own computation. Then, if you like,
# choose $\lambda$ on dev as section 8 chose α, and compare the two kinds of smoothing.

# %% tags=["exercise"]
def interpolated(counts, lam):
    ...  # your code here: return a (V, V) tensor


check("01.4", interpolated, N_train=N_train)  # runs it on N_train and on a made-up table

# %% jupyter={"outputs_hidden": true, "source_hidden": true} slideshow={"slide_type": "subslide"} tags=["solution", "hide-cell"]
# Solution
def interpolated(counts, lam):
    counts = counts.float()
    rows = counts / counts.sum(1, keepdim=True)  # (V, V) the raw table, row-normalised
    unigram = counts.sum(0) / counts.sum()  # (V,) how often each token is the next one
    return lam * rows + (1 - lam) * unigram  # (V, V) + (V,): the unigram row is added to every row


assert check("01.4", interpolated, N_train=N_train)
dev_by_lam = {lam: split_nll(interpolated(N_train, lam), Xdev, Ydev) for lam in (0.9, 0.98, 0.99, 0.995, 0.999)}
best_lam = min(dev_by_lam, key=dev_by_lam.get)
print("dev NLL by λ:", ", ".join(f"{lam}: {v:.4f}" for lam, v in dev_by_lam.items()))
print(f"interpolation, λ = {best_lam}: dev {dev_by_lam[best_lam]:.4f};  additive, α = {best_alpha}: dev {dev_nll:.4f}")
assert 0.9 < best_lam < 0.999 and abs(dev_by_lam[best_lam] - dev_nll) < 0.001
# On this data the two fallbacks tie (within 0.001 nats on dev): the training names hold some
# 180,000 bigrams for 729 cells, so the fallback carries little weight either way. Whether the
# unigram fallback beats the uniform one where counts are scarce is a question for the trigram table
# of "Try next".
