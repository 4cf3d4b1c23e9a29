import random

import pytest
import torch

from utils.data import (
    IGNORE_INDEX,
    DataError,
    DataFileNotFoundError,
    Vocab,
    bigram_pairs,
    context_windows,
    load_words,
    normalise,
    padded_sequences,
    split_words,
)

# ---------------------------------------------------------------- the canonical facts of names.txt


def test_names_canonical_counts(names):
    assert len(names) == 32_033
    assert names[:3] == ["emma", "olivia", "ava"]
    assert names.blank_lines == []


def test_vocab_of_names(names):
    vocab = Vocab.from_words(names)
    assert len(vocab) == 27
    assert vocab.stoi["."] == 0 and vocab.stoi["a"] == 1 and vocab.stoi["z"] == 26
    assert vocab.itos[0] == "." and vocab.itos[26] == "z"


def test_bigram_pairs_of_names(names):
    vocab = Vocab.from_words(names)
    xs, ys = bigram_pairs(names, vocab)
    assert xs.shape == ys.shape == (228_146,)
    assert xs.dtype == torch.int64
    # "emma" → .e em mm ma a.
    assert xs[:5].tolist() == [0, 5, 13, 13, 1] and ys[:5].tolist() == [5, 13, 13, 1, 0]


def test_split_sizes_and_block3_examples(names):
    vocab = Vocab.from_words(names)
    train, dev, test = split_words(names)
    assert (len(train), len(dev), len(test)) == (25_626, 3_203, 3_204)
    assert sorted(train + dev + test) == sorted(names)
    sizes = [context_windows(s, vocab, 3)[0].shape[0] for s in (train, dev, test)]
    assert sizes == [182_625, 22_655, 22_866]


def test_split_matches_the_lectures_global_shuffle(names):
    import random

    expected = list(names)
    state = random.getstate()
    random.seed(42)
    random.shuffle(expected)
    random.setstate(state)
    train, dev, test = split_words(names)
    assert train + dev + test == expected
    assert list(names[:2]) == ["emma", "olivia"], "split_words must not shuffle its input"


# ---------------------------------------------------------------- reading files


def test_missing_other_file_says_check_the_path(tmp_path):
    with pytest.raises(DataFileNotFoundError, match=r"data file not found: .*nope\.txt\. Check the path") as err:
        load_words(tmp_path / "nope.txt")
    assert "Run `make data` to provision it" not in str(err.value)


def test_missing_default_file_says_run_make_data(monkeypatch, tmp_path):
    import utils.data as data

    missing = tmp_path / "names.txt"
    monkeypatch.setattr(data, "DEFAULT_DATA", missing)
    with pytest.raises(FileNotFoundError, match=r"Run `make data` to provision it\.$") as err:
        data.load_words(missing)
    assert "Check the path" not in str(err.value)


def test_empty_file(write):
    with pytest.raises(DataError, match="yields no words: the file is empty"):
        load_words(write(b""))


def test_only_blank_lines(write):
    with pytest.raises(DataError, match=r"only blank lines \(3\)"):
        load_words(write(b"\n  \n\t\n"))


def test_blank_lines_skipped_counted_and_reported(write):
    with pytest.warns(UserWarning, match=r"skipped 2 blank line\(s\) \(line 2, 4\)"):
        words = load_words(write(b"ann\n\nbob\n   \ncy\n"))
    assert words == ["ann", "bob", "cy"]
    assert words.blank_lines == [2, 4]


def test_crlf_and_surrounding_whitespace(write):
    assert load_words(write(b"ann\r\n  bob \r\ncy")) == ["ann", "bob", "cy"]


def test_bom_is_dropped(write):
    words = load_words(write("\ufeffann\nbob\n".encode()))
    assert words == ["ann", "bob"]
    assert Vocab.from_words(words).chars == ("a", "b", "n", "o")


def test_not_utf8_names_file_and_line(write):
    path = write(b"ann\nb\xffb\n")
    with pytest.raises(DataError, match=r"line 2: not valid UTF-8 \(byte 0xff at column 2\)"):
        load_words(path)


def test_a_dot_is_an_ordinary_character(write):
    words = load_words(write(b"ann\nst. john\nMt. Iraya Agta\n"))
    assert words == ["ann", "st. john", "Mt. Iraya Agta"] and words.lines == [1, 2, 3]
    vocab = Vocab.from_words(words)
    assert "." in vocab.chars and vocab.index["."] != 0 and vocab.stoi["."] == vocab.index["."]
    assert vocab.itos[0] == "." and 0 not in vocab.encode("st. john")  # the token is not the character
    assert vocab.decode(vocab.encode("Mt. Iraya Agta")) == "Mt. Iraya Agta"


def test_another_display_glyph_for_the_boundary(write):
    vocab = Vocab.from_words(load_words(write(b"st. john\n")), boundary="#")
    assert vocab.itos[0] == "#" and vocab.stoi["#"] == 0 and "." in vocab.chars and " " in vocab.chars


def test_the_glyph_of_a_list_without_dots_is_not_a_character():
    vocab = Vocab.from_words(["ann", "bob"])
    assert vocab.stoi["."] == 0  # the notebooks' stoi['.']
    with pytest.raises(DataError, match="cannot encode 'a.b': character '.' is not in this vocabulary"):
        vocab.encode("a.b")


def test_line_numbers_skip_blank_lines(write):
    words = load_words(write(b"ann\n\n  \nbob\n"))
    assert words == ["ann", "bob"] and words.lines == [1, 4] and words.blank_lines == [2, 3]


def test_windowed_sequences_score_every_character_once():
    from utils.data import IGNORE_INDEX, windowed_sequences

    words = ["abcdefghij", "ab"]
    vocab = Vocab.from_words(words)
    X, Y = windowed_sequences(words, vocab, 4)
    assert X.shape == Y.shape == (6, 4)  # five overlapping windows of the long item, one padded row
    assert int((Y != IGNORE_INDEX).sum()) == (10 + 1) + (2 + 1)
    assert X[0].tolist() == [0, *vocab.encode("abc")] and Y[-1].tolist() == [*vocab.encode("ab"), 0, IGNORE_INDEX]
    with pytest.raises(ValueError, match="context must be an integer of 2 or more"):
        windowed_sequences(words, vocab, 1)


def test_unicode_words_give_their_own_vocabulary(write):
    words = load_words(write("zoë\nchloé\n".encode()))
    vocab = Vocab.from_words(words)
    assert len(vocab) == 1 + len(set("zoëchloé"))
    assert vocab.decode(vocab.encode("zoë")) == "zoë"


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match="is a folder"):
        load_words(tmp_path)


def test_whole_file_in_latin1_is_a_clear_error_naming_file_and_line(write):
    path = write("zoë\nchloé\n".encode("latin-1"), name="latin1.txt")
    with pytest.raises(DataError) as err:
        load_words(path)
    message = str(err.value)
    assert message.startswith(f"{path}, line 1: not valid UTF-8 (byte 0xeb at column 3)")
    assert message.endswith("Save the file as UTF-8 text, one word per line.")
    assert "\n" not in message


def test_utf16_file_says_so(write):
    with pytest.raises(DataError, match=r"line 1: not valid UTF-8 .* It looks like UTF-16\. Save the file as UTF-8"):
        load_words(write("zoë\n".encode("utf-16")))


def test_blank_only_file_with_crlf_and_a_bom_names_the_file(write):
    path = write("\ufeff \r\n\r\n\u00a0\n".encode(), name="blank.txt")
    with pytest.raises(DataError, match=r"blank\.txt yields no words: the file has only blank lines \(3\)\. Give it"):
        load_words(path)


# ---------------------------------------------------------------- Unicode: one normal form (NFC)

COMPOSED = "chlo\u00e9"  # é as one code point
DECOMPOSED = "chloe\u0301"  # e + COMBINING ACUTE ACCENT


def test_composed_and_decomposed_files_give_the_same_words_and_vocabulary(write):
    a = load_words(write(f"{COMPOSED}\nzo\u00eb\n".encode(), name="composed.txt"))
    b = load_words(write(f"{DECOMPOSED}\nzoe\u0308\n".encode(), name="decomposed.txt"))
    assert a == b == ["chlo\u00e9", "zo\u00eb"]
    assert len(b[0]) == 5
    assert Vocab.from_words(a) == Vocab.from_words(b)
    assert "\u0301" not in Vocab.from_words(b).chars and len(Vocab.from_words(b)) == 1 + len(set("chloézoë"))


def test_vocab_normalises_what_it_is_built_from_and_what_it_encodes():
    vocab = Vocab.from_words([DECOMPOSED])
    assert vocab == Vocab.from_words([COMPOSED])
    assert vocab.encode(DECOMPOSED) == vocab.encode(COMPOSED) == [1, 2, 3, 4, 5]
    assert vocab.decode(vocab.encode(DECOMPOSED)) == COMPOSED
    assert normalise(DECOMPOSED) == COMPOSED and normalise("\u212b") == "\u00c5"  # ANGSTROM SIGN → Å


def test_builders_treat_a_decomposed_letter_as_one_character():
    vocab = Vocab.from_words([COMPOSED])
    for build in (bigram_pairs, context_windows, padded_sequences):
        for got, want in zip(build([DECOMPOSED], vocab), build([COMPOSED], vocab), strict=True):
            assert torch.equal(got, want), build.__name__
    assert padded_sequences([DECOMPOSED], vocab)[0].shape == (1, 6)


def test_letters_of_any_script_spaces_hyphens_and_apostrophes(write):
    items = ["São Tomé", "Jean-Luc", "O'Brien", "Ἀθῆναι", "東京都", "Ḩaḑramawt", "Āz̄ārbāyjān-e Ghārbī"]
    words = load_words(write("\n".join(items).encode()))
    assert words == items
    vocab = Vocab.from_words(words)
    assert {" ", "-", "'", "東", "Ἀ", "\u0304"} <= set(vocab.chars)  # z̄ has no precomposed form: z + U+0304
    assert [vocab.decode(vocab.encode(w)) for w in words] == items


def test_a_decomposed_line_with_a_dot_is_normalised_and_kept(write):
    assert load_words(write("ann\nSt. Pe\u0301ter\n".encode())) == ["ann", "St. P\u00e9ter"]


# ---------------------------------------------------------------- vocabulary


def test_encode_unknown_character_is_a_clear_error():
    vocab = Vocab.from_words(["ann", "bob"])
    with pytest.raises(DataError, match=r"cannot encode 'zed': character 'z' is not in this vocabulary of 5 tokens"):
        vocab.encode("zed")


def test_decode_round_trip_and_bad_index():
    vocab = Vocab.from_words(["ann", "bob"])
    assert vocab.decode([0, *vocab.encode("bob"), 0]) == ".bob."
    assert vocab.decode(torch.tensor([[2, 3]])) == "bn"
    with pytest.raises(DataError, match=r"cannot decode index 9: valid indices are 0 … 4"):
        vocab.decode([9])


def test_vocab_needs_words():
    with pytest.raises(DataError, match="no words"):
        Vocab.from_words([])


# ---------------------------------------------------------------- builders


def test_context_windows_small():
    vocab = Vocab.from_words(["ab"])
    X, Y = context_windows(["ab"], vocab, block_size=2)
    assert X.tolist() == [[0, 0], [0, 1], [1, 2]]
    assert Y.tolist() == [1, 2, 0]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_block_size_must_be_positive_integer(bad):
    vocab = Vocab.from_words(["ab"])
    with pytest.raises(ValueError, match="block_size must be a positive integer"):
        context_windows(["ab"], vocab, block_size=bad)


def test_padded_sequences_shift_and_mask():
    vocab = Vocab.from_words(["ab", "c"])
    X, Y = padded_sequences(["ab", "c"], vocab)
    assert X.shape == Y.shape == (2, 3)
    assert X.tolist() == [[0, 1, 2], [0, 3, 0]]
    assert Y.tolist() == [[1, 2, 0], [3, 0, IGNORE_INDEX]]


def test_padded_sequences_max_len():
    vocab = Vocab.from_words(["abc"])
    assert padded_sequences(["abc"], vocab, max_len=5)[0].shape == (1, 6)
    with pytest.raises(DataError, match="does not fit max_len=2"):
        padded_sequences(["abc"], vocab, max_len=2)


def test_builders_reject_empty_and_string_input():
    vocab = Vocab.from_words(["ab"])
    with pytest.raises(DataError, match="no words given"):
        bigram_pairs([], vocab)
    with pytest.raises(TypeError, match="single string"):
        context_windows("ab", vocab)


def test_builders_report_unknown_characters():
    vocab = Vocab.from_words(["ab"])
    with pytest.raises(DataError, match="'x' is not in this vocabulary"):
        bigram_pairs(["ax"], vocab)


# ---------------------------------------------------------------- split


@pytest.mark.parametrize(("fractions", "message"), [
    ((0.8, 0.1, 0.2), r"fractions must sum to 1, got \(0\.8, 0\.1, 0\.2\)"),
    ((0.5, 0.5), r"fractions must be three non-negative numbers \(train, dev, test\), got \(0\.5, 0\.5\)"),
    ((1.2, -0.1, -0.1), r"fractions must be three non-negative numbers \(train, dev, test\), got \(1\.2, -0\.1, -0\.1\)"),
])
def test_split_fractions_validated(fractions, message):
    with pytest.raises(ValueError, match=message):
        split_words(["a", "b", "c"], fractions=fractions)


def test_split_is_deterministic_and_seeded():
    words = [f"w{i}" for i in range(100)]
    assert split_words(words) == split_words(words)
    assert split_words(words, seed=1) != split_words(words)
    train, dev, test = split_words(words, fractions=(0.5, 0.25, 0.25))
    assert (len(train), len(dev), len(test)) == (50, 25, 25)


def test_split_leaves_the_global_random_state_and_the_input_alone():
    words = [f"w{i}" for i in range(100)]
    before = list(words)
    random.seed(123)
    state = random.getstate()
    split_words(words)
    assert random.getstate() == state, "split_words must use its own random.Random(seed)"
    assert words == before


def test_a_missing_names_txt_elsewhere_is_not_the_course_file(tmp_path):
    with pytest.raises(DataFileNotFoundError, match=r"names\.txt\. Check the path") as err:
        load_words(tmp_path / "names.txt")
    assert "Run `make data` to provision it" not in str(err.value)
