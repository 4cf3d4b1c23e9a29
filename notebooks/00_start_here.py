# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 00 — Start here
#
# **Sequentia** teaches you to build character-level language models from first principles. You
# give it a list of things — here, 32,033 names — and each notebook builds a model that learns what
# those things look like well enough to *make more of them*: new names that were never in the list
# but could have been.
#
# The course climbs one step at a time, and every step is measured on the same held-out names so
# you can see what each idea buys:
#
# | notebook | model | the idea it adds | study time |
# |---|---|---|---:|
# | [01](01_bigram_counting.ipynb) | counting bigram | a model is a table of probabilities; loss is negative log-likelihood | 1 h 55 min |
# | [02](02_bigram_neural.ipynb) | neural bigram | the same table, found by gradient descent instead of counting | 2 h 00 min |
# | [03](03_mlp.ipynb) | MLP (Bengio et al. 2003) | embeddings and a longer context | 2 h 10 min |
# | [04](04_training_dynamics.ipynb) | Training deeper networks | why deep networks train: initialisation, normalisation, optimisers | 3 h 30 min |
# | [05](05_rnn_gru.ipynb) | RNN and GRU | a memory carried along the word | 2 h 05 min |
# | [06](06_transformer.ipynb) | Transformer | attention: every character looks back at the ones it needs | 2 h 55 min |
#
# The study time is yours, not only the computer's: the prose read at 200 words a minute, the code
# at 10 lines a minute (each line with its output), 15 minutes per exercise, and the notebook's
# execution time on the slowest CPU the course supports, rounded to 5 minutes.
#
# This notebook checks that your environment is ready and takes a first look at the data.
#
# **Next:** [01 — counting bigram](01_bigram_counting.ipynb)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How to run the course
#
# From the repository root, two commands do everything:
#
# ```bash
# make course   # set up .venv, fetch the data, execute every notebook, build the HTML course
# make test     # set up, then lint, unit tests, re-execute every notebook and compare its outputs
# ```
#
# `make lab` opens JupyterLab. Every notebook is stored *executed*, so you can read it first and
# run it after; when you run it yourself you should get the same numbers, because every random draw
# comes from a seeded `torch.Generator` and everything runs on the CPU unless you ask otherwise.
#
# Small helpers live in the `utils/` package of this repository. A notebook only imports a helper
# after an earlier cell (or notebook) has written the same mechanism out by hand, so nothing you
# rely on is a black box.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Your environment
#
# The course pins exact versions of its dependencies (`requirements.txt`). The cell below compares
# what this kernel runs with those pins; if a line says *mismatch*, run `make course` (or
# `make setup`) again from the repository root.

# %%
import sys
from importlib.metadata import version

import torch

import utils

pins = {}
for line in (utils.REPO_ROOT / "requirements.txt").read_text().splitlines():
    line = line.split("#")[0].strip()
    if "==" in line:
        name, want = line.split("==")
        pins[name] = want

for name in ["torch", "numpy", "matplotlib", "jupytext", "nbval"]:
    have = version(name).split("+")[0]
    print(f"{name:<11} {have:<8} {'ok' if have == pins[name] else 'mismatch: pinned ' + pins[name]}")
print(f"python      {sys.version_info.major}.{sys.version_info.minor}")

# %%
assert all(version(n).split("+")[0] == v for n, v in pins.items()), "the environment does not match requirements.txt"

# %% [markdown] slideshow={"slide_type": "subslide"}
# Where will tensors live? By default, on the CPU: that keeps the stored outputs reproducible on
# any laptop. If you have a GPU, set `SEQUENTIA_DEVICE=cuda` (or `mps` on Apple silicon) before
# starting JupyterLab, and the notebooks that train models will use it. `get_device` tells you what
# you got, and fails with an explanation if you asked for an accelerator that is not there.

# %%
from utils.device import get_device

device = get_device()
print("device:", device)
print("CUDA available:", torch.cuda.is_available())

# %% [markdown] slideshow={"slide_type": "subslide"}
# One more setting, made at the top of every notebook: PyTorch runs on **one CPU thread**. With two
# or more, a few operations add up their numbers in whatever order the threads happen to finish —
# the backward pass of an embedding lookup `C[X]` (notebook 03 on) is one — so the last digits of a
# trained model, and of the losses printed after training, change from one run to the next. With one
# thread the same notebook gives the same numbers every time it runs, whatever the number of cores.
# The course's tensors are small, so a second thread would buy little speed anyway (notebook 02 shows
# why), and `make test` uses the cores by running two notebooks at once instead.
#
# The cell below shows the effect on an embedding lookup: its gradient computed twenty times.

# %%
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
C = torch.randn(27, 8, generator=g, requires_grad=True)  # (27, 8): an embedding table
X = torch.randint(0, 27, (4096,), generator=g)  # (4096,): many lookups of the same 27 rows
w = torch.randn(4096, 8, generator=g)  # (4096, 8)
grads = set()
for _ in range(20):
    C.grad = None
    (C[X] * w).sum().backward()  # d/dC adds 4096 rows into 27
    grads.add(C.grad.numpy().tobytes())
print(f"one thread: {len(grads)} distinct gradient(s) in 20 runs")
assert len(grads) == 1 and torch.get_num_threads() == 1

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data at a glance
#
# `make data` put the names in `data/names.txt`, one per line, and checked its checksum. The loader
# strips whitespace and line endings, skips blank lines, and stops with a clear message if the file
# is missing or unusable.

# %%
from utils.data import load_words

words = load_words()
print(f"{len(words):,} names")
print("the first ten:", words[:10])

# %% [markdown] slideshow={"slide_type": "subslide"}
# How long are they? The model will have to learn where a name *ends*, not only which letters it
# contains, so the spread of lengths matters.

# %%
lengths = torch.tensor([len(w) for w in words])
shortest = min(words, key=len)
longest = max(words, key=len)
print(f"shortest: {shortest!r} ({len(shortest)} characters)")
print(f"longest:  {longest!r} ({len(longest)} characters)")
print(f"mean length: {lengths.float().mean():.2f}, median: {lengths.median().item()}")

# %%
import matplotlib.pyplot as plt

counts = torch.bincount(lengths)
fig, ax = plt.subplots(figsize=(7, 3))
ax.bar(range(len(counts)), counts.tolist(), color="C0")
ax.set_xlabel("name length (characters)")
ax.set_ylabel("number of names")
ax.set_title("Most names have 4 to 8 characters")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Which characters appear? The vocabulary is built from the data itself: the sorted set of
# characters, plus one extra token at index 0, shown as `.`, that marks the start and the end of a
# name. For these names that gives 27 tokens; a different list would give a different vocabulary.
# Here we use the course's helper `Vocab`; notebook 01 builds the same tables (`stoi`, `itos`) by
# hand in four lines and checks the helper against them.

# %%
from utils.data import Vocab

vocab = Vocab.from_words(words)
print(len(vocab), "tokens:", vocab.boundary + "".join(vocab.chars))
print("stoi:", {c: vocab.stoi[c] for c in ".abz"})

# %% [markdown] slideshow={"slide_type": "subslide"}
# Finally, the split every notebook shares. To know whether a model has learned something general
# rather than memorised the list, we shuffle the names once with a fixed seed and keep 10% aside
# for choosing settings (the *dev* split) and 10% for the final verdict (the *test* split).
# `split_words` does it here; notebook 01 writes the shuffle and the cuts out by hand and checks
# that they give the same three lists.

# %%
from utils.data import split_words

train_words, dev_words, test_words = split_words(words)
print(f"train {len(train_words):,} · dev {len(dev_words):,} · test {len(test_words):,}")
print("first training names:", train_words[:5])

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary
#
# - Your environment matches the pins, and the models will run on the device shown above.
# - The data is 32,033 names of 2 to 15 characters over 26 letters, plus one boundary token.
# - Every model in the course trains on the same 25,626 names and is compared on the same 3,203 dev
#   and 3,204 test names.
#
# **Next:** [01 — counting bigram](01_bigram_counting.ipynb), where the first model is nothing but a
# table of counts.
