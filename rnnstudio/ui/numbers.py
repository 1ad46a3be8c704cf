"""Numbers as the views print them: short enough for a table cell or a read-out, whatever their size."""

from __future__ import annotations

import math

#: Losses from here up are printed in scientific notation: 4 decimals would make them 10+ characters wide.
LARGE_LOSS = 1e4
#: Losses below this (but not 0) are printed in scientific notation: 4 decimals would show 0.0000.
SMALL_LOSS = 1e-3
#: The widest text format_loss gives for a finite loss (scientific notation), to size columns by.
WIDEST_LOSS = "-0.000e+00"


def format_loss(value: float) -> str:
    """A loss as the notebook prints it (4 decimals); scientific (9.594e+14) once huge or tiny; nan / inf spelled."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0.0 or SMALL_LOSS <= abs(value) < LARGE_LOSS:
        return f"{value:.4f}"
    return f"{value:.3e}"


def format_accuracy(value: float) -> str:
    """An accuracy in 0..1 as a percentage with one decimal, that never rounds to all or none right:
    one wrong character in 5,120 is ">99.9%", not "100.0%" beside a red character in the log."""
    text = f"{value * 100:.1f}%"
    if text == "100.0%" and value < 1:
        return ">99.9%"
    if text == "0.0%" and value > 0:
        return "<0.1%"
    return text
