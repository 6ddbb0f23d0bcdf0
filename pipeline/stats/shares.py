"""Shares of answer levels, binomial confidence intervals and means.

Everything here is unweighted and works on *counts* (how many respondents gave
each answer), so a million respondents cost no more than a dozen.

Public functions
----------------
proportion_ci      vectorised binomial CI (Wilson, Clopper–Pearson, Agresti–Coull)
level_shares       per group x level: n, count, pct and CI (in percent)
mean_ci            mean, SD and t-interval of a score, from raw values or counts
bootstrap_mean_ci  percentile bootstrap CI of the mean, by multinomial resampling

References
----------
Wilson, E. B. (1927). JASA 22, 209–212.
Clopper, C. J. and Pearson, E. S. (1934). Biometrika 26, 404–413.
Agresti, A. and Coull, B. A. (1998). The American Statistician 52, 119–126.
Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Statistical Science 16, 101–133.
Efron, B. and Tibshirani, R. (1993). An Introduction to the Bootstrap, ch. 13.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

#: Our method names -> statsmodels ``proportion_confint`` method names.
_CI_METHODS: dict[str, str] = {
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "agresti-coull": "agresti_coull",
}


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")


def _as_counts(values: npt.ArrayLike, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if np.any(np.isnan(arr)):
        raise ValueError(f"{what} must not contain NaN")
    if np.any(arr < 0):
        raise ValueError(f"{what} must be non-negative")
    if np.any(arr != np.round(arr)):
        raise ValueError(f"{what} must be whole numbers (unweighted counts)")
    return arr


def _wilson(count: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score bounds with the same floating-point steps as statsmodels ``proportion_confint(method=
    "wilson")`` (so the digits agree), without its per-call overhead; n > 0."""
    share = count / n
    crit = -special.ndtri(alpha / 2.0)
    crit2 = crit**2
    denom = 1 + crit2 / n
    center = (share + crit2 / (2 * n)) / denom
    dist = crit * np.sqrt(share * (1.0 - share) / n + crit2 / (4.0 * n**2))
    dist /= denom
    return np.clip(center - dist, 0, 1), np.clip(center + dist, 0, 1)


def _statsmodels_interval(method: str):
    """statsmodels ``proportion_confint`` with `method`, as a function of (count, n, alpha)."""
    from statsmodels.stats.proportion import proportion_confint

    return lambda count, n, alpha: proportion_confint(count, n, alpha=alpha, method=method)


def proportion_ci(
    count: npt.ArrayLike,
    n: npt.ArrayLike,
    method: str = "wilson",
    alpha: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided (1 - alpha) confidence interval for a binomial proportion.

    Parameters
    ----------
    count, n
        Successes and trials; broadcastable arrays (or scalars) of whole
        numbers with 0 <= count <= n.
    method
        ``"wilson"`` (score interval without continuity correction; equals
        R ``prop.test(count, n, correct=FALSE)$conf.int``),
        ``"clopper-pearson"`` (exact, equals R ``binom.test``) or
        ``"agresti-coull"`` (adjusted Wald with z^2/2 pseudo-successes,
        clipped to [0, 1]).  Computed as statsmodels
        ``proportion_confint`` (methods "wilson", "beta", "agresti_coull");
        Wilson with the same arithmetic here, the others by statsmodels.
    alpha
        1 - confidence level.

    Returns
    -------
    (low, high)
        Float ndarrays of the broadcast shape, as proportions in [0, 1].
        Where ``n == 0`` both bounds are NaN.
    """
    if method not in _CI_METHODS:
        raise ValueError(f"unknown CI method {method!r}; use one of {sorted(_CI_METHODS)}")
    _check_alpha(alpha)
    c = _as_counts(count, "count")
    nn = _as_counts(n, "n")
    c, nn = np.broadcast_arrays(c, nn)
    if np.any(c > nn):
        raise ValueError("count must not exceed n")
    low = np.full(c.shape, np.nan)
    high = np.full(c.shape, np.nan)
    ok = nn > 0
    if np.any(ok):
        interval = _wilson if method == "wilson" else _statsmodels_interval(_CI_METHODS[method])
        lo, hi = interval(c[ok], nn[ok], alpha)
        low[ok] = np.clip(lo, 0.0, 1.0)
        high[ok] = np.clip(hi, 0.0, 1.0)
        # The exact interval is closed at the boundary: guard rounding.
        low[ok & (c == 0)] = 0.0
        high[ok & (c == nn)] = 1.0
    return low, high


def level_shares(
    counts: pd.DataFrame,
    levels: Sequence[object] | None = None,
    method: str = "wilson",
    alpha: float = 0.05,
    *,
    group_col: str = "group",
    level_col: str = "level",
    count_col: str = "count",
) -> pd.DataFrame:
    """Share of each answer level within each group, with a binomial CI.

    Parameters
    ----------
    counts
        Long frame with one row per (group, level) and the number of
        respondents in ``count_col``. Duplicate (group, level) rows are
        summed; missing combinations count as 0. Rows whose level is NaN are
        ignored (non-substantive answers should be removed or recoded before).
    levels
        Order of the levels. Default: the categories of ``level_col`` if it
        is categorical (all categories, observed or not), else the sorted
        distinct levels. A level present in the data but absent from
        ``levels`` raises ``ValueError``.
    method, alpha
        CI method and 1 - confidence level, see :func:`proportion_ci`.

    Returns
    -------
    DataFrame with columns ``group, level, n, count, pct, ci_low, ci_high,
    ci_method`` and one row per group x level (complete grid).
    ``n`` is the group total, ``pct = 100 * count / n`` (so pct sums to 100
    within a group), ``ci_low/ci_high`` are in percent (0–100). Groups are
    ordered by their categories if ``group_col`` is categorical (observed
    groups only), else sorted; a group with n == 0 gets NaN pct and CI.
    ``level`` is an ordered categorical in the level order. The result does
    not depend on the row order of ``counts``.
    """
    for col in (group_col, level_col, count_col):
        if col not in counts.columns:
            raise KeyError(f"counts has no column {col!r}")
    frame = counts.loc[counts[level_col].notna(), [group_col, level_col, count_col]]
    cnt = _as_counts(frame[count_col].to_numpy(), "count")

    lev_series = frame[level_col]
    if levels is None:
        if isinstance(lev_series.dtype, pd.CategoricalDtype):
            level_order = list(lev_series.cat.categories)
        else:
            level_order = sorted(pd.unique(lev_series))
    else:
        level_order = list(levels)
        if len(set(level_order)) != len(level_order):
            raise ValueError("levels must be distinct")
    unknown = set(pd.unique(lev_series.astype(object))) - set(level_order)
    if unknown:
        raise ValueError(f"levels {sorted(map(str, unknown))} are not in the level order")

    grp_series = frame[group_col]
    if isinstance(grp_series.dtype, pd.CategoricalDtype):
        present = set(pd.unique(grp_series.dropna().astype(object)))
        group_order = [g for g in grp_series.cat.categories if g in present]
    else:
        group_order = sorted(pd.unique(grp_series.dropna()))

    g_idx = pd.Index(group_order).get_indexer(grp_series.astype(object))
    l_idx = pd.Index(level_order).get_indexer(lev_series.astype(object))
    keep = g_idx >= 0
    table = np.zeros((len(group_order), len(level_order)))
    np.add.at(table, (g_idx[keep], l_idx[keep]), cnt[keep])

    n = table.sum(axis=1, keepdims=True) * np.ones_like(table)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(n > 0, 100.0 * table / np.where(n > 0, n, 1.0), np.nan)
    low, high = proportion_ci(table, n, method=method, alpha=alpha)

    k, ell = table.shape
    out = pd.DataFrame(
        {
            group_col: np.repeat(np.asarray(group_order, dtype=object), ell),
            level_col: pd.Categorical(
                np.tile(np.asarray(level_order, dtype=object), k),
                categories=level_order,
                ordered=True,
            ),
            "n": n.ravel().astype(np.int64),
            "count": table.ravel().astype(np.int64),
            "pct": pct.ravel(),
            "ci_low": 100.0 * low.ravel(),
            "ci_high": 100.0 * high.ravel(),
            "ci_method": method,
        }
    )
    if isinstance(grp_series.dtype, pd.CategoricalDtype):
        out[group_col] = pd.Categorical(
            out[group_col], categories=grp_series.cat.categories,
            ordered=grp_series.cat.ordered,
        )
    return out


@dataclass(frozen=True)
class MeanCI:
    """Mean of a score with its confidence interval.

    Fields: ``n`` (respondents used), ``mean``, ``sd`` (sample SD, divisor
    n - 1), ``ci_low``, ``ci_high``, ``ci_method`` ("t" or
    "bootstrap-percentile"), ``note`` (empty unless something was excluded
    or undefined).
    """

    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float
    ci_method: str
    note: str = ""


def _weighted_moments(scores: np.ndarray, counts: np.ndarray) -> tuple[int, float, float]:
    n = float(counts.sum())
    if n == 0:
        return 0, float("nan"), float("nan")
    mean = float(np.dot(counts, scores) / n)
    if n < 2:
        return int(n), mean, float("nan")
    var = float(np.dot(counts, (scores - mean) ** 2) / (n - 1.0))
    return int(n), mean, float(np.sqrt(var))


def _scores_and_counts(
    scores: npt.ArrayLike, counts: npt.ArrayLike | None
) -> tuple[np.ndarray, np.ndarray, str]:
    s = np.asarray(scores, dtype=float).ravel()
    note = ""
    if counts is None:
        missing = np.isnan(s)
        if missing.any():
            note = f"{int(missing.sum())} missing value(s) excluded"
        s = s[~missing]
        c = np.ones_like(s)
    else:
        c = _as_counts(np.asarray(counts).ravel(), "counts")
        if c.shape != s.shape:
            raise ValueError("scores and counts must have the same length")
        missing = np.isnan(s)
        if np.any(c[missing] > 0):
            note = f"{int(c[missing].sum())} respondent(s) with a non-scored level excluded"
        s, c = s[~missing], c[~missing]
    return s, c, note


def mean_ci(
    scores: npt.ArrayLike,
    counts: npt.ArrayLike | None = None,
    alpha: float = 0.05,
) -> MeanCI:
    """Mean, SD and Student-t confidence interval of a score.

    Parameters
    ----------
    scores
        Either one value per respondent (``counts=None``; NaN values are
        excluded), or the score of each answer level (then ``counts`` gives
        how many respondents chose each level; levels whose score is NaN,
        e.g. "don't know", are excluded).
    counts
        Respondents per level (whole numbers), same length as ``scores``.
    alpha
        1 - confidence level.

    Returns
    -------
    :class:`MeanCI` with n, mean, sd (n - 1 divisor) and the interval
    mean ± t_{1-alpha/2, n-1} · sd / sqrt(n) (as R ``t.test(x)$conf.int``),
    ci_method "t". NaN mean for n == 0; NaN sd and CI for n < 2.
    """
    _check_alpha(alpha)
    s, c, note = _scores_and_counts(scores, counts)
    n, mean, sd = _weighted_moments(s, c)
    if n >= 2:
        half = special.stdtrit(n - 1, 1.0 - alpha / 2.0) * sd / np.sqrt(n)
        low, high = mean - half, mean + half
    else:
        low = high = float("nan")
        note = "; ".join(filter(None, [note, "fewer than 2 respondents: no interval"]))
    return MeanCI(n=n, mean=mean, sd=sd, ci_low=float(low), ci_high=float(high),
                  ci_method="t", note=note)


def bootstrap_mean_ci(
    scores: npt.ArrayLike,
    counts: npt.ArrayLike,
    n_boot: int = 2000,
    seed: int | np.random.Generator | None = None,
    alpha: float = 0.05,
) -> MeanCI:
    """Percentile bootstrap interval for the mean score, from level counts.

    Resampling n respondents with replacement is the same as drawing the
    level counts from Multinomial(n, observed shares); all ``n_boot``
    replicates are drawn at once with ``rng.multinomial(n, p, size=n_boot)``.

    Parameters
    ----------
    scores, counts
        Score and number of respondents of each level (NaN-scored levels
        are excluded).
    n_boot
        Number of bootstrap replicates.
    seed
        Seed or ``numpy.random.Generator``; the same seed gives the same
        interval.
    alpha
        1 - confidence level; the interval is the (alpha/2, 1 - alpha/2)
        quantiles (numpy "linear", = R ``quantile`` type 7) of the
        replicate means.

    Returns
    -------
    :class:`MeanCI` with n, mean and sd of the observed data and
    ci_method "bootstrap-percentile". NaN interval for n == 0.
    """
    _check_alpha(alpha)
    if n_boot < 1:
        raise ValueError("n_boot must be positive")
    s, c, note = _scores_and_counts(scores, counts)
    n, mean, sd = _weighted_moments(s, c)
    if n == 0:
        return MeanCI(0, float("nan"), float("nan"), float("nan"), float("nan"),
                      "bootstrap-percentile", "no respondents")
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, c / c.sum(), size=n_boot)
    boot_means = draws @ s / n
    low, high = np.quantile(boot_means, [alpha / 2.0, 1.0 - alpha / 2.0])
    return MeanCI(n=n, mean=mean, sd=sd, ci_low=float(low), ci_high=float(high),
                  ci_method="bootstrap-percentile", note=note)
