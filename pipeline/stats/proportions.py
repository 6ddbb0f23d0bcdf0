"""Difference between two independent proportions.

Public function
---------------
two_proportions   difference a - b in percentage points, Newcombe's hybrid
                  score interval, pooled two-proportion z-test

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between
independent proportions: comparison of eleven methods. Statistics in
Medicine 17, 873–890 (method 10, Table II).
Wilson, E. B. (1927). JASA 22, 209–212.
Agresti, A. (2013). Categorical Data Analysis, 3rd ed., §3.1 (pooled z-test).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep


@dataclass(frozen=True)
class TwoProportionsResult:
    """Comparison of two independent proportions.

    Fields: ``pct_a``, ``pct_b`` (shares in percent); ``difference``
    (pct_a - pct_b, percentage points); ``ci_low``, ``ci_high`` (Newcombe
    hybrid score interval, percentage points); ``ci_method``
    ("newcombe-hybrid-score"); ``z`` (pooled z statistic, positive when
    a > b); ``statistic`` (X^2 = z^2, as R ``prop.test(correct=FALSE)``);
    ``df`` (1); ``p_value`` (two-sided); ``n`` (n_a + n_b); ``note``.
    """

    pct_a: float
    pct_b: float
    difference: float
    ci_low: float
    ci_high: float
    ci_method: str
    z: float
    statistic: float
    df: float
    p_value: float
    n: int
    note: str = ""


def _check(count: float, n: float, what: str) -> None:
    if n < 0 or count < 0 or count > n:
        raise ValueError(f"{what}: need 0 <= count <= n, got {count}/{n}")
    if count != round(count) or n != round(n):
        raise ValueError(f"{what}: counts must be whole numbers (unweighted)")


def two_proportions(
    count_a: int,
    n_a: int,
    count_b: int,
    n_b: int,
    alpha: float = 0.05,
) -> TwoProportionsResult:
    """Compare the share of group a with the share of group b.

    Parameters
    ----------
    count_a, n_a, count_b, n_b
        Respondents with the answer of interest and group sizes.
    alpha
        1 - confidence level of the interval.

    Returns
    -------
    :class:`TwoProportionsResult`.

    Method
    ------
    * Interval: Newcombe's (1998) method 10, the hybrid score interval built
      from the two Wilson intervals (l_i, u_i):
      L = d - sqrt((p_a - l_a)^2 + (u_b - p_b)^2),
      U = d + sqrt((u_a - p_a)^2 + (p_b - l_b)^2),
      computed by statsmodels ``confint_proportions_2indep(method="newcomb",
      compare="diff")``. Reproduces Newcombe's Table II, e.g. 56/70 vs 48/80:
      d = 0.2000, (0.0524, 0.3339).
    * Test: pooled z = (p_a - p_b) / sqrt(p (1 - p) (1/n_a + 1/n_b)),
      p = (count_a + count_b) / (n_a + n_b), two-sided normal p-value; equals
      R ``prop.test(c(count_a, count_b), c(n_a, n_b), correct=FALSE)``
      (whose X-squared is z^2).

    An empty group gives NaN everywhere; when both groups are all-yes or
    all-no the interval is defined but z and p are NaN (no variation).
    """
    for c, n, what in ((count_a, n_a, "group a"), (count_b, n_b, "group b")):
        _check(c, n, what)
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be in (0, 1)")
    n_total = int(n_a + n_b)
    nan = float("nan")
    if n_a == 0 or n_b == 0:
        return TwoProportionsResult(nan, nan, nan, nan, nan, "newcombe-hybrid-score", nan,
                                    nan, 1.0, nan, n_total, "a group has no respondents")
    p_a, p_b = count_a / n_a, count_b / n_b
    low, high = confint_proportions_2indep(count_a, n_a, count_b, n_b, method="newcomb",
                                           compare="diff", alpha=alpha)
    pooled = (count_a + count_b) / n_total
    var = pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b)
    note = ""
    if var > 0:
        z = (p_a - p_b) / np.sqrt(var)
        p = float(2.0 * stats.norm.sf(abs(z)))
    else:
        z = p = nan
        note = "no variation (all answers the same in both groups): no test"
    return TwoProportionsResult(
        pct_a=100.0 * p_a, pct_b=100.0 * p_b, difference=100.0 * (p_a - p_b),
        ci_low=100.0 * float(low), ci_high=100.0 * float(high),
        ci_method="newcombe-hybrid-score", z=float(z), statistic=float(z * z), df=1.0,
        p_value=p, n=n_total, note=note,
    )
