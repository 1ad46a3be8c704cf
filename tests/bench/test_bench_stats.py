"""The benchmarks' confidence interval for a median, which the README's and bench/RESULTS.md's intervals rest on."""

import math
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from bench_stats import median_interval


def test_twenty_rounds_give_the_sixth_to_fifteenth_value():
    values = [0.5 + 0.01 * i for i in range(20)]
    random.Random(3).shuffle(values)  # the order the rounds came in does not matter
    low, high, confidence = median_interval(values)
    assert (low, high) == (pytest.approx(0.55), pytest.approx(0.64))
    assert confidence == pytest.approx(1 - 2 * sum(math.comb(20, k) for k in range(6)) / 2**20)


def test_too_few_rounds_give_the_whole_range_and_say_how_sure():
    low, high, confidence = median_interval([0.9, 0.8, 1.1, 0.7, 1.0])
    assert (low, high) == (0.7, 1.1)
    assert confidence == pytest.approx(1 - 2 / 32)  # below the 95% asked for, and said so


@pytest.mark.parametrize("n", [6, 15, 20, 41])
def test_the_interval_holds_the_true_median_as_often_as_it_claims(n):
    rng = random.Random(n)
    true_median = math.log(2)  # of the exponential distribution: skewed, as the rounds' ratios are
    trials, held, claimed = 3000, 0, None
    for _ in range(trials):
        low, high, claimed = median_interval([rng.expovariate(1.0) for _ in range(n)])
        held += low <= true_median <= high
    assert claimed >= 0.95
    assert abs(held / trials - claimed) < 0.012  # about three standard errors of 3,000 trials


def _binomial_confidence(n: int, k: int) -> float:
    """Confidence of the interval from the (k+1)-th smallest to the (k+1)-th largest of n values."""
    return 1 - 2 * sum(math.comb(n, j) for j in range(k + 1)) / 2**n


@pytest.mark.parametrize(
    ("n", "level", "k"),
    [
        (1, 0.95, 0),  # one value: itself, with no confidence to speak of
        (2, 0.95, 0),
        (6, 0.95, 0),  # the fewest rounds whose whole range reaches 95%
        (12, 0.95, 2),  # the 3rd to the 10th
        (82, 0.95, 31),  # the 32nd to the 51st of 82 rounds
        (20, 0.90, 5),  # 0.959 is also the narrowest at 90%: k = 6 gives 0.885
        (20, 0.80, 6),
    ],
)
def test_the_narrowest_interval_that_reaches_the_level(n, level, k):
    values = [float(i) for i in range(n)]
    low, high, confidence = median_interval(values, level)
    assert (low, high) == (k, n - 1 - k)
    assert confidence == pytest.approx(_binomial_confidence(n, k))
    assert n == 1 or confidence >= level or k == 0
    if k + 1 <= n - 2 - k:  # one step narrower would fall short of the level
        assert _binomial_confidence(n, k + 1) < level


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="no values"):
        median_interval([])
    with pytest.raises(ValueError, match="between 0 and 1"):
        median_interval([1.0, 2.0], level=1.0)
