"""Reading a word list, the character vocabulary, and the datasets every notebook trains on.

Introduced in ``notebooks/00_start_here`` (loading) and used from ``01_bigram_counting`` on; the
builders package what the notebooks first write out by hand: bigram pairs (01, 02), context windows
(03) and padded sequences with masked targets (05, 06).

Conventions (ARCHITECTURE.md §6): the vocabulary is the sorted set of characters in the data, with index 0
reserved for the boundary token (start *and* end of a word). The boundary is a token, not a character
of the text: every character, ``.`` included, is data; the notebooks display the token as ``.``. Text is normalised to
Unicode NFC wherever it enters (:func:`normalise`): the file's lines, the words a vocabulary is built
from, and whatever is encoded, so an ``é`` typed as one code point or as ``e`` + a combining accent is
one and the same character.
"""

from __future__ import annotations

import random
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import DEFAULT_DATA, SUBDIVISIONS_DATA

#: The glyph that displays the boundary token (index 0); it is not a character of the data.
BOUNDARY = "."
#: Target value for positions past the end of a word; ``F.cross_entropy(..., ignore_index=IGNORE_INDEX)``.
IGNORE_INDEX = -1
#: The course's split seed and fractions (train, dev, test).
SPLIT_SEED = 42
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
#: The one Unicode normal form the course uses for every piece of text (composed characters).
NORMAL_FORM = "NFC"


def normalise(text: str) -> str:
    """``text`` in Unicode NFC: ``"e\u0301"`` (e + combining acute) becomes ``"\u00e9"`` (é).

    Letters that have no precomposed form (``z̄``) keep their combining mark as a character of
    their own. Nothing else changes: case, spaces and punctuation are left as they are.
    """
    return unicodedata.normalize(NORMAL_FORM, text)


class DataError(ValueError):
    """A data file or a word that cannot be used as it is; the message says what to do."""


class DataFileNotFoundError(DataError, FileNotFoundError):
    """The data file does not exist (for the course's names: run ``make data``)."""


class Words(list):
    """A list of words that remembers where it came from, each word's line and which blank lines were skipped."""

    def __init__(self, words: Iterable[str], path: Path | str | None = None, blank_lines: Sequence[int] = (),
                 lines: Sequence[int] | None = None):
        super().__init__(words)
        self.path = path
        #: 1-based line numbers of the blank lines that were skipped.
        self.blank_lines = list(blank_lines)
        #: 1-based line number of each word in its file.
        self.lines = list(lines) if lines is not None else list(range(1, len(self) + 1))


def load_words(path: str | Path = DEFAULT_DATA) -> Words:
    """Read one word per line from a UTF-8 text file.

    Line endings (LF or CRLF) and surrounding whitespace are stripped, a leading byte-order mark is
    dropped, every line is normalised to Unicode NFC (:func:`normalise`), and blank lines are
    skipped, counted (``words.blank_lines``) and reported with a warning. Every other character,
    ``.`` included, is data. Raises :class:`DataError` naming the file and line for a file that is
    not UTF-8 or that yields no words; :class:`DataFileNotFoundError` for a missing file (run ``make
    data`` for the course's lists).
    """
    path = Path(path)
    if not path.exists():
        hint = (
            "Run `make data` to provision it."
            if path.resolve() in (DEFAULT_DATA.resolve(), SUBDIVISIONS_DATA.resolve())
            else "Check the path, or run `make data` for the course's names (data/names.txt)."
        )
        raise DataFileNotFoundError(f"data file not found: {path}. {hint}")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a text file with one word per line.")
    return parse_words(path.read_bytes(), path)


def parse_words(raw: bytes, source: Path | str = "<stdin>") -> Words:
    """:func:`load_words` on the bytes of a file (``source`` names it in messages): standard input, say."""
    path = source
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    words: list[str] = []
    numbers: list[int] = []
    blank: list[int] = []
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the empty string after a final newline is not a line
    for lineno, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            utf16 = " It looks like UTF-16." if lineno == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
            raise DataError(
                f"{path}, line {lineno}: not valid UTF-8 (byte 0x{line[err.start]:02x} at column "
                f"{err.start + 1}).{utf16} Save the file as UTF-8 text, one word per line."
            ) from None
        word = normalise(text).strip()
        if not word:
            blank.append(lineno)
            continue
        words.append(word)
        numbers.append(lineno)
    if not words:
        what = "is empty" if not raw else f"has only blank lines ({len(blank)})"
        raise DataError(f"{path} yields no words: the file {what}. Give it one word per line.")
    if blank:
        shown = ", ".join(map(str, blank[:5])) + (" …" if len(blank) > 5 else "")
        warnings.warn(f"{path}: skipped {len(blank)} blank line(s) (line {shown})", stacklevel=2)
    return Words(words, path=path, blank_lines=blank, lines=numbers)


@dataclass(frozen=True)
class Vocab:
    """Characters ↔ integer indices, with index 0 the boundary token, displayed as ``boundary`` (``.``).

    Build it from the data with :meth:`from_words`; for names.txt that gives 27 tokens,
    ``.``=0, ``a``=1 … ``z``=26. The boundary is a token, not a character: a list whose items contain
    ``.`` gets ``.`` as an ordinary character with its own index, and ``decode`` still shows index 0
    as ``.``. Only when the glyph is not a character of the data does ``stoi`` map it to 0 (so the
    notebooks can write ``stoi['.']``).
    """

    chars: tuple[str, ...]
    boundary: str = BOUNDARY
    stoi: dict[str, int] = field(init=False, repr=False, compare=False)
    itos: dict[int, str] = field(init=False, repr=False, compare=False)
    index: dict[str, int] = field(init=False, repr=False, compare=False)  # the data's characters only

    def __post_init__(self) -> None:
        if len(set(self.chars)) != len(self.chars) or any(len(c) != 1 for c in self.chars):
            raise DataError("Vocab.chars must be distinct single characters.")
        index = {c: i + 1 for i, c in enumerate(self.chars)}
        itos = {i: c for c, i in index.items()} | {0: self.boundary}
        stoi = {self.boundary: 0} | index  # a data character that looks like the glyph keeps its own index
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "stoi", stoi)
        object.__setattr__(self, "itos", itos)

    @classmethod
    def from_words(cls, words: Iterable[str], boundary: str = BOUNDARY) -> Vocab:
        """The sorted set of characters in ``words`` (normalised to NFC, ``.`` included), after the boundary token."""
        words = [normalise(w) for w in words]
        if not words:
            raise DataError("cannot build a vocabulary from no words.")
        return cls(tuple(sorted(set("".join(words)))), boundary)

    def __len__(self) -> int:
        return len(self.chars) + 1

    def encode(self, word: str) -> list[int]:
        """Indices of the characters of ``word``, normalised to NFC first (no boundary tokens added).

        Only characters of the data encode: the boundary glyph of a list without it is not one.
        """
        word = normalise(word)
        try:
            return [self.index[c] for c in word]
        except KeyError as err:
            raise DataError(
                f"cannot encode {word!r}: character {err.args[0]!r} is not in this vocabulary of "
                f"{len(self)} tokens (built from the data: {''.join(self.chars)!r}). Build the "
                "vocabulary from data that contains it, or clean the word."
            ) from None

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        """Characters of the indices ``ids``; the boundary token decodes to ``.``."""
        if isinstance(ids, torch.Tensor):
            ids = ids.flatten().tolist()
        out = []
        for i in ids:
            if i not in self.itos:
                raise DataError(f"cannot decode index {i}: valid indices are 0 … {len(self) - 1}.")
            out.append(self.itos[i])
        return "".join(out)


def _check_words(words: Sequence[str]) -> None:
    if isinstance(words, str):
        raise TypeError("expected a list of words, got a single string; wrap it in a list.")
    if len(words) == 0:
        raise DataError("no words given: the dataset would be empty.")


def bigram_pairs(words: Sequence[str], vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """Every (previous, next) character pair, with the boundary at both ends of each word.

    Returns ``xs, ys``, both int64 of shape ``(N,)`` with ``N = sum(len(w) + 1)``
    (228,146 for names.txt). Introduced in ``01_bigram_counting``.
    """
    _check_words(words)
    xs: list[int] = []
    ys: list[int] = []
    for w in words:
        ids = [0, *vocab.encode(w), 0]
        xs.extend(ids[:-1])
        ys.extend(ids[1:])
    return torch.tensor(xs), torch.tensor(ys)


def context_windows(words: Sequence[str], vocab: Vocab, block_size: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """The last ``block_size`` characters (padded with the boundary token) → the next character.

    Returns ``X`` of shape ``(N, block_size)`` and ``Y`` of shape ``(N,)``, int64, with
    ``N = sum(len(w) + 1)``. With block size 3 the course's split gives 182,625 / 22,655 / 22,866
    examples. Introduced in ``03_mlp``.
    """
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
        raise ValueError(f"block_size must be a positive integer (1 or more), got {block_size!r}.")
    _check_words(words)
    X: list[list[int]] = []
    Y: list[int] = []
    for w in words:
        context = [0] * block_size
        for ix in [*vocab.encode(w), 0]:
            X.append(context)
            Y.append(ix)
            context = [*context[1:], ix]
    return torch.tensor(X), torch.tensor(Y)


def padded_sequences(
    words: Sequence[str], vocab: Vocab, max_len: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole words as fixed-length sequences for recurrent and attention models.

    For a word ``w`` of length L, the input row is ``[0, w_1 … w_L, 0 …]`` and the target row is
    ``[w_1 … w_L, 0, -1 …]``: the targets are the inputs shifted by one, the boundary token ends
    the word, and positions past the end hold :data:`IGNORE_INDEX` so the loss skips them.
    Returns ``X, Y`` of shape ``(N, max_len + 1)``, int64. ``max_len`` defaults to the longest word.
    Introduced in ``05_rnn_gru``.
    """
    _check_words(words)
    encoded = [vocab.encode(w) for w in words]  # NFC: a decomposed é is one index, not two
    longest = max(len(ids) for ids in encoded)
    if max_len is None:
        max_len = longest
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
        raise ValueError(f"max_len must be a positive integer, got {max_len!r}.")
    if longest > max_len:
        raise DataError(f"a word of length {longest} does not fit max_len={max_len}; raise max_len.")
    T = max_len + 1
    X = torch.zeros(len(words), T, dtype=torch.long)
    Y = torch.full((len(words), T), IGNORE_INDEX, dtype=torch.long)
    for i, ids in enumerate(encoded):
        L = len(ids)
        X[i, 1 : L + 1] = torch.tensor(ids, dtype=torch.long)
        Y[i, :L] = torch.tensor(ids, dtype=torch.long)
        Y[i, L] = 0
    return X, Y


def windowed_sequences(words: Sequence[str], vocab: Vocab, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of exactly ``context`` positions, for items that may be longer than a model reads at once.

    An item of length L is the sequence ``[0, w_1 … w_L]`` → ``[w_1 … w_L, 0]``, as in
    :func:`padded_sequences`. When it fits (``L + 1 ≤ context``) it is one row, padded; otherwise it is
    cut into windows of ``context`` positions that overlap by half (the last one ends with the item),
    and in each window after the first the targets an earlier window already scored are set to
    :data:`IGNORE_INDEX`, so every character is scored once, with at least half a window of context
    before it from the second window on. A window that does not start at the item's start has no
    boundary token in front: the sequence models read it as the middle of an item. Used by
    ``sequentia`` (:mod:`utils.models.registry`, ``sequences``).
    """
    _check_words(words)
    if isinstance(context, bool) or not isinstance(context, int) or context < 2:
        raise ValueError(f"context must be an integer of 2 or more, got {context!r}.")
    T, stride = context, context // 2
    xs: list[list[int]] = []
    ys: list[list[int]] = []
    for w in words:
        ids = vocab.encode(w)
        x, y = [0, *ids], [*ids, 0]
        n = len(x)
        if n <= T:
            xs.append(x + [0] * (T - n))
            ys.append(y + [IGNORE_INDEX] * (T - n))
            continue
        starts = list(range(0, n - T, stride)) + [n - T]
        scored = 0  # targets before this position are scored by an earlier window
        for s in starts:
            row_y = y[s : s + T]
            skip = max(0, scored - s)
            xs.append(x[s : s + T])
            ys.append([IGNORE_INDEX] * skip + row_y[skip:])
            scored = s + T
    return torch.tensor(xs, dtype=torch.long), torch.tensor(ys, dtype=torch.long)


def split_words(
    words: Sequence[str], seed: int = SPLIT_SEED, fractions: Sequence[float] = SPLIT_FRACTIONS
) -> tuple[list[str], list[str], list[str]]:
    """Shuffle a copy of ``words`` with ``random.Random(seed)`` and cut it into train / dev / test.

    Identical to the lectures' ``random.seed(42); random.shuffle(words)`` followed by cuts at
    ``int(0.8 * n)`` and ``int(0.9 * n)``, without touching the global random state or the input.
    """
    _check_words(words)
    fractions = tuple(fractions)
    if len(fractions) != 3 or any(f < 0 for f in fractions):
        raise ValueError(f"fractions must be three non-negative numbers (train, dev, test), got {fractions}.")
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must sum to 1, got {fractions} (sum {sum(fractions):g}).")
    shuffled = list(words)
    random.Random(seed).shuffle(shuffled)
    n = len(shuffled)
    n1 = int(fractions[0] * n)
    n2 = int((fractions[0] + fractions[1]) * n)
    return shuffled[:n1], shuffled[n1:n2], shuffled[n2:]
