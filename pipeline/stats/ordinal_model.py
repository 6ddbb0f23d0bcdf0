"""Proportional-odds (cumulative logit) regression on categorical terms.

Public function
---------------
proportional_odds   fit logit P(Y <= j | x) = theta_j - x'beta with
                    statsmodels ``OrderedModel(distr="logit")``; odds ratios,
                    Wald CIs and p-values per term level, thresholds, model
                    log-likelihood, and a likelihood-ratio test of the
                    proportional-odds assumption for each term.

Speed: respondents with the same answer and the same covariate pattern are
collapsed into one row with a count before fitting, so a million respondents
described by a few categorical terms fit as fast as a few hundred rows.
``OrderedModel`` has no weights argument; the collapsed rows enter its
likelihood as frequency weights (exactly equivalent to repeating each row
``count`` times) through a small subclass that also supplies the analytic
gradient and Hessian, so the optimum and the standard errors are exact to
rounding rather than to finite-difference accuracy.

References
----------
McCullagh, P. (1980). Regression models for ordinal data. JRSS B 42, 109–142.
Agresti, A. (2010). Analysis of Ordinal Categorical Data, 2nd ed., ch. 3.
Peterson, B. and Harrell, F. E. (1990). Partial proportional odds models for
ordinal response variables. Applied Statistics 39, 205–217.
Christensen, R. H. B. (2019). ordinal: regression models for ordinal data,
R package, ``nominal_test`` (likelihood-ratio test of the PO assumption).
Venables, W. N. and Ripley, B. D. (2002). MASS, 4th ed., §7.3 (``polr``;
Copenhagen housing example).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit
from statsmodels.miscmodels.ordinal_model import OrderedModel

from pipeline.stats.codes import level_codes


# ---------------------------------------------------------------------------
# Likelihood of a cumulative logit model with optional threshold-specific
# ("nominal") effects, in the raw parameterisation (beta, theta, gamma).
#   logit P(Y <= j | x, z) = theta_j - x'beta - z'gamma_j,  j = 0 .. J-2
# ---------------------------------------------------------------------------


def _cut_designs(
    x: np.ndarray, z: np.ndarray | None, y: np.ndarray, n_levels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Derivative of the upper/lower linear predictors w.r.t. the parameters.

    Returns (D_up, D_low, has_up, has_low); parameter order is
    beta (p), theta (J-1), gamma_0 (q), ..., gamma_{J-2} (q).
    """
    m, p = x.shape
    q = 0 if z is None else z.shape[1]
    k_cut = n_levels - 1
    n_par = p + k_cut + q * k_cut
    rows = np.arange(m)
    has_up = y <= k_cut - 1
    has_low = y >= 1
    d_up = np.zeros((m, n_par))
    d_low = np.zeros((m, n_par))
    d_up[:, :p] = -x
    d_low[:, :p] = -x
    up_cut = np.where(has_up, y, 0)
    low_cut = np.where(has_low, y - 1, 0)
    d_up[rows, p + up_cut] = 1.0
    d_low[rows, p + low_cut] = 1.0
    if q:
        base = p + k_cut
        cols = np.arange(q)
        d_up[rows[:, None], base + up_cut[:, None] * q + cols] = -z
        d_low[rows[:, None], base + low_cut[:, None] * q + cols] = -z
    d_up[~has_up] = 0.0
    d_low[~has_low] = 0.0
    return d_up, d_low, has_up, has_low


def _loglik_derivatives(
    params: np.ndarray,
    d_up: np.ndarray,
    d_low: np.ndarray,
    has_up: np.ndarray,
    has_low: np.ndarray,
    w: np.ndarray,
    derivatives: bool = True,
) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """Log-likelihood, gradient and Hessian in the raw parameterisation."""
    a = np.where(has_up, d_up @ params, np.inf)
    b = np.where(has_low, d_low @ params, -np.inf)
    # P = F(a) - F(b), computed on the side that avoids cancellation.
    prob = np.where(b > 0, expit(-b) - expit(-a), expit(a) - expit(b))
    if np.any(prob <= 0):
        return -np.inf, None, None
    ll = float(w @ np.log(prob))
    if not derivatives:
        return ll, None, None
    fa_cdf, fb_cdf = expit(a), expit(b)
    f_a = np.where(has_up, fa_cdf * (1.0 - fa_cdf), 0.0)
    f_b = np.where(has_low, fb_cdf * (1.0 - fb_cdf), 0.0)
    fp_a = f_a * (1.0 - 2.0 * fa_cdf)
    fp_b = f_b * (1.0 - 2.0 * fb_cdf)
    l_a = f_a / prob
    l_b = -f_b / prob
    l_aa = fp_a / prob - l_a**2
    l_bb = -fp_b / prob - l_b**2
    l_ab = -l_a * l_b
    grad = d_up.T @ (w * l_a) + d_low.T @ (w * l_b)
    cross = d_up.T @ ((w * l_ab)[:, None] * d_low)
    hess = (d_up.T @ ((w * l_aa)[:, None] * d_up) + d_low.T @ ((w * l_bb)[:, None] * d_low)
            + cross + cross.T)
    return ll, grad, hess


def _newton_maximise(
    start: np.ndarray,
    designs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    w: np.ndarray,
    maxiter: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, float, np.ndarray, bool]:
    """Damped Newton–Raphson; the log-likelihood is concave where defined."""
    params = start.astype(float).copy()
    ll, grad, hess = _loglik_derivatives(params, *designs, w)
    if not np.isfinite(ll):
        raise ValueError("start values give a zero-probability observation")
    converged = False
    for _ in range(maxiter):
        try:
            step = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        for _ in range(60):
            new = params + t * step
            new_ll, _, _ = _loglik_derivatives(new, *designs, w, derivatives=False)
            if np.isfinite(new_ll) and new_ll >= ll - 1e-12 * abs(ll):
                break
            t /= 2.0
        else:
            break
        params = new
        ll, grad, hess = _loglik_derivatives(params, *designs, w)
        if np.max(np.abs(t * step)) < tol and np.max(np.abs(grad)) < 1e-6 * max(1.0, abs(ll)):
            converged = True
            break
    return params, ll, hess, converged


class _CountWeightedOrderedModel(OrderedModel):
    """``OrderedModel(distr="logit")`` whose rows carry respondent counts.

    The log-likelihood is sum_i count_i * log P(y_i | x_i), identical to the
    unweighted likelihood of the expanded data. Score and Hessian are
    analytic (chain rule through OrderedModel's threshold parameterisation
    theta_0 = c_0, theta_j = theta_{j-1} + exp(c_j)).
    """

    def __init__(self, endog: np.ndarray, exog: pd.DataFrame, counts: np.ndarray) -> None:
        super().__init__(endog, exog, distr="logit")
        self.counts = np.asarray(counts, dtype=float)
        k_levels = self.k_levels
        self._designs = _cut_designs(np.asarray(self.exog, float), None,
                                     np.asarray(self.endog, int), k_levels)

    def _raw(self, params: np.ndarray) -> np.ndarray:
        thresholds = self.transform_threshold_params(params)[1:-1]
        return np.concatenate([params[: self.k_vars], thresholds])

    def _jacobian(self, params: np.ndarray) -> np.ndarray:
        """d(beta, theta) / d(beta, c)."""
        p, k_cut = self.k_vars, self.k_levels - 1
        jac = np.eye(p + k_cut)
        c = params[p:]
        block = np.zeros((k_cut, k_cut))
        block[:, 0] = 1.0
        for k in range(1, k_cut):
            block[k:, k] = np.exp(c[k])
        jac[p:, p:] = block
        return jac

    def loglike(self, params: np.ndarray) -> float:
        ll, _, _ = _loglik_derivatives(self._raw(params), *self._designs, self.counts,
                                       derivatives=False)
        return ll

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        # Per-row contribution count_i * log P_i (rows are covariate patterns).
        low, upp = self._bounds(params)
        return self.counts * np.log(self.prob(low, upp))

    def score(self, params: np.ndarray) -> np.ndarray:
        _, grad, _ = _loglik_derivatives(self._raw(params), *self._designs, self.counts)
        return self._jacobian(params).T @ grad

    def hessian(self, params: np.ndarray) -> np.ndarray:
        _, grad, hess = _loglik_derivatives(self._raw(params), *self._designs, self.counts)
        jac = self._jacobian(params)
        out = jac.T @ hess @ jac
        p, k_cut = self.k_vars, self.k_levels - 1
        c = params[p:]
        g_theta = grad[p:]
        for k in range(1, k_cut):
            out[p + k, p + k] += np.exp(c[k]) * g_theta[k:].sum()
        return out

    @property
    def start_params(self) -> np.ndarray:
        freq = np.bincount(self.endog, weights=self.counts, minlength=self.k_levels)
        cum = np.cumsum(freq)[:-1] / freq.sum()
        thresholds = stats.logistic.ppf(cum)
        return np.concatenate([np.zeros(self.k_vars),
                               self.transform_reverse_threshold_params(thresholds)])

    def transform_reverse_threshold_params(self, params: np.ndarray) -> np.ndarray:
        th = np.asarray(params, dtype=float)
        th = th[np.isfinite(th)]
        return np.concatenate([th[:1], np.log(np.diff(th))])


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ProportionalOddsResult:
    """Fitted proportional-odds model.

    Fields
    ------
    coefficients : DataFrame
        One row per non-reference level of each term: ``term, level,
        reference, estimate`` (log cumulative odds ratio beta),
        ``std_error, z, p_value`` (Wald), ``odds_ratio`` = exp(beta),
        ``ci_low, ci_high`` (Wald interval, exponentiated). An odds ratio
        above 1 means the level tends to *higher* outcome levels than the
        reference (R ``MASS::polr`` / ``ordinal::clm`` convention).
    thresholds : DataFrame
        ``threshold`` ("low|high" level names), ``estimate`` (theta_j),
        ``std_error``.
    po_tests : DataFrame
        One row per term: ``term, statistic`` (likelihood-ratio chi-square),
        ``df, p_value, log_likelihood_nominal, converged, method``.
    n : int
        Respondents used. ``n_excluded``: rows dropped for a missing value.
    converged : bool
        Optimiser success and a gradient that is numerically zero.
    log_likelihood, aic : float
    note : str
    covariance : ndarray
        Covariance of (beta in ``coefficients`` row order, then thresholds),
        the inverse of the analytic observed information.
    """

    coefficients: pd.DataFrame
    thresholds: pd.DataFrame
    po_tests: pd.DataFrame
    n: int
    n_excluded: int
    converged: bool
    log_likelihood: float
    aic: float
    note: str = ""
    covariance: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]


def _codes(series: pd.Series, levels: Sequence[object]) -> np.ndarray:
    """Integer position of each value in ``levels`` (-1 if absent); only distinct values are looked up."""
    return level_codes(series, levels)


def _collapse(codes: list[np.ndarray], sizes: list[int],
              weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of the code matrix and the summed weight of each.

    Codes are combined into one mixed-radix integer key, so this is a bincount
    (or a 1-d unique) instead of a row-wise sort.
    """
    key = np.zeros(codes[0].shape[0], dtype=np.int64)
    radix = 1
    for code, size in zip(codes, sizes):
        key += code * radix
        radix *= size
    if radix <= 10_000_000:
        totals = np.bincount(key, weights=weights, minlength=radix)
        keys = np.flatnonzero(totals > 0)
        totals = totals[keys]
    else:
        keys, inverse = np.unique(key, return_inverse=True)
        totals = np.bincount(inverse.ravel(), weights=weights, minlength=keys.size)
    decoded = []
    for size in sizes:
        decoded.append(keys % size)
        keys = keys // size
    return np.column_stack(decoded), totals


def _levels_of(series: pd.Series, given: Sequence[object] | None = None) -> list[object]:
    if given is not None:
        return list(given)
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return sorted(pd.unique(series.dropna()))


def proportional_odds(
    data: pd.DataFrame,
    outcome: str,
    terms: Sequence[str],
    reference: Mapping[str, object] | None = None,
    outcome_levels: Sequence[object] | None = None,
    count: str | None = None,
    alpha: float = 0.05,
    po_test: bool = True,
    maxiter: int = 200,
) -> ProportionalOddsResult:
    """Fit a proportional-odds (cumulative logit) model on categorical terms.

    Parameters
    ----------
    data
        One row per respondent, or per (pattern, outcome) with a ``count``
        column giving how many respondents the row stands for.
    outcome
        Ordered outcome column. Level order: ``outcome_levels``, else its
        categories if categorical, else sorted values. Levels nobody chose
        are dropped (their threshold is not estimable) with a note.
    terms
        Categorical explanatory columns, each coded with treatment (dummy)
        contrasts against its reference level.
    reference
        Reference level per term; default the first level (first category
        if categorical, else the smallest value). Levels nobody has are
        dropped; a term with fewer than two observed levels is dropped
        with a note.
    count
        Optional column of respondent counts (whole numbers) per row.
    alpha
        1 - confidence level of the odds-ratio intervals.
    po_test
        Run the likelihood-ratio test of proportional odds for each term.
    maxiter
        Iteration limit of the optimiser.

    Returns
    -------
    :class:`ProportionalOddsResult`.

    Method
    ------
    Model logit P(Y <= j | x) = theta_j - x'beta (statsmodels
    ``OrderedModel(distr="logit")``; the same sign convention as R
    ``MASS::polr`` and ``ordinal::clm``), fitted by maximum likelihood:
    BFGS followed by Newton polishing, both with analytic derivatives.
    Rows with a missing outcome or term are excluded (``n_excluded``).
    Standard errors come from the inverse of the analytic observed
    information. The PO test for a term refits the model with that term's
    effect allowed to differ at every threshold (a partial proportional
    odds model, Peterson & Harrell 1990) and compares log-likelihoods:
    LR = 2 (ll_nominal - ll_PO), df = (J - 2) x (levels - 1), as R
    ``ordinal::nominal_test``. A small p-value means the proportional-odds
    assumption is doubtful for that term.
    """
    reference = dict(reference or {})
    terms = list(terms)
    if not terms:
        raise ValueError("at least one term is needed")
    cols = [outcome, *terms] + ([count] if count else [])
    missing_cols = [c for c in cols if c not in data.columns]
    if missing_cols:
        raise KeyError(f"data has no column(s) {missing_cols}")
    frame = data[cols]
    counts_all = (frame[count].to_numpy(dtype=float) if count
                  else np.ones(len(frame)))
    if np.any(np.isnan(counts_all)) or np.any(counts_all < 0) or np.any(
            counts_all != np.round(counts_all)):
        raise ValueError("count must hold non-negative whole numbers")
    complete = frame[[outcome, *terms]].notna().all(axis=1).to_numpy()
    n_excluded = int(counts_all[~complete].sum())
    notes: list[str] = []
    if n_excluded:
        notes.append(f"{n_excluded} respondent(s) with a missing value excluded")
    keep = complete & (counts_all > 0)
    w_rows = counts_all[keep]

    # Outcome coding.
    y_levels = _levels_of(data[outcome], outcome_levels)
    y_code = _codes(frame[outcome], y_levels)[keep]
    if np.any(y_code < 0):
        raise ValueError(f"outcome values outside the level order {y_levels}")
    y_freq = np.bincount(y_code, weights=w_rows, minlength=len(y_levels))
    if np.any(y_freq == 0):
        notes.append("outcome level(s) nobody chose dropped: "
                     + ", ".join(str(y_levels[i]) for i in np.flatnonzero(y_freq == 0)))
        remap = np.cumsum(y_freq > 0) - 1
        y_code = remap[y_code]
        y_levels = [lv for lv, f in zip(y_levels, y_freq) if f > 0]
    if len(y_levels) < 2:
        raise ValueError("the outcome needs at least two observed levels")

    # Term coding: integer codes per term, reference first.
    codes = [y_code]
    sizes = [len(y_levels)]
    term_levels: dict[str, list[object]] = {}
    for term in terms:
        levels = _levels_of(data[term])
        code = _codes(frame[term], levels)[keep]
        freq = np.bincount(code, weights=w_rows, minlength=len(levels))
        observed = [lv for lv, f in zip(levels, freq) if f > 0]
        ref = reference.get(term, observed[0] if observed else None)
        if ref not in observed:
            raise ValueError(f"reference level {ref!r} of {term!r} is not observed")
        if len(observed) < 2:
            notes.append(f"term {term!r} dropped: fewer than two observed levels")
            continue
        ordered = [ref] + [lv for lv in observed if lv != ref]
        term_levels[term] = ordered
        position = {lv: i for i, lv in enumerate(ordered)}
        codes.append(np.array([position.get(lv, -1) for lv in levels], dtype=np.int64)[code])
        sizes.append(len(ordered))
    if not term_levels:
        raise ValueError("no term has two or more observed levels")

    # Collapse identical (outcome, pattern) rows into counts.
    uniq, w = _collapse(codes, sizes, w_rows)
    y = uniq[:, 0].astype(int)
    x_blocks, names, term_slices = [], [], {}
    start = 0
    for t_idx, (term, levels) in enumerate(term_levels.items()):
        code = uniq[:, t_idx + 1]
        block = (code[:, None] == np.arange(1, len(levels))[None, :]).astype(float)
        x_blocks.append(block)
        names.extend(f"{term}[{lv}]" for lv in levels[1:])
        term_slices[term] = slice(start, start + block.shape[1])
        start += block.shape[1]
    x = np.hstack(x_blocks)
    # The thresholds act as intercepts, so the dummies plus a constant must be of full rank.
    with_const = np.column_stack([np.ones(x.shape[0]), x])
    if np.linalg.matrix_rank(with_const) < with_const.shape[1]:
        raise ValueError("the terms are confounded (design matrix is rank deficient)")

    n_levels = len(y_levels)
    exog = pd.DataFrame(x, columns=names)
    model = _CountWeightedOrderedModel(y, exog, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = model.fit(method="bfgs", maxiter=maxiter, gtol=1e-8, disp=False)
        final = model.fit(method="newton", start_params=first.params, maxiter=50,
                          tol=1e-12, disp=False)
    # Keep the Newton polish only if it did not make things worse.
    candidates = [np.asarray(final.params), np.asarray(first.params)]
    lls = [model.loglike(c) if np.all(np.isfinite(c)) else -np.inf for c in candidates]
    params = candidates[0] if lls[0] >= lls[1] - 1e-9 * abs(lls[1]) else candidates[1]
    raw = model._raw(params)
    ll, grad, hess = _loglik_derivatives(raw, *model._designs, w)
    converged = bool(np.all(np.isfinite(raw)) and np.isfinite(ll)
                     and np.max(np.abs(grad)) < 1e-6 * max(1.0, abs(ll))
                     and (first.mle_retvals.get("converged", False)
                          or final.mle_retvals.get("converged", False)))
    if not converged:
        notes.append("optimiser did not converge: estimates unreliable")
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        cov = np.full_like(hess, np.nan)
        notes.append("singular information matrix: no standard errors")

    p = x.shape[1]
    se = np.sqrt(np.diag(cov))
    beta = raw[:p]
    z_crit = stats.norm.ppf(1.0 - alpha / 2.0)
    rows = []
    for term, levels in term_levels.items():
        sl = term_slices[term]
        for j, lv in enumerate(levels[1:]):
            i = sl.start + j
            z = beta[i] / se[i]
            rows.append({
                "term": term, "level": lv, "reference": levels[0],
                "estimate": beta[i], "std_error": se[i], "z": z,
                "p_value": 2.0 * stats.norm.sf(abs(z)),
                "odds_ratio": np.exp(beta[i]),
                "ci_low": np.exp(beta[i] - z_crit * se[i]),
                "ci_high": np.exp(beta[i] + z_crit * se[i]),
            })
    coefficients = pd.DataFrame(rows)
    thresholds = pd.DataFrame({
        "threshold": [f"{a}|{b}" for a, b in zip(y_levels[:-1], y_levels[1:])],
        "estimate": raw[p:],
        "std_error": se[p:],
    })

    po_rows = []
    if po_test:
        for term, levels in term_levels.items():
            po_rows.append(_nominal_test(term, term_slices[term], x, y, w, raw, ll, n_levels,
                                         maxiter))
    po_tests = pd.DataFrame(po_rows, columns=["term", "statistic", "df", "p_value",
                                              "log_likelihood_nominal", "converged", "method"])
    n_par = p + n_levels - 1
    return ProportionalOddsResult(
        coefficients=coefficients, thresholds=thresholds, po_tests=po_tests,
        n=int(w.sum()), n_excluded=n_excluded, converged=converged,
        log_likelihood=ll, aic=-2.0 * ll + 2.0 * n_par, note="; ".join(notes),
        covariance=cov,
    )


def _nominal_test(
    term: str,
    sl: slice,
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    raw_po: np.ndarray,
    ll_po: float,
    n_levels: int,
    maxiter: int,
) -> dict[str, object]:
    """LR test of proportional odds for one term (as ordinal::nominal_test)."""
    q = sl.stop - sl.start
    df = (n_levels - 2) * q
    method = "likelihood-ratio (nominal effects)"
    if df == 0:
        return {"term": term, "statistic": np.nan, "df": 0, "p_value": np.nan,
                "log_likelihood_nominal": np.nan, "converged": False, "method": method}
    p = x.shape[1]
    keep = np.ones(p, dtype=bool)
    keep[sl] = False
    x_po, z = x[:, keep], x[:, sl]
    designs = _cut_designs(x_po, z, y, n_levels)
    beta_term = raw_po[:p][sl]
    start = np.concatenate([raw_po[:p][keep], raw_po[p:], np.tile(beta_term, n_levels - 1)])
    params, ll_nom, _, converged = _newton_maximise(start, designs, w, maxiter=maxiter)
    stat = max(0.0, 2.0 * (ll_nom - ll_po))
    return {"term": term, "statistic": stat, "df": df,
            "p_value": float(stats.chi2.sf(stat, df)),
            "log_likelihood_nominal": ll_nom, "converged": converged, "method": method}
