"""Tests of independence for r x c contingency tables of counts.

Public functions
----------------
chi_square          Pearson X^2, no continuity correction (R ``chisq.test(correct=FALSE)``)
fisher_2x2          Fisher's exact test for 2 x 2 tables (R ``fisher.test``)
monte_carlo_p       simulated p-value with fixed margins (R ``chisq.test(simulate.p.value=TRUE)``)
independence_test   chooses one of the three from the expected counts

All functions drop rows and columns whose total is zero before testing (they
carry no information and would make expected counts zero); ``note`` says so.

References
----------
Pearson, K. (1900). Philosophical Magazine 50, 157–175.
Cramér, H. (1946). Mathematical Methods of Statistics, Princeton, p. 282.
Fisher, R. A. (1935). JRSS 98, 39–82.
Patefield, W. M. (1981). Algorithm AS 159. Applied Statistics 30, 91–97.
Hope, A. C. A. (1968). A simplified Monte Carlo significance test
procedure. JRSS B 30, 582–598.
Cochran, W. G. (1954). Some methods for strengthening the common chi-square
tests. Biometrics 10, 417–451 (expected counts >= 5 rule).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats
from scipy.special import gammaln
from scipy.stats.contingency import odds_ratio as _odds_ratio

#: R's tolerance factors in chisq.test / fisher.test (simulate.p.value=TRUE).
_ALMOST_ONE_BELOW = 1.0 - 64.0 * np.finfo(float).eps
_ALMOST_ONE_ABOVE = 1.0 + 64.0 * np.finfo(float).eps


@dataclass(frozen=True)
class IndependenceResult:
    """Result of a test of independence.

    Fields:
    ``method`` ("chi-square", "fisher-exact" or "monte-carlo");
    ``statistic`` Pearson X^2 of the (reduced) table, reported by every
    method; ``df`` (r - 1)(c - 1) of the reduced table (the reference
    distribution of X^2 only for method "chi-square"); ``p_value``;
    ``effect_size`` Cramér's V = sqrt(X^2 / (n (min(r, c) - 1))) (phi for
    2 x 2), ``effect_measure`` "cramers-v"; ``n`` table total;
    ``min_expected`` smallest expected count under independence;
    ``n_sim`` simulated tables (0 unless Monte Carlo); ``odds_ratio``,
    ``or_ci_low``, ``or_ci_high`` conditional MLE odds ratio and its exact
    CI (Fisher on 2 x 2 only, else NaN); ``note`` what was dropped, which
    test was chosen and why.
    """

    method: str
    statistic: float
    df: float
    p_value: float
    effect_size: float
    effect_measure: str
    n: int
    min_expected: float
    n_sim: int = 0
    odds_ratio: float = float("nan")
    or_ci_low: float = float("nan")
    or_ci_high: float = float("nan")
    note: str = ""


def _reduce(table: npt.ArrayLike) -> tuple[np.ndarray, list[str]]:
    arr = np.asarray(table, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"table must be 2-dimensional, got shape {arr.shape}")
    if np.any(np.isnan(arr)) or np.any(arr < 0):
        raise ValueError("table must hold non-negative counts")
    if np.any(arr != np.round(arr)):
        raise ValueError("table must hold whole numbers (unweighted counts)")
    notes = []
    rows = arr.sum(axis=1) > 0
    cols = arr.sum(axis=0) > 0
    if not rows.all():
        notes.append(f"{int((~rows).sum())} empty row(s) dropped")
    if not cols.all():
        notes.append(f"{int((~cols).sum())} empty column(s) dropped")
    return arr[rows][:, cols], notes


def _expected(tab: np.ndarray) -> np.ndarray:
    return np.outer(tab.sum(axis=1), tab.sum(axis=0)) / tab.sum()


def _pearson(tab: np.ndarray, expected: np.ndarray) -> float:
    # Summed in decreasing order, as R does, for reproducibility.
    terms = ((tab - expected) ** 2 / expected).ravel()
    return float(np.sum(np.sort(terms)[::-1]))


def _cramers_v(x2: float, tab: np.ndarray) -> float:
    k = min(tab.shape) - 1
    return float(np.sqrt(x2 / (tab.sum() * k))) if k > 0 else float("nan")


def _degenerate(method: str, tab: np.ndarray, notes: list[str]) -> IndependenceResult:
    notes = notes + ["fewer than two non-empty rows or columns: no test"]
    return IndependenceResult(method=method, statistic=float("nan"), df=float("nan"),
                              p_value=float("nan"), effect_size=float("nan"),
                              effect_measure="cramers-v", n=int(tab.sum()),
                              min_expected=float("nan"), note="; ".join(notes))


def chi_square(table: npt.ArrayLike) -> IndependenceResult:
    """Pearson chi-square test of independence, without continuity correction.

    Parameters
    ----------
    table
        r x c array of counts (empty rows/columns are dropped).

    Returns
    -------
    :class:`IndependenceResult` with method "chi-square": X^2 =
    sum (O - E)^2 / E, df = (r - 1)(c - 1), p = upper chi-square tail,
    Cramér's V and ``min_expected``. Equals R
    ``chisq.test(table, correct=FALSE)``. ``note`` warns when an expected
    count is below 5 (the approximation may be poor; see
    :func:`independence_test`).
    """
    tab, notes = _reduce(table)
    if min(tab.shape) < 2:
        return _degenerate("chi-square", tab, notes)
    expected = _expected(tab)
    x2 = _pearson(tab, expected)
    df = (tab.shape[0] - 1) * (tab.shape[1] - 1)
    min_e = float(expected.min())
    if min_e < 5:
        notes.append(f"smallest expected count {min_e:.3g} < 5: chi-square approximation may be poor")
    return IndependenceResult(method="chi-square", statistic=x2, df=float(df),
                              p_value=float(stats.chi2.sf(x2, df)),
                              effect_size=_cramers_v(x2, tab), effect_measure="cramers-v",
                              n=int(tab.sum()), min_expected=min_e, note="; ".join(notes))


def fisher_2x2(table: npt.ArrayLike, alpha: float = 0.05, odds_ratio: bool = True) -> IndependenceResult:
    """Fisher's exact test (two-sided) for a 2 x 2 table.

    Parameters
    ----------
    table
        2 x 2 array of counts (after dropping empty rows/columns it must
        still be 2 x 2, otherwise the result is NaN with a note).
    alpha
        1 - confidence level of the odds-ratio interval.
    odds_ratio
        False leaves ``odds_ratio`` and its interval NaN (they cost far more
        than the test).

    Returns
    -------
    :class:`IndependenceResult` with method "fisher-exact": ``p_value``
    from ``scipy.stats.fisher_exact`` (sum of the probabilities of all
    tables with the same margins that are no more likely than the observed
    one, with R's relative tolerance 1e-7), ``odds_ratio`` the conditional
    maximum-likelihood estimate with its exact CI
    (``scipy.stats.contingency.odds_ratio(kind="conditional")``). Both
    equal R ``fisher.test(table)`` (p.value, estimate, conf.int).
    ``statistic``/``effect_size`` are X^2 and phi, for description only.
    """
    tab, notes = _reduce(table)
    if tab.shape != (2, 2):
        if min(tab.shape) < 2:
            return _degenerate("fisher-exact", tab, notes)
        raise ValueError(f"fisher_2x2 needs a 2 x 2 table, got {tab.shape}")
    expected = _expected(tab)
    x2 = _pearson(tab, expected)
    itab = tab.astype(np.int64)
    p = float(stats.fisher_exact(itab, alternative="two-sided").pvalue)
    result = IndependenceResult(method="fisher-exact", statistic=x2, df=1.0, p_value=p,
                                effect_size=_cramers_v(x2, tab), effect_measure="cramers-v",
                                n=int(tab.sum()), min_expected=float(expected.min()), note="; ".join(notes))
    if not odds_ratio:
        return result
    orr = _odds_ratio(itab, kind="conditional")
    ci = orr.confidence_interval(confidence_level=1.0 - alpha, alternative="two-sided")
    return replace(result, odds_ratio=float(orr.statistic), or_ci_low=float(ci.low), or_ci_high=float(ci.high))


def _simulated_statistics(rows: tuple[int, ...], cols: tuple[int, ...], n_sim: int,
                          rng: np.random.Generator, statistic: str) -> np.ndarray:
    """Pearson X^2 (``statistic`` "chi-square") or -sum log(x_ij!) of ``n_sim`` tables drawn from ``rng``
    with the given row and column totals (all positive)."""
    sims = stats.random_table(np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)).rvs(
        size=n_sim, random_state=rng)
    sims = sims.reshape(n_sim, len(rows), len(cols)).astype(float)
    if statistic == "chi-square":
        row_totals, col_totals = np.array(rows, dtype=float), np.array(cols, dtype=float)
        expected = np.outer(row_totals, col_totals) / row_totals.sum()
        return np.sum((sims - expected) ** 2 / expected, axis=(1, 2))
    return -np.sum(gammaln(sims + 1.0), axis=(1, 2))


@lru_cache(maxsize=256)
def _cached_statistics(rows: tuple[int, ...], cols: tuple[int, ...], n_sim: int, seed: int,
                       statistic: str) -> np.ndarray:
    """`_simulated_statistics` from the generator seeded with ``seed``, read-only and kept: tables with the
    same margins and seed draw the same simulated tables, so their tests share one simulation."""
    values = _simulated_statistics(rows, cols, n_sim, np.random.default_rng(seed), statistic)
    values.flags.writeable = False
    return values


def monte_carlo_p(
    table: npt.ArrayLike,
    n_sim: int = 10000,
    seed: int | np.random.Generator | None = None,
    statistic: Literal["chi-square", "probability"] = "chi-square",
) -> IndependenceResult:
    """Monte Carlo p-value of independence with both margins fixed.

    ``n_sim`` tables are drawn at once from the null distribution with the
    observed margins (multiple hypergeometric; ``scipy.stats.random_table``,
    Patefield's or Boyett's algorithm), exactly the null used by R.

    Parameters
    ----------
    table
        r x c array of counts (empty rows/columns are dropped).
    n_sim
        Number of simulated tables B.
    seed
        Seed or ``numpy.random.Generator``: the same seed gives the same p.
    statistic
        ``"chi-square"`` orders tables by Pearson X^2, as R
        ``chisq.test(table, simulate.p.value=TRUE, B=n_sim)``:
        p = (1 + #{X^2_sim >= (1 - 64 eps) X^2_obs}) / (B + 1).
        ``"probability"`` orders them by their null probability, as R
        ``fisher.test(table, simulate.p.value=TRUE, B=n_sim)``; its target
        is Fisher's exact r x c p-value:
        p = (1 + #{S_sim <= S_obs / (1 + 64 eps)}) / (B + 1) with
        S = -sum log(x_ij!).

    Returns
    -------
    :class:`IndependenceResult` with method "monte-carlo", ``statistic``
    the observed X^2, ``p_value`` the simulated p (never 0; its Monte Carlo
    standard error is about sqrt(p (1 - p) / B)), ``n_sim`` = B.
    """
    if n_sim < 1:
        raise ValueError("n_sim must be positive")
    if statistic not in ("chi-square", "probability"):
        raise ValueError("statistic must be 'chi-square' or 'probability'")
    tab, notes = _reduce(table)
    if min(tab.shape) < 2:
        return _degenerate("monte-carlo", tab, notes)
    expected = _expected(tab)
    x2 = _pearson(tab, expected)
    margins = (tuple(tab.sum(axis=1).astype(np.int64).tolist()), tuple(tab.sum(axis=0).astype(np.int64).tolist()))
    if isinstance(seed, (int, np.integer)):
        sim_stat = _cached_statistics(*margins, n_sim, int(seed), statistic)
    else:
        sim_stat = _simulated_statistics(*margins, n_sim, np.random.default_rng(seed), statistic)
    if statistic == "chi-square":
        hits = int(np.sum(sim_stat >= _ALMOST_ONE_BELOW * x2))
        what = "Pearson X^2"
    else:
        obs_stat = -float(np.sum(gammaln(tab + 1.0)))
        hits = int(np.sum(sim_stat <= obs_stat / _ALMOST_ONE_ABOVE))
        what = "table probability"
    p = (1.0 + hits) / (n_sim + 1.0)
    notes.append(f"p simulated from {n_sim} tables with fixed margins, ordered by {what}")
    df = (tab.shape[0] - 1) * (tab.shape[1] - 1)
    return IndependenceResult(method="monte-carlo", statistic=x2, df=float(df), p_value=p,
                              effect_size=_cramers_v(x2, tab), effect_measure="cramers-v",
                              n=int(tab.sum()), min_expected=float(expected.min()),
                              n_sim=int(n_sim), note="; ".join(notes))


def independence_test(
    table: npt.ArrayLike,
    seed: int | np.random.Generator | None = None,
    n_sim: int = 10000,
    min_expected: float = 5.0,
    odds_ratio: bool = True,
) -> IndependenceResult:
    """Test of independence, choosing the method from the expected counts.

    Rule (Cochran 1954): after dropping empty rows/columns,
    every expected count >= ``min_expected`` -> :func:`chi_square`;
    otherwise a 2 x 2 table -> :func:`fisher_2x2` (with its odds ratio unless
    ``odds_ratio`` is False);
    otherwise -> :func:`monte_carlo_p` (X^2 ordering, ``n_sim`` tables,
    ``seed``).

    Returns
    -------
    The chosen test's :class:`IndependenceResult`; ``method`` names the
    test and ``note`` starts with the reason it was chosen.
    """
    tab, _ = _reduce(table)
    if min(tab.shape) < 2:
        return chi_square(table)
    e_min = float(_expected(tab).min())
    if e_min >= min_expected:
        res = chi_square(table)
        why = f"all expected counts >= {min_expected:g}: Pearson chi-square"
    elif tab.shape == (2, 2):
        res = fisher_2x2(table, odds_ratio=odds_ratio)
        why = f"2 x 2 table with an expected count {e_min:.3g} < {min_expected:g}: Fisher's exact test"
    else:
        res = monte_carlo_p(table, n_sim=n_sim, seed=seed)
        why = (f"{tab.shape[0]} x {tab.shape[1]} table with an expected count {e_min:.3g} < "
               f"{min_expected:g}: Monte Carlo p-value")
    note = "; ".join(filter(None, [why, res.note]))
    return replace(res, note=note)
