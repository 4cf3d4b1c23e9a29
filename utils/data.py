"""Reading a word list, the character vocabulary, and the datasets every notebook trains on.

Introduced in ``notebooks/00_start_here`` (loading) and used from ``01_bigram_counting`` on; the
builders package what the notebooks first write out by hand: bigram pairs (01, 02), context windows
(03) and padded sequences with masked targets (05, 06).

Conventions (ARCHITECTURE.md §6): the vocabulary is the sorted set of characters in the data, with index 0
reserved for the boundary token (start *and* end of a word), displayed as ``.``. Text is normalised to
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

#: The glyph that displays the boundary token (index 0).
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
    """A list of words that remembers where it came from and which blank lines were skipped."""

    def __init__(self, words: Iterable[str], path: Path | None = None, blank_lines: Sequence[int] = ()):
        super().__init__(words)
        self.path = path
        #: 1-based line numbers of the blank lines that were skipped.
        self.blank_lines = list(blank_lines)


def load_words(path: str | Path = DEFAULT_DATA, *, boundary: str = BOUNDARY) -> Words:
    """Read one word per line from a UTF-8 text file.

    Line endings (LF or CRLF) and surrounding whitespace are stripped, a leading byte-order mark is
    dropped, every line is normalised to Unicode NFC (:func:`normalise`), and blank lines are skipped, counted (``words.blank_lines``) and reported with a
    warning. Raises :class:`DataError` naming the file and line for a file that is not UTF-8, that
    yields no words, or that contains the boundary glyph; :class:`DataFileNotFoundError` for a
    missing file (run ``make data`` for the course's lists, names.txt and subdivisions.txt).
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
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    words: list[str] = []
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
        if boundary in word:
            raise DataError(
                f"{path}, line {lineno}: {word!r} contains {boundary!r}, the glyph reserved for the "
                "boundary token (start and end of a word). Remove or replace that character in the file."
            )
        words.append(word)
    if not words:
        what = "is empty" if not raw else f"has only blank lines ({len(blank)})"
        raise DataError(f"{path} yields no words: the file {what}. Give it one word per line.")
    if blank:
        shown = ", ".join(map(str, blank[:5])) + (" …" if len(blank) > 5 else "")
        warnings.warn(f"{path}: skipped {len(blank)} blank line(s) (line {shown})", stacklevel=2)
    return Words(words, path=path, blank_lines=blank)


@dataclass(frozen=True)
class Vocab:
    """Characters ↔ integer indices, with index 0 the boundary token shown as ``.``.

    Build it from the data with :meth:`from_words`; for names.txt that gives 27 tokens,
    ``.``=0, ``a``=1 … ``z``=26.
    """

    chars: tuple[str, ...]
    boundary: str = BOUNDARY
    stoi: dict[str, int] = field(init=False, repr=False, compare=False)
    itos: dict[int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.boundary in self.chars:
            raise DataError(f"the boundary glyph {self.boundary!r} cannot also be a character of the data.")
        if len(set(self.chars)) != len(self.chars) or any(len(c) != 1 for c in self.chars):
            raise DataError("Vocab.chars must be distinct single characters.")
        stoi = {c: i + 1 for i, c in enumerate(self.chars)}
        stoi[self.boundary] = 0
        object.__setattr__(self, "stoi", stoi)
        object.__setattr__(self, "itos", {i: c for c, i in stoi.items()})

    @classmethod
    def from_words(cls, words: Iterable[str], boundary: str = BOUNDARY) -> Vocab:
        """The sorted set of characters in ``words`` (normalised to NFC), after the boundary token."""
        words = [normalise(w) for w in words]
        if not words:
            raise DataError("cannot build a vocabulary from no words.")
        chars = sorted(set("".join(words)))
        if boundary in chars:
            where = next(i for i, w in enumerate(words) if boundary in w)
            raise DataError(
                f"word {where} ({words[where]!r}) contains {boundary!r}, the boundary glyph; "
                "choose another boundary glyph or clean the data."
            )
        return cls(tuple(chars), boundary)

    def __len__(self) -> int:
        return len(self.chars) + 1

    def encode(self, word: str) -> list[int]:
        """Indices of the characters of ``word``, normalised to NFC first (no boundary tokens added)."""
        word = normalise(word)
        try:
            return [self.stoi[c] for c in word]
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
