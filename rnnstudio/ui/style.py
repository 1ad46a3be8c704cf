"""The app's colours, in one place: right / wrong, text, backgrounds (a light theme, Primer's palette)."""

from __future__ import annotations

RIGHT = "#1a7f37"  # a predicted character that equals its target
WRONG = "#cf222e"  # one that does not; also errors and problems
ERROR = WRONG
RIGHT_BG = "#dafbe1"  # light backgrounds behind right / wrong text
WRONG_BG = "#ffebe9"
RIGHT_FILL = "#aceebb"  # stronger fills for whole cells (film-strip, bars)
WRONG_FILL = "#ffcecb"
TEXT = "#1f2328"
MUTED = "#57606a"
BACKGROUND = "#ffffff"
