"""The character vocabulary: index <-> character, encoding and decoding.

A character is one Unicode code point, so spaces, CJK and most emoji are single
characters; an emoji written with modifiers or joiners is several.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .problems import Problem

#: The largest vocabulary the app accepts (the model's input and output size).
MAX_VOCAB = 512


def describe_char(ch: str) -> str:
    """A readable name for a character in a message: 'a', ' ' (space), U+200B."""
    if ch == " ":
        return "' ' (space)"
    if not ch.isprintable():
        return f"U+{ord(ch):04X}"
    if unicodedata.combining(ch):  # a lone accent would sit on the quote mark: '́'
        return f"U+{ord(ch):04X} (a combining accent)"
    return f"'{ch}'"


@dataclass(frozen=True)
class Vocabulary:
    """An ordered list of distinct characters; a character's position is its index."""

    chars: tuple[str, ...]
    derived: bool = False
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {c: i for i, c in enumerate(self.chars)})

    @classmethod
    def derive(cls, strings: Iterable[str]) -> Vocabulary:
        """The sorted set of the characters of ``strings`` (the notebook's idx2char)."""
        chars: set[str] = set()
        for s in strings:
            chars.update(s)
        return cls(tuple(sorted(chars)), derived=True)

    @classmethod
    def explicit(cls, chars: Iterable[str]) -> Vocabulary:
        """A vocabulary in the order the user gave."""
        return cls(tuple(chars), derived=False)

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: object) -> bool:
        return ch in self._index

    def index(self, ch: str) -> int:
        """The index of ``ch``; KeyError if it is not in the vocabulary."""
        return self._index[ch]

    def encode(self, text: str) -> list[int]:
        """Indices of the characters of ``text`` (the notebook's x_data)."""
        return [self._index[c] for c in text]

    def decode(self, indices: Iterable[int]) -> str:
        """The string whose characters have these indices."""
        chars = self.chars
        return "".join(chars[i] for i in indices)

    def one_hot(self, indices: Sequence[int]) -> list[list[float]]:
        """One row per index, 1.0 at the index and 0.0 elsewhere (seqLen x inputSize)."""
        n = len(self.chars)
        rows = []
        for i in indices:
            row = [0.0] * n
            row[i] = 1.0
            rows.append(row)
        return rows

    @staticmethod
    def from_one_hot(rows: Iterable[Sequence[float]]) -> list[int]:
        """Indices back from one-hot (or score) rows: the position of each row's maximum."""
        return [max(range(len(r)), key=r.__getitem__) for r in rows]

    def problems(self) -> list[Problem]:
        """What is wrong with this vocabulary itself: empty, duplicates, too large."""
        found: list[Problem] = []
        if not self.chars:
            found.append(Problem("vocab", "the vocabulary is empty"))
        seen: dict[str, int] = {}
        for i, c in enumerate(self.chars):
            if len(c) != 1:
                found.append(Problem("vocab", f"{c!r} is not one character: each entry must be one", position=i))
            elif c in seen:
                found.append(
                    Problem(
                        "vocab",
                        f"{describe_char(c)} is already at index {seen[c]}",
                        position=i,
                    )
                )
            else:
                seen[c] = i
        if len(self.chars) > MAX_VOCAB:
            found.append(Problem("vocab", f"{len(self.chars):,} characters is more than the limit of {MAX_VOCAB}"))
        return found
