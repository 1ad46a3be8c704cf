"""A problem found by validation, named precisely enough to show it at its field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's data or configuration.

    ``field`` names where it is: "input" / "target" (of pair ``pair``), "vocab",
    "pairs", or a configuration field such as "hidden_size". ``pair`` and
    ``position`` are 0-based; messages shown to users count pairs and positions in a string from 1,
    and name a vocabulary entry by its index from 0, as idx2char does.
    """

    field: str
    message: str
    pair: int | None = None
    position: int | None = None

    def __str__(self) -> str:
        where = []
        if self.pair is not None:
            where.append(f"pair {self.pair + 1}")
        if self.field in ("input", "target") or self.pair is None:
            # "hidden size" in the window; "model.hidden_size" in a file keeps the key as it is written there
            where.append(self.field if "." in self.field else self.field.replace("_", " "))
        if self.position is not None:  # a vocabulary entry by its index, as idx2char and the chips number it
            where.append(f"index {self.position}" if self.field == "vocab" else f"position {self.position + 1}")
        return f"{', '.join(where)}: {self.message}"


class ValidationError(ValueError):
    """Raised with every problem at once when data or configuration is invalid."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


#: How many problems a message lists before "… and N more".
MAX_LISTED = 5


def listed(lines: Sequence[str], limit: int = MAX_LISTED) -> list[str]:
    """``lines``, at most ``limit`` of them, then "… and N more" for the rest."""
    if len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], f"… and {len(lines) - limit} more"]


def plural(n: int, noun: str) -> str:
    """``n`` with ``noun``, in the plural unless it is one: "1 character", "3 characters"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def shown(value: Any) -> str:
    """``value`` as a message quotes it: its repr, cut short however long the value in the file."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an integer too long to print, a list nested too deeply
        return f"a {type(value).__name__} too long to show"
    if isinstance(value, int) and len(text) > 24:
        return f"a {len(text.lstrip('-'))}-digit number"
    return text if len(text) <= 40 else text[:37] + "..."
