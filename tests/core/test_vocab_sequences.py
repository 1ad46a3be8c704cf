"""Vocabulary, encoding and validation of pairs: what the user types becomes indices, or precise problems."""

from __future__ import annotations

import pytest

from rnnstudio.core.problems import Problem, ValidationError
from rnnstudio.core.sequences import MAX_LENGTH, MAX_PAIRS, Pair, Task, validate_pairs
from rnnstudio.core.vocab import MAX_VOCAB, Vocabulary

ROUND_TRIP_STRINGS = [
    "hello",
    "ohlol",
    "日本語の文",  # CJK
    "a b  c ",  # spaces, including leading/trailing-looking ones
    "🙂😀🙂!",  # emoji outside the BMP
    "mixed 日本 🙂 text",
    "x",
]


def where(problems: list[Problem]) -> set[tuple[str, int | None, int | None]]:
    return {(p.field, p.pair, p.position) for p in problems}


# --- the vocabulary ---------------------------------------------------------------------------


def test_derived_vocabulary_is_the_sorted_set_of_characters_like_the_notebook() -> None:
    vocab = Task.of([("hello", "ohlol")]).vocabulary()
    assert vocab.chars == ("e", "h", "l", "o")  # the notebook's idx2char
    assert vocab.derived
    assert vocab.encode("ohlol") == [3, 1, 2, 3, 2]  # the notebook's y_data
    # (the notebook's x_data [1, 0, 0, 2, 3] spells "heelo"; "hello" itself is:)
    assert vocab.encode("hello") == [1, 0, 2, 2, 3]


def test_derived_vocabulary_takes_characters_of_every_input_and_target() -> None:
    vocab = Task.of([("ab", "ba"), ("zz", "cd")]).vocabulary()
    assert vocab.chars == ("a", "b", "c", "d", "z")


def test_explicit_vocabulary_keeps_the_users_order() -> None:
    task = Task.of([("hello", "ohlol")], vocab="olhe")
    vocab = task.vocabulary()
    assert vocab.chars == ("o", "l", "h", "e")
    assert not vocab.derived
    assert vocab.encode("hello") == [2, 3, 1, 1, 0]
    assert vocab.index("e") == 3


def test_explicit_vocabulary_may_hold_characters_the_pairs_do_not_use() -> None:
    task = Task.of([("ab", "ba")], vocab="abcxyz")
    assert task.problems() == []
    assert len(task.vocabulary()) == 6


@pytest.mark.parametrize("text", ROUND_TRIP_STRINGS)
def test_encode_decode_round_trip(text: str) -> None:
    vocab = Vocabulary.derive([text])
    indices = vocab.encode(text)
    assert len(indices) == len(text)
    assert all(0 <= i < len(vocab) for i in indices)
    assert vocab.decode(indices) == text


@pytest.mark.parametrize("text", ROUND_TRIP_STRINGS)
def test_one_hot_round_trip(text: str) -> None:
    vocab = Vocabulary.derive([text, "qrs"])
    indices = vocab.encode(text)
    rows = vocab.one_hot(indices)
    assert len(rows) == len(text)
    for row, i in zip(rows, indices, strict=True):
        assert len(row) == len(vocab)  # inputSize
        assert row[i] == 1.0
        assert sum(row) == 1.0
    assert Vocabulary.from_one_hot(rows) == indices
    assert vocab.decode(Vocabulary.from_one_hot(rows)) == text


def test_from_one_hot_reads_score_rows_by_their_maximum() -> None:
    # the notebook's `_, idx = outputs.max(dim=1)` on logits, not just exact one-hot rows
    assert Vocabulary.from_one_hot([[0.1, 0.7, 0.2], [-3.0, -4.0, -1.5], [2.0, 0.0, 1.0]]) == [1, 2, 0]


def test_characters_are_code_points_so_spaces_cjk_and_emoji_are_single_entries() -> None:
    vocab = Vocabulary.derive(["日 🙂"])
    assert vocab.chars == tuple(sorted(["日", " ", "🙂"]))
    # an emoji built with a zero-width joiner is several code points, hence several characters
    joined = "👩\u200d💻"
    assert len(Vocabulary.derive([joined])) == 3
    assert Vocabulary.derive([joined]).decode(Vocabulary.derive([joined]).encode(joined)) == joined


def test_encoding_an_unknown_character_is_an_error_not_a_silent_index() -> None:
    vocab = Vocabulary.explicit("ab")
    with pytest.raises(KeyError):
        vocab.encode("abc")
    assert "c" not in vocab and "a" in vocab


# --- validation: every problem at once, each at its place ------------------------------------


def test_valid_task_has_no_problems_and_validated_returns_it() -> None:
    task = Task.of([("hello", "ohlol"), ("日本 🙂", "🙂 本日")])
    assert task.problems() == []
    assert task.validated() is task


def test_every_problem_is_reported_at_once_with_pair_field_and_position() -> None:
    task = Task.of(
        [
            ("", "abc"),  # pair 1: empty input
            ("abc", "ab"),  # pair 2: target shorter than input
            ("axc", "cbz"),  # pair 3: x and z not in the vocabulary
            ("ab", ""),  # pair 4: empty target
        ],
        vocab="abc",
    )
    problems = task.problems()
    assert where(problems) == {
        ("input", 0, None),
        ("target", 1, 2),
        ("input", 2, 1),
        ("target", 2, 2),
        ("target", 3, None),
    }
    assert len(problems) == 5  # nothing reported twice
    with pytest.raises(ValidationError) as info:
        task.validated()
    assert info.value.problems == tuple(problems)
    # the exception's text lists every problem, so a one-line report loses none of them
    for p in problems:
        assert str(p) in str(info.value)


def test_empty_strings_are_problems_of_their_own_field() -> None:
    problems = Task.of([("", "")], vocab="ab").problems()
    assert where(problems) == {("input", 0, None), ("target", 0, None)}
    # derived from nothing, the vocabulary is empty too, and says so
    assert ("vocab", None, None) in where(Task.of([("", "")]).problems())
    assert all("empty" in p.message for p in problems)


def test_length_mismatch_is_a_target_problem_that_says_why() -> None:
    (problem,) = Task.of([("hello", "ohlolol")]).problems()
    assert (problem.field, problem.pair, problem.position) == ("target", 0, 5)
    assert "7" in problem.message and "5" in problem.message
    assert "one character per input character" in problem.message
    assert "accent" not in problem.message


def test_length_mismatch_from_a_combining_accent_says_it_counts() -> None:
    # "he\u0301llo" shows five letters but is six characters: the accent is a mark of its own.
    (problem,) = Task.of([("he\u0301llo", "ohlol")]).problems()
    assert "its input has 6" in problem.message
    assert "U+0301" in problem.message and "counts as a character" in problem.message


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467", "joiner U+200D counts each of its parts and each joiner"),
        ("\U0001f44d\U0001f3fdx", "skin tone U+1F3FD after an emoji counts as a character of its own"),
        ("a\u200bb", "U+200B is not drawn as a character of its own, but counts as one"),
        ("\u2764\ufe0fx", "U+FE0F is not drawn as a character of its own, but counts as one"),
    ],
)
def test_length_mismatch_from_an_emojis_parts_or_an_invisible_character_says_what_counts(target, says) -> None:
    # A family emoji showed one character and counted five, with no word why (the accent had one).
    (problem,) = Task.of([("ab", target)]).problems()
    assert f"has {len(target)} characters but its input has 2" in problem.message and says in problem.message


@pytest.mark.parametrize(("target", "says"), [("o", "has 1 character but"), ("oh", "has 2 characters but")])
def test_length_mismatch_counts_characters_in_good_english(target: str, says: str) -> None:
    (problem,) = Task.of([("hello", target)]).problems()
    assert problem.message.startswith(says)


def test_each_occurrence_of_an_unknown_character_is_reported_at_its_position() -> None:
    task = Task.of([("xaxbx", "abxab"), ("ab", "yy")], vocab="ab")
    problems = task.problems()
    assert where(problems) == {
        ("input", 0, 0),
        ("input", 0, 2),
        ("input", 0, 4),
        ("target", 0, 2),
        ("target", 1, 0),
        ("target", 1, 1),
    }
    assert len(problems) == 6
    assert all("is not in the vocabulary" in p.message for p in problems)
    assert {p.message for p in problems if p.pair == 1} == {"'y' is not in the vocabulary"}


def test_unknown_space_and_invisible_characters_are_named_readably() -> None:
    problems = Task.of([("a b\u200b", "abab")], vocab="ab").problems()
    messages = {p.position: p.message for p in problems}
    assert messages[1] == "' ' (space) is not in the vocabulary"
    assert messages[3] == "U+200B is not in the vocabulary"


def test_derived_vocabulary_never_reports_unknown_characters() -> None:
    assert Task.of([("日本 🙂", "🙂本 日")]).problems() == []


def test_duplicate_vocabulary_entries_are_reported_with_both_places_by_index() -> None:
    problems = Task.of([("ab", "ba")], vocab=["a", "b", "a", "b", "c"]).problems()
    assert where(problems) == {("vocab", None, 2), ("vocab", None, 3)}
    first = next(p for p in problems if p.position == 2)
    # numbered as idx2char and the chips number them, from 0
    assert str(first) == "vocab, index 2: 'a' is already at index 0"


def test_empty_vocabulary_is_a_problem_and_every_character_is_unknown() -> None:
    problems = Task.of([("ab", "ba")], vocab=[]).problems()
    assert ("vocab", None, None) in where(problems)
    assert any("empty" in p.message for p in problems if p.field == "vocab")
    assert {(p.field, p.position) for p in problems if p.field != "vocab"} == {
        ("input", 0),
        ("input", 1),
        ("target", 0),
        ("target", 1),
    }


@pytest.mark.parametrize("entry", ["ab", ""])
def test_vocabulary_entries_must_be_single_characters(entry: str) -> None:
    problems = Vocabulary.explicit(["x", entry, "y"]).problems()
    assert where(problems) == {("vocab", None, 1)}
    assert str(problems[0]) == f"vocab, index 1: {entry!r} is not one character: each entry must be one"


def test_vocabulary_size_limit_applies_to_explicit_and_derived() -> None:
    chars = [chr(0x4E00 + i) for i in range(MAX_VOCAB + 1)]
    half = len(chars) // 2
    first, second = "".join(chars[:half]), "".join(chars[half:])  # each within the length limit
    assert Vocabulary.explicit(chars[:MAX_VOCAB]).problems() == []
    for problems in (
        Vocabulary.explicit(chars).problems(),
        Task.of([(first, first[::-1]), (second, second[::-1])]).problems(),  # derived from the strings
    ):
        assert where(problems) == {("vocab", None, None)}
        assert str(MAX_VOCAB + 1) in problems[0].message and str(MAX_VOCAB) in problems[0].message


def test_string_length_limit() -> None:
    ok = "ab" * (MAX_LENGTH // 2)
    assert len(ok) == MAX_LENGTH
    assert Task.of([(ok, ok)]).problems() == []
    long = ok + "a"
    problems = Task.of([("ab", "ba"), (long, long)]).problems()
    assert where(problems) == {("input", 1, None), ("target", 1, None)}
    assert all(str(MAX_LENGTH) in p.message for p in problems)


def test_pair_count_limit() -> None:
    assert Task.of([("a", "b")] * MAX_PAIRS).problems() == []
    problems = Task.of([("a", "b")] * (MAX_PAIRS + 1)).problems()
    assert where(problems) == {("pairs", None, None)}
    assert str(MAX_PAIRS + 1) in problems[0].message


def test_no_pairs_is_a_problem() -> None:
    problems = validate_pairs((), Vocabulary.explicit("ab"))
    assert where(problems) == {("pairs", None, None)}


def test_task_accepts_pairs_and_tuples_alike() -> None:
    assert Task.of([Pair("ab", "ba"), ("cd", "dc")]).pairs == (Pair("ab", "ba"), Pair("cd", "dc"))


# --- messages for people count from 1 -----------------------------------------------------------


def test_problem_text_counts_pairs_and_positions_from_one() -> None:
    problems = Task.of([("ab", "ba"), ("ab", "ba"), ("aXb", "bab")], vocab="ab").problems()
    assert [str(p) for p in problems] == ["pair 3, input, position 2: 'X' is not in the vocabulary"]
    assert (
        str(Problem("target", "has 2 characters", pair=0, position=2)) == "pair 1, target, position 3: has 2 characters"
    )
    assert str(Problem("vocab", "is already at index 0", position=1)) == "vocab, index 1: is already at index 0"
    assert str(Problem("hidden_size", "must be 4")) == "hidden size: must be 4"
    assert str(Problem("input", "is empty", pair=4)) == "pair 5, input: is empty"
