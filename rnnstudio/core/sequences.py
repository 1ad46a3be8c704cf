"""Input/target string pairs, the task they make with a vocabulary, and their validation."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from .problems import Problem, ValidationError, plural
from .vocab import Vocabulary, describe_char

#: The longest input or target string accepted (time steps per sequence).
MAX_LENGTH = 500
#: The most pairs a task may hold (they train together as one batch). With MAX_LENGTH and the
#: vocabulary's limit this bounds a one-hot batch to 256 x 500 x 512 floats (262 MB), and keeps
#: validation while typing well under a tenth of a second.
MAX_PAIRS = 256


@dataclass(frozen=True)
class Pair:
    """One training example: the model reads ``input`` and should emit ``target``."""

    input: str
    target: str


@dataclass(frozen=True)
class Task:
    """Pairs plus the vocabulary they are written in.

    ``vocab`` is ``None`` when the vocabulary is derived from the strings (the
    sorted set of their characters), or the user's explicit ordered list.
    """

    pairs: tuple[Pair, ...]
    vocab: tuple[str, ...] | None = None

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str] | Pair], vocab: Iterable[str] | None = None) -> Task:
        """Build a task from (input, target) tuples or pairs."""
        ps = tuple(p if isinstance(p, Pair) else Pair(*p) for p in pairs)
        return cls(ps, None if vocab is None else tuple(vocab))

    def vocabulary(self) -> Vocabulary:
        """The explicit vocabulary, or the one derived from every input and target."""
        return self._vocabulary

    @cached_property
    def _vocabulary(self) -> Vocabulary:
        # Asked for several times per keystroke by the views; a task is immutable, so once is enough.
        if self.vocab is None:
            return Vocabulary.derive(s for p in self.pairs for s in (p.input, p.target))
        return Vocabulary.explicit(self.vocab)

    def problems(self) -> list[Problem]:
        """Every problem at once, each naming its pair, field and position."""
        return validate_pairs(self.pairs, self.vocabulary())

    def validated(self) -> Task:
        """This task, or ValidationError listing all its problems."""
        problems = self.problems()
        if problems:
            raise ValidationError(problems)
        return self


def unknown_char_problems(text: str, vocab: Vocabulary, field: str = "input", pair: int | None = None) -> list[Problem]:
    """One problem per character of ``text`` missing from ``vocab``, at its position."""
    return [
        Problem(field, f"{describe_char(c)} is not in the vocabulary", pair=pair, position=i)
        for i, c in enumerate(text)
        if c not in vocab
    ]


def validate_pairs(pairs: tuple[Pair, ...], vocab: Vocabulary) -> list[Problem]:
    """Problems of ``pairs`` written in ``vocab`` and of the vocabulary itself."""
    found: list[Problem] = list(vocab.problems())
    if not pairs:
        found.append(Problem("pairs", "there are no pairs: add an input and its target"))
    elif len(pairs) > MAX_PAIRS:
        found.append(Problem("pairs", f"{len(pairs):,} pairs is more than the limit of {MAX_PAIRS}"))
    check_chars = not vocab.derived
    for i, pair in enumerate(pairs):
        for name, text in (("input", pair.input), ("target", pair.target)):
            if not text:
                found.append(Problem(name, "is empty", pair=i))
                continue
            if len(text) > MAX_LENGTH:
                found.append(Problem(name, f"is {len(text)} characters, more than the limit of {MAX_LENGTH}", pair=i))
            for pos, ch in enumerate(text):
                if 0xD800 <= ord(ch) <= 0xDFFF:  # e.g. bytes that were not UTF-8, from a command line
                    found.append(
                        Problem(name, f"holds U+{ord(ch):04X}, which is not a character", pair=i, position=pos)
                    )
            if check_chars:
                found.extend(unknown_char_problems(text, vocab, name, i))
        if pair.input and pair.target and len(pair.input) != len(pair.target):
            found.append(
                Problem(
                    "target",
                    f"has {plural(len(pair.target), 'character')} but its input has {len(pair.input)}: "
                    "the model emits one character per input character" + _marks_note(pair.input + pair.target),
                    pair=i,
                    position=min(len(pair.input), len(pair.target)),
                )
            )
    return found


def _marks_note(text: str) -> str:
    """Why a string can count more characters than it shows: a combining mark is one of its own, and
    so are an emoji's joiners, variation selectors and skin tones, and invisible format characters."""
    for ch in text:
        code = f"U+{ord(ch):04X}"
        if unicodedata.combining(ch):
            return f" (the accent {code} is typed as a mark of its own after its letter, and counts as a character)"
        if ch == "\u200d":
            return f" (an emoji built with the joiner {code} counts each of its parts and each joiner as a character)"
        if 0x1F3FB <= ord(ch) <= 0x1F3FF:
            return f" (the skin tone {code} after an emoji counts as a character of its own)"
        if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            return f" ({code} is not drawn as a character of its own, but counts as one)"
    return ""
