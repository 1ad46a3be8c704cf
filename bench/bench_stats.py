"""Order statistics for the benchmarks: how far a median of noisy rounds can be trusted.

No distribution is assumed. Of n independent values, the count below the
population median is Binomial(n, 1/2); so the interval between the (j+1)-th
smallest and the (j+1)-th largest value misses the median only when that count
is at most j or at least n - j.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb


def median_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(low, high, confidence): the narrowest interval of order statistics, symmetric in rank, that
    holds the population median with at least ``level`` confidence, and its exact confidence.

    With too few values to reach ``level`` (fewer than 6 for 95%), the whole range and the
    confidence it has. ValueError for no values or a level outside (0, 1).
    """
    if not values:
        raise ValueError("no values")
    if not 0 < level < 1:
        raise ValueError("a confidence level is between 0 and 1")
    ordered = sorted(values)
    n = len(ordered)
    best = (ordered[0], ordered[-1], 1 - 2 * 0.5**n)  # the whole range
    below = 0.0  # P(at most k of the n values fall below the median)
    for k in range((n - 1) // 2 + 1):  # the interval from the (k+1)-th smallest to the (k+1)-th largest
        below += comb(n, k) / 2**n
        confidence = 1 - 2 * below
        if confidence < level:
            break
        best = (ordered[k], ordered[n - 1 - k], confidence)
    return best
