"""Rank tests for ordinal answers, computed from counts.

Ordinal items have a handful of levels, so every respondent on the same level
shares one midrank. All statistics below are therefore computed from the
group x level contingency table: midranks come from the cumulative level
totals and the tie correction from the level totals. The cost depends on the
number of groups and levels, not on the number of respondents.

Public functions
----------------
mann_whitney_from_counts    two groups (R ``wilcox.test(x, y, exact=FALSE)``)
kruskal_wallis_from_counts  k groups   (R ``kruskal.test``)
wilcoxon_signed_rank        paired ratings (R ``wilcox.test(x, y, paired=TRUE, exact=FALSE)``)

References
----------
Mann, H. B. and Whitney, D. R. (1947). Ann. Math. Statist. 18, 50–60.
Kruskal, W. H. and Wallis, W. A. (1952). JASA 47, 583–621.
Wilcoxon, F. (1945). Biometrics Bulletin 1, 80–83.
Hollander, M., Wolfe, D. A. and Chicken, E. (2014). Nonparametric
Statistical Methods, 3rd ed., Wiley (tie-corrected variances).
Kerby, D. S. (2014). The simple difference formula: an approach to teaching
nonparametric correlation. Comprehensive Psychology 3, 11.IT.3.1.
Tomczak, M. and Tomczak, E. (2014). The need to report effect size
estimates revisited. Trends in Sport Sciences 1(21), 19–25 (epsilon-squared).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats


@dataclass(frozen=True)
class RankTestResult:
    """Result of a rank test.

    Fields: ``statistic`` (U, H or V, see the function), ``df`` (degrees of
    freedom, NaN when the reference distribution is normal), ``p_value``
    (two-sided), ``z`` (standardised statistic used for the p-value, NaN for
    Kruskal–Wallis), ``effect_size``, ``effect_measure``, ``n`` (respondents
    used), ``note``.
    """

    statistic: float
    df: float
    p_value: float
    z: float
    effect_size: float
    effect_measure: str
    n: int
    note: str = ""


@dataclass(frozen=True)
class SignedRankResult:
    """Result of :func:`wilcoxon_signed_rank`.

    Fields: ``statistic`` (R's V: sum of the ranks of |d| over positive
    differences d = x - y), ``p_value`` (two-sided), ``z``, ``effect_size``
    (matched-pairs rank-biserial r = (V - V-) / (V + V-), in [-1, 1],
    positive when x tends to exceed y), ``effect_measure``, ``n`` (non-zero
    pairs used in the test), ``n_zero`` (zero differences dropped),
    ``n_missing`` (pairs with a missing value dropped), ``mean_diff`` (mean
    of all complete paired differences x - y, zeros included), ``sd_diff``,
    ``ci_low``/``ci_high`` (t-interval of the mean difference, as R
    ``t.test(x, y, paired=TRUE)``), ``note``.
    """

    statistic: float
    p_value: float
    z: float
    effect_size: float
    effect_measure: str
    n: int
    n_zero: int
    n_missing: int
    mean_diff: float
    sd_diff: float
    ci_low: float
    ci_high: float
    note: str = ""


def _count_table(table: npt.ArrayLike, ndim: int, what: str) -> np.ndarray:
    arr = np.asarray(table, dtype=float)
    if arr.ndim != ndim:
        raise ValueError(f"{what} must be {ndim}-dimensional, got shape {arr.shape}")
    if np.any(np.isnan(arr)) or np.any(arr < 0):
        raise ValueError(f"{what} must hold non-negative counts")
    if np.any(arr != np.round(arr)):
        raise ValueError(f"{what} must hold whole numbers (unweighted counts)")
    return arr


def _midranks(level_totals: np.ndarray) -> np.ndarray:
    """Midrank of each level given how many observations fall on each."""
    upper = np.cumsum(level_totals)
    return upper - (level_totals - 1.0) / 2.0


def _tie_sum(level_totals: np.ndarray) -> float:
    """sum over tie groups of t^3 - t (float to avoid integer overflow)."""
    t = level_totals.astype(float)
    return float(np.sum(t**3 - t))


def _two_sided_normal_p(z: float) -> float:
    # 2 * min(P(Z <= z), P(Z >= z)) as R does; sf keeps precision in the tail.
    if np.isnan(z):
        return float("nan")
    return float(min(1.0, 2.0 * stats.norm.sf(abs(z))))


def mann_whitney_from_counts(
    counts_a: npt.ArrayLike,
    counts_b: npt.ArrayLike,
    correct: bool = True,
) -> RankTestResult:
    """Mann–Whitney U (Wilcoxon rank-sum) test from counts per ordered level.

    Parameters
    ----------
    counts_a, counts_b
        Number of respondents of group a and b on each level, both over the
        same levels in increasing order (zeros allowed).
    correct
        Continuity correction of 0.5 toward zero, as R's default.

    Returns
    -------
    :class:`RankTestResult` with
    ``statistic`` = U of group a = (rank sum of a) - n_a (n_a + 1) / 2, which
    is R's ``W`` for ``wilcox.test(x = a, y = b)``; ``z`` = (U - n_a n_b / 2
    - CORRECTION) / sigma with the tie-corrected sigma^2 = n_a n_b / 12 *
    (N + 1 - sum(t^3 - t) / (N (N - 1))); ``p_value`` two-sided normal;
    ``df`` NaN; ``effect_size`` = rank-biserial r = 2U / (n_a n_b) - 1 in
    [-1, 1] (``effect_measure`` "rank-biserial"). Sign convention: r > 0
    (and z > 0) means group a tends to higher levels than group b;
    r = P(a > b) - P(a < b). ``n`` = n_a + n_b.

    Equals R ``wilcox.test(x, y, correct=correct, exact=FALSE)`` on the
    expanded data. If a group is empty or all answers are tied the p-value
    is NaN and ``note`` says why.
    """
    a = _count_table(counts_a, 1, "counts_a")
    b = _count_table(counts_b, 1, "counts_b")
    if a.shape != b.shape:
        raise ValueError("counts_a and counts_b must cover the same levels")
    n_a, n_b = a.sum(), b.sum()
    n = n_a + n_b
    if n_a == 0 or n_b == 0:
        return RankTestResult(float("nan"), float("nan"), float("nan"), float("nan"),
                              float("nan"), "rank-biserial", int(n),
                              "a group has no respondents")
    totals = a + b
    ranks = _midranks(totals)
    u = float(np.dot(a, ranks) - n_a * (n_a + 1.0) / 2.0)
    sigma2 = (n_a * n_b / 12.0) * ((n + 1.0) - _tie_sum(totals) / (n * (n - 1.0)))
    dev = u - n_a * n_b / 2.0
    note = ""
    if sigma2 <= 0:
        z = float("nan")
        note = "all answers are tied: no test"
    else:
        corr = 0.5 * np.sign(dev) if correct else 0.0
        z = float((dev - corr) / np.sqrt(sigma2))
    r = 2.0 * u / (n_a * n_b) - 1.0
    return RankTestResult(statistic=u, df=float("nan"), p_value=_two_sided_normal_p(z),
                          z=z, effect_size=float(r), effect_measure="rank-biserial",
                          n=int(n), note=note)


def kruskal_wallis_from_counts(table: npt.ArrayLike) -> RankTestResult:
    """Kruskal–Wallis H test from a groups x ordered-levels count table.

    Parameters
    ----------
    table
        k x L array: row i holds the number of respondents of group i on each
        level, levels in increasing order. Groups (rows) with no respondents
        are dropped and do not count in k (R builds its groups from the data,
        so it does the same).

    Returns
    -------
    :class:`RankTestResult` with ``statistic`` = tie-corrected
    H = [12 / (N (N + 1)) sum_i n_i (Rbar_i - (N + 1) / 2)^2] /
    [1 - sum(t^3 - t) / (N^3 - N)], ``df`` = k - 1, ``p_value`` = upper
    chi-square tail, ``z`` NaN, ``effect_size`` = epsilon-squared
    H (N + 1) / (N^2 - 1) = H / (N - 1) (``effect_measure``
    "epsilon-squared"; Tomczak & Tomczak 2014), ``n`` = N.

    Equals R ``kruskal.test(x, g)`` on the expanded data. With two groups
    H equals z^2 of the Mann–Whitney test without continuity correction,
    and the p-values agree. Fewer than two non-empty groups, or all answers
    tied, give NaN with a ``note``.
    """
    tab = _count_table(table, 2, "table")
    sizes = tab.sum(axis=1)
    dropped = int(np.sum(sizes == 0))
    tab = tab[sizes > 0]
    sizes = sizes[sizes > 0]
    k = tab.shape[0]
    n = float(sizes.sum())
    notes = [f"{dropped} empty group(s) dropped"] if dropped else []
    if k < 2:
        notes.append("fewer than two non-empty groups: no test")
        return RankTestResult(float("nan"), float(max(k - 1, 0)), float("nan"),
                              float("nan"), float("nan"), "epsilon-squared", int(n),
                              "; ".join(notes))
    totals = tab.sum(axis=0)
    ranks = _midranks(totals)
    mean_ranks = tab @ ranks / sizes
    h0 = 12.0 / (n * (n + 1.0)) * float(np.sum(sizes * (mean_ranks - (n + 1.0) / 2.0) ** 2))
    tie = 1.0 - _tie_sum(totals) / (n**3 - n)
    df = k - 1
    if tie <= 0:
        notes.append("all answers are tied: no test")
        h = p = eps = float("nan")
    else:
        h = h0 / tie
        p = float(stats.chi2.sf(h, df))
        eps = h * (n + 1.0) / (n**2 - 1.0)
    return RankTestResult(statistic=float(h), df=float(df), p_value=p, z=float("nan"),
                          effect_size=float(eps), effect_measure="epsilon-squared",
                          n=int(n), note="; ".join(notes))


def wilcoxon_signed_rank(
    x: npt.ArrayLike,
    y: npt.ArrayLike | None = None,
    correct: bool = True,
    alpha: float = 0.05,
) -> SignedRankResult:
    """Wilcoxon signed-rank test for paired ratings (normal approximation).

    Parameters
    ----------
    x, y
        Paired ratings of the same respondents (numeric scores), or, with
        ``y=None``, the paired differences themselves. Pairs with a missing
        value are dropped (``n_missing``).
    correct
        Continuity correction of 0.5 toward zero, as R's default.
    alpha
        1 - confidence level of the t-interval for the mean difference.

    Returns
    -------
    :class:`SignedRankResult`. Zero differences are dropped before ranking
    (Wilcoxon's method, R's behaviour, ``n_zero``); the absolute non-zero
    differences get midranks (via their distinct values and counts, so the
    cost is one sort); V = sum of ranks of positive differences;
    z = (V - n (n + 1) / 4 - CORRECTION) / sigma with
    sigma^2 = n (n + 1) (2 n + 1) / 24 - sum(t^3 - t) / 48; two-sided normal
    p. Equals R ``wilcox.test(x, y, paired=TRUE, exact=FALSE,
    correct=correct)``. The mean difference and its interval are those of
    R ``t.test(x, y, paired=TRUE)`` over all complete pairs (zeros kept).
    """
    xv = np.asarray(x, dtype=float).ravel()
    if y is None:
        d = xv
    else:
        yv = np.asarray(y, dtype=float).ravel()
        if yv.shape != xv.shape:
            raise ValueError("x and y must have the same length")
        d = xv - yv
    missing = np.isnan(d)
    n_missing = int(missing.sum())
    d = d[~missing]
    notes = [f"{n_missing} incomplete pair(s) dropped"] if n_missing else []

    n_all = d.size
    if n_all >= 1:
        mean_diff = float(d.mean())
    else:
        mean_diff = float("nan")
    if n_all >= 2:
        sd_diff = float(d.std(ddof=1))
        half = stats.t.ppf(1.0 - alpha / 2.0, n_all - 1) * sd_diff / np.sqrt(n_all)
        ci_low, ci_high = mean_diff - half, mean_diff + half
    else:
        sd_diff = ci_low = ci_high = float("nan")

    zero = d == 0
    n_zero = int(zero.sum())
    if n_zero:
        notes.append(f"{n_zero} zero difference(s) dropped")
    d = d[~zero]
    n = d.size
    if n == 0:
        notes.append("no non-zero differences: no test")
        return SignedRankResult(float("nan"), float("nan"), float("nan"), float("nan"),
                                "matched-pairs rank-biserial", 0, n_zero, n_missing,
                                mean_diff, sd_diff, float(ci_low), float(ci_high),
                                "; ".join(notes))
    values, inverse, counts = np.unique(np.abs(d), return_inverse=True, return_counts=True)
    ranks = _midranks(counts.astype(float))
    positive = d > 0
    v = float(np.bincount(inverse[positive], minlength=values.size) @ ranks)
    total = n * (n + 1.0) / 2.0
    dev = v - total / 2.0
    sigma2 = n * (n + 1.0) * (2.0 * n + 1.0) / 24.0 - _tie_sum(counts) / 48.0
    corr = 0.5 * np.sign(dev) if correct else 0.0
    z = float((dev - corr) / np.sqrt(sigma2)) if sigma2 > 0 else float("nan")
    r = (v - (total - v)) / total
    return SignedRankResult(statistic=v, p_value=_two_sided_normal_p(z), z=z,
                            effect_size=float(r),
                            effect_measure="matched-pairs rank-biserial", n=int(n),
                            n_zero=n_zero, n_missing=n_missing, mean_diff=mean_diff,
                            sd_diff=sd_diff, ci_low=float(ci_low), ci_high=float(ci_high),
                            note="; ".join(notes))
