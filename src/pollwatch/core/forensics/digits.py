"""Digit tests on vote counts, with bootstrap confidence intervals.

- 2BL: mean of the second significant digit of counts ≥ 10; Benford's law gives 4.187
  (Mebane, "Election forensics: vote counts and Benford's law", 2006; Mebane, "Election
  Forensics Toolkit", USAID DRG working paper, 2015).
- Last digit: its mean (uniform null 4.5) and Beber & Scacco's χ² of the ten digit counts
  against the uniform (B. Beber, A. Scacco, "What the numbers say: a digit-based test for
  election fraud", Political Analysis 20(2):211–234, 2012). Counts below `MIN_LAST_DIGIT_COUNT`
  are left out, as Beber & Scacco do: small numbers' last digits are not uniform.
- C05s: share of counts whose last digit is 0 or 5 (null 0.2); P05s: share of percentages
  (100·count/total, rounded to an integer) whose last digit is 0 or 5 (null 0.2). Both from
  Mebane's toolkit; a human inventing numbers favours 0 and 5.

Bootstrap: every statistic here is a function of one categorical variable's frequencies, so
resampling the stations with replacement is exactly drawing the ten digit counts from a
multinomial with the observed frequencies — `replicates` draws of ten numbers instead of
`replicates` × stations indices. Percentile intervals; a test flags when its null value lies
outside the interval.

2BL's null holds only for counts spread over several orders of magnitude; one option's votes at
stations of similar size (a few hundred to a few thousand) do not follow Benford's law however
honest the count, so 2BL flags them (Deckert, Myagkov & Ordeshook, "Benford's law and the
detection of election fraud", Political Analysis 19(3), 2011). The tests show both cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats  # type: ignore[import-untyped]

from pollwatch.core.forensics.stations import FloatArray, IntArray

# Benford's law for the second significant digit: P(d) = Σ_{k=1..9} log10(1 + 1/(10k + d)).
BENFORD_SECOND_DIGIT: FloatArray = np.array(
    [np.log10(1.0 + 1.0 / (10.0 * np.arange(1, 10) + d)).sum() for d in range(10)]
)
BENFORD_SECOND_DIGIT_MEAN = float((np.arange(10) * BENFORD_SECOND_DIGIT).sum())  # 4.187
UNIFORM_DIGIT_MEAN = 4.5
ZERO_OR_FIVE_NULL = 0.2
MIN_LAST_DIGIT_COUNT = 10
DIGITS = np.arange(10)


@dataclass(frozen=True)
class DigitStatistic:
    name: str
    value: float
    null: float
    ci_low: float
    ci_high: float
    level: float
    n: int

    @property
    def flagged(self) -> bool:
        """The null value lies outside the bootstrap interval."""
        return not self.ci_low <= self.null <= self.ci_high


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    df: int
    p_value: float
    digit_counts: IntArray


@dataclass(frozen=True)
class DigitTests:
    second_digit_mean: DigitStatistic
    last_digit_mean: DigitStatistic
    last_digit_chi_square: ChiSquare
    c05s: DigitStatistic
    p05s: DigitStatistic

    @property
    def statistics(self) -> tuple[DigitStatistic, ...]:
        return (self.second_digit_mean, self.last_digit_mean, self.c05s, self.p05s)


def second_digit(counts: IntArray) -> IntArray:
    """The second significant digit of each count ≥ 10."""
    counts = np.asarray(counts, dtype=np.int64)
    counts = counts[counts >= 10]
    magnitude = np.floor(np.log10(counts)).astype(np.int64)
    # Guard against log10 rounding at exact powers of ten.
    magnitude -= (10**magnitude > counts).astype(np.int64)
    magnitude += (10 ** (magnitude + 1) <= counts).astype(np.int64)
    return (counts // 10 ** (magnitude - 1)) % 10


def digit_frequencies(digits: IntArray) -> IntArray:
    return np.bincount(digits, minlength=10).astype(np.int64)


def digit_tests(
    counts: IntArray,
    totals: IntArray,
    level: float = 0.99,
    replicates: int = 1_000,
    seed: int = 0,
) -> DigitTests:
    """All digit tests on one count per station (`totals` is what P05s divides by)."""
    counts = np.asarray(counts, dtype=np.int64)
    totals = np.asarray(totals, dtype=np.int64)
    rng = np.random.default_rng(seed)
    large = counts[counts >= MIN_LAST_DIGIT_COUNT]
    last = digit_frequencies(large % 10)
    positive = totals > 0
    percent = np.rint(100.0 * counts[positive] / totals[positive]).astype(np.int64)
    zero_or_five = np.isin(DIGITS, (0, 5)).astype(np.float64)
    return DigitTests(
        second_digit_mean=_bootstrap(
            "2BL",
            digit_frequencies(second_digit(counts)),
            DIGITS.astype(np.float64),
            BENFORD_SECOND_DIGIT_MEAN,
            level,
            replicates,
            rng,
        ),
        last_digit_mean=_bootstrap(
            "last digit mean",
            last,
            DIGITS.astype(np.float64),
            UNIFORM_DIGIT_MEAN,
            level,
            replicates,
            rng,
        ),
        last_digit_chi_square=beber_scacco(last),
        c05s=_bootstrap(
            "C05s",
            digit_frequencies(counts % 10),
            zero_or_five,
            ZERO_OR_FIVE_NULL,
            level,
            replicates,
            rng,
        ),
        p05s=_bootstrap(
            "P05s",
            digit_frequencies(percent % 10),
            zero_or_five,
            ZERO_OR_FIVE_NULL,
            level,
            replicates,
            rng,
        ),
    )


def beber_scacco(digit_counts: IntArray) -> ChiSquare:
    """Pearson's χ² of the ten last-digit counts against the uniform distribution (9 df)."""
    n = int(digit_counts.sum())
    if n == 0:
        return ChiSquare(statistic=0.0, df=9, p_value=1.0, digit_counts=digit_counts)
    result = stats.chisquare(digit_counts)
    return ChiSquare(
        statistic=float(result.statistic),
        df=9,
        p_value=float(result.pvalue),
        digit_counts=digit_counts,
    )


def _bootstrap(
    name: str,
    frequencies: IntArray,
    scores: FloatArray,
    null: float,
    level: float,
    replicates: int,
    rng: np.random.Generator,
) -> DigitStatistic:
    """Mean of `scores[digit]` and its percentile bootstrap interval (multinomial resampling)."""
    n = int(frequencies.sum())
    if n == 0:
        return DigitStatistic(name, float("nan"), null, float("nan"), float("nan"), level, 0)
    p = frequencies / n
    resampled: NDArray[np.int64] = rng.multinomial(n, p, size=replicates)
    means = resampled @ scores / n
    tail = (1.0 - level) / 2
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return DigitStatistic(
        name=name,
        value=float(p @ scores),
        null=null,
        ci_low=float(low),
        ci_high=float(high),
        level=level,
        n=n,
    )
