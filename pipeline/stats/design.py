"""Design-based estimates for a weighted (e.g. raked) sample.

The sample is treated as R's ``survey`` package treats
``svydesign(ids=~1, weights=~w, data=d)`` (Lumley 2010): a single-stage,
unstratified, with-replacement design whose variances come from Taylor
linearisation, ``V = n/(n-1) * Σ_i (z_i - z̄)(z_i - z̄)'`` where ``z_i`` is the
influence of respondent ``i`` on the estimate.

**Default: fixed sampling weights.**  The weights are taken as given, exactly
like ``svydesign(..., weights=~w)`` on a column holding the raked weights.
This ignores that raking estimated the weights from the sample and is usually
slightly conservative for variables related to the raking margins.

**Optional: calibration-adjusted SEs.**  Passing ``calibration=`` (the
per-margin category codes used for raking, e.g. ``RakeResult.margin_codes``)
reproduces the variance of the design returned by R's ``survey::rake()``:
before the variance is formed the influence values ``z`` are projected, as in
``survey:::svyrecvar`` for ``"raking"`` post-strata, by ten sweeps of
``z <- z - w * ave(z / w, margin)`` over the margins.  Like survey 4.1,
``ave`` is the unweighted mean within each margin category and the sweeps stop
after ten rather than at convergence; both details are kept so that results
agree with R to rounding.  Estimates are the same either way; only the
standard errors change (Deville & Särndal 1992).  For a raking variable itself
the calibrated SEs of its category shares are zero.

Domains (the ``valid`` masks, negative codes) follow R's ``subset(design,
valid)`` / ``na.rm=TRUE`` semantics: excluded rows keep their place in the
design with zero influence, so ``n`` in ``n/(n-1)`` is the full sample size.

References:
    Deming, W. E. & Stephan, F. F. (1940). On a least squares adjustment of a
    sampled frequency table when the expected marginal totals are known.
    Kish, L. (1965). Survey Sampling.
    Rao, J. N. K. & Scott, A. J. (1984). On chi-squared tests for multiway
    contingency tables with cell proportions estimated from survey data.
    Annals of Statistics 12(1), 46-60.
    Deville, J.-C. & Särndal, C.-E. (1992). Calibration estimators in survey
    sampling. JASA 87, 376-382.
    Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import linalg, stats

__all__ = [
    "RaoScottResult",
    "weighted_share",
    "weighted_level_shares",
    "weighted_mean",
    "rao_scott_chisq",
]

Calibration = Sequence[np.ndarray] | None

_R_RAKING_SWEEPS = 10


@dataclass(frozen=True)
class RaoScottResult:
    """Rao-Scott corrected Pearson test of independence for a two-way table.

    Attributes:
        statistic: for ``method="F"`` the F statistic ``X² / tr(Δ)``; for
            ``method="Chisq"`` Pearson's ``X²`` on the weighted table scaled to
            ``n`` (R reports this unadjusted value and adjusts only the p-value).
        df: numerator degrees of freedom: Satterthwaite ``d0 = tr(Δ)² / tr(Δ²)``
            for ``"F"``, ``(r-1)(c-1)`` for ``"Chisq"``.
        ddf: denominator degrees of freedom ``d0 * (n - 1)`` for ``"F"``; ``None``
            for ``"Chisq"``.
        p_value: upper-tail p-value (``F(d0, d0 (n-1))`` for ``"F"``;
            ``χ²((r-1)(c-1))`` of ``X² / δ̄`` for ``"Chisq"``).
        method: ``"F"`` (second-order correction) or ``"Chisq"`` (first-order).
        pearson_x2: Pearson's ``X²`` of the weighted table scaled to ``n``.
        mean_deff: ``δ̄ = tr(Δ) / (r-1)(c-1)``, the mean generalised design effect.
        n_rows: number of row levels observed.
        n_cols: number of column levels observed.
        note: what was computed and any caveats (missing rows, sparse cells).
    """

    statistic: float
    df: float
    ddf: float | None
    p_value: float
    method: str
    pearson_x2: float
    mean_deff: float
    n_rows: int
    n_cols: int
    note: str


def _as_weights(weights: np.ndarray, n: int | None = None) -> np.ndarray:
    w = np.asarray(weights, dtype=float).ravel()
    if n is not None and w.size != n:
        raise ValueError(f"weights have length {w.size}, expected {n}")
    if w.size < 2:
        raise ValueError("need at least two respondents for a variance")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    return w


def _as_mask(mask: np.ndarray | None, n: int, name: str) -> np.ndarray:
    if mask is None:
        return np.ones(n, dtype=bool)
    m = np.asarray(mask)
    if m.shape != (n,):
        raise ValueError(f"{name} has shape {m.shape}, expected ({n},)")
    return m.astype(bool)


def _check_calibration(calibration: Calibration, n: int) -> list[np.ndarray]:
    if calibration is None:
        return []
    margins = []
    for codes in calibration:
        c = np.asarray(codes)
        if c.shape != (n,) or not np.issubdtype(c.dtype, np.integer) or np.any(c < 0):
            raise ValueError("calibration margins must be non-negative integer codes, one per row")
        margins.append(c.astype(np.intp))
    return margins


def _project_raking(
    z: np.ndarray, weights: np.ndarray, margins: list[np.ndarray]
) -> np.ndarray:
    """Residualise influence values on the raking margins as survey's svyrecvar does."""
    if not margins:
        return z
    if np.any(weights <= 0):
        raise ValueError("calibration-adjusted variances need strictly positive weights")
    e = z / weights[:, None]
    counts = [np.bincount(codes) for codes in margins]
    for _ in range(_R_RAKING_SWEEPS):
        for codes, count in zip(margins, counts):
            for j in range(e.shape[1]):
                sums = np.bincount(codes, weights=e[:, j], minlength=count.size)
                e[:, j] -= (sums / np.where(count > 0, count, 1))[codes]
    return e * weights[:, None]


def _influence_cov(z: np.ndarray) -> np.ndarray:
    n = z.shape[0]
    centred = z - z.mean(axis=0)
    return n / (n - 1) * (centred.T @ centred)


def _ratio_means(
    values: np.ndarray, weights: np.ndarray, domain: np.ndarray, margins: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means of the columns of ``values`` over ``domain`` and their covariance."""
    w = np.where(domain, weights, 0.0)
    total = w.sum()
    if not total > 0:
        raise ValueError("the valid subset has no positive weight")
    y = np.where(domain[:, None], values, 0.0)
    estimate = (w @ y) / total
    z = w[:, None] * (y - estimate) / total
    z = _project_raking(z, weights, margins)
    return estimate, _influence_cov(z)


def _level_shares_cov(
    codes: np.ndarray, weights: np.ndarray, n_levels: int, margins: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Shares of every level among rows with ``codes >= 0`` and their linearised covariance."""
    n = codes.size
    valid = codes >= 0
    safe = np.where(valid, codes, 0)
    w = np.where(valid, weights, 0.0)
    total = w.sum()
    if not total > 0:
        raise ValueError("no valid row has positive weight")
    shares = np.bincount(safe, weights=w, minlength=n_levels) / total
    if margins:
        return shares, _calibrated_level_cov(codes, weights, shares, total, margins)
    w2 = w * w
    s2 = np.bincount(safe, weights=w2, minlength=n_levels)
    s2_all = w2.sum()
    cross = np.diag(s2) - np.outer(s2, shares) - np.outer(shares, s2)
    cov = (cross + s2_all * np.outer(shares, shares)) / (total * total)
    return shares, n / (n - 1) * cov


def _distinct_profiles(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """First row of each distinct combination of non-negative integer columns, and each row's combination index."""
    radices = [int(c.max()) + 1 for c in columns]
    if float(np.prod(np.array(radices, dtype=float))) < 2.0**62:
        key = np.zeros(columns[0].size, dtype=np.int64)
        for column, radix in zip(columns, radices):
            key = key * radix + column
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(
            np.column_stack(columns), axis=0, return_index=True, return_inverse=True
        )
    return first, inverse.ravel()


def _calibrated_level_cov(
    codes: np.ndarray,
    weights: np.ndarray,
    shares: np.ndarray,
    total: float,
    margins: list[np.ndarray],
) -> np.ndarray:
    """Raking-adjusted covariance of level shares, computed on distinct row profiles.

    ``z / w`` is ``(1[code = k] - p_k) / W`` on valid rows and 0 elsewhere, so it is
    constant within rows sharing a level code and raking categories; the
    projection of :func:`_project_raking` is therefore run once per distinct
    profile with row counts as multiplicities, which avoids an ``n × levels``
    matrix for large samples.
    """
    if np.any(weights <= 0):
        raise ValueError("calibration-adjusted variances need strictly positive weights")
    n = codes.size
    n_levels = shares.size
    first, inverse = _distinct_profiles([codes + 1] + margins)
    count = np.bincount(inverse).astype(float)
    sum_w = np.bincount(inverse, weights=weights)
    sum_w2 = np.bincount(inverse, weights=weights * weights)
    key_codes = codes[first]
    e = np.zeros((first.size, n_levels))
    valid_keys = np.flatnonzero(key_codes >= 0)
    e[valid_keys] = -shares
    e[valid_keys, key_codes[valid_keys]] += 1.0
    e /= total
    key_margins = [m[first] for m in margins]
    group_sizes = [np.bincount(m, weights=count) for m in key_margins]
    for _ in range(_R_RAKING_SWEEPS):
        for m, size in zip(key_margins, group_sizes):
            group_sum = np.zeros((size.size, n_levels))
            np.add.at(group_sum, m, count[:, None] * e)
            e -= (group_sum / np.where(size > 0, size, 1)[:, None])[m]
    z_mean = (sum_w @ e) / n
    second = (e * sum_w2[:, None]).T @ e
    return n / (n - 1) * (second - n * np.outer(z_mean, z_mean))


def weighted_share(
    indicator: np.ndarray,
    weights: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    calibration: Calibration = None,
) -> tuple[float, float]:
    """Weighted share of ``indicator`` among ``valid`` rows and its linearised SE.

    Returns ``(estimate, se)`` with ``estimate = Σ_valid w·y / Σ_valid w``, the
    ratio estimator of R's ``svymean(~y, subset(design, valid))`` (equivalently
    ``svyratio(~y, ~one, ...)``).  With fixed weights the variance is
    ``n/(n-1) · Σ_valid w²(y - p)² / (Σ_valid w)²`` where ``n`` counts all rows;
    with unit weights and all rows valid this is ``p(1-p)/(n-1)``.  Values of
    ``indicator`` outside ``valid`` are ignored.  ``calibration`` gives the
    raking-adjusted SE of R's ``rake()`` design (see module docstring).
    """
    y = np.asarray(indicator)
    n = y.shape[0]
    w = _as_weights(weights, n)
    domain = _as_mask(valid, n, "valid")
    y = np.where(domain, y, 0).astype(float)
    estimate, cov = _ratio_means(y[:, None], w, domain, _check_calibration(calibration, n))
    return float(estimate[0]), float(np.sqrt(cov[0, 0]))


def weighted_level_shares(
    codes: np.ndarray,
    weights: np.ndarray,
    n_levels: int,
    *,
    calibration: Calibration = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted shares of every level of a categorical variable, with linearised SEs.

    ``codes`` are integers in ``0..n_levels-1``; negative codes mark missing or
    excluded rows (they form no part of the denominator but stay in the design).
    Returns ``(estimates, ses)``, two arrays of length ``n_levels`` whose
    estimates sum to 1, matching R's
    ``svymean(~factor(x), subset(design, !is.na(x)))`` level by level.
    Computed from weighted level counts (``np.bincount``) without forming an
    ``n × n_levels`` matrix unless ``calibration`` is given.
    """
    c = np.asarray(codes)
    if c.ndim != 1 or not np.issubdtype(c.dtype, np.integer):
        raise ValueError("codes must be a one-dimensional integer array")
    if n_levels < 1:
        raise ValueError("n_levels must be positive")
    if np.any(c >= n_levels):
        raise ValueError(f"codes must be below n_levels={n_levels}")
    w = _as_weights(weights, c.size)
    shares, cov = _level_shares_cov(
        c.astype(np.intp), w, n_levels, _check_calibration(calibration, c.size)
    )
    return shares, np.sqrt(np.clip(np.diag(cov), 0.0, None))


def weighted_mean(
    values: np.ndarray,
    weights: np.ndarray,
    valid: np.ndarray | None = None,
    *,
    calibration: Calibration = None,
) -> tuple[float, float]:
    """Weighted mean of ``values`` and its linearised SE, as R's ``svymean(~x, design)``.

    Returns ``(mean, se)``.  Rows outside ``valid`` (and, when ``valid`` is
    omitted, rows whose value is NaN) are excluded as in ``svymean(..., na.rm=TRUE)``.
    """
    x = np.asarray(values, dtype=float)
    n = x.shape[0]
    w = _as_weights(weights, n)
    domain = _as_mask(valid, n, "valid") & ~np.isnan(x)
    x = np.where(domain, x, 0.0)
    estimate, cov = _ratio_means(x[:, None], w, domain, _check_calibration(calibration, n))
    return float(estimate[0]), float(np.sqrt(cov[0, 0]))


def _compact_codes(codes: np.ndarray) -> tuple[np.ndarray, int]:
    observed = np.unique(codes[codes >= 0])
    lookup = np.full(int(observed.max()) + 1 if observed.size else 1, -1, dtype=np.intp)
    lookup[observed] = np.arange(observed.size)
    compact = np.where(codes >= 0, lookup[np.where(codes >= 0, codes, 0)], -1)
    return compact, observed.size


def rao_scott_chisq(
    row_codes: np.ndarray,
    col_codes: np.ndarray,
    weights: np.ndarray,
    statistic: Literal["F", "Chisq"] = "F",
    *,
    calibration: Calibration = None,
) -> RaoScottResult:
    """Rao-Scott corrected Pearson test of independence, as ``survey::svychisq``.

    Reproduces ``svychisq(~a+b, design, statistic="F")`` (default; the
    second-order correction of Rao & Scott 1984 with Satterthwaite degrees of
    freedom) and ``statistic="Chisq"`` (first-order: ``X²/δ̄`` referred to
    ``χ²((r-1)(c-1))``).  With ``p̂`` the weighted cell proportions, ``V`` their
    linearised covariance, ``C`` a basis of the interaction contrasts
    (orthogonal to the row and column main effects) and ``D = diag(p̂)``,
    ``Δ = (C'D⁻¹C/n)⁻¹ C'D⁻¹VD⁻¹C``; ``X²`` is Pearson's statistic on the
    weighted table scaled to total ``n``.

    Negative codes mark missing values; such rows drop out of the table but
    stay in the design, so ``n`` (table total and ``n - 1`` residual degrees of
    freedom) counts every row, exactly as R with ``na.rm=TRUE``.  Levels are the
    distinct non-negative codes present.

    With unit weights and no empty cell, ``V = (D - p̂p̂')/(n-1)`` so
    ``Δ = n/(n-1)·I``: ``"Chisq"`` returns Pearson's ``X²`` with p-value from
    ``X²(n-1)/n`` on ``(r-1)(c-1)`` df, and ``"F"`` returns
    ``F = X²(n-1)/(n(r-1)(c-1))`` on ``((r-1)(c-1), (r-1)(c-1)(n-1))`` df.

    Returns a :class:`RaoScottResult`.
    """
    if statistic not in ("F", "Chisq"):
        raise ValueError("statistic must be 'F' or 'Chisq'")
    r_codes = np.asarray(row_codes)
    c_codes = np.asarray(col_codes)
    if r_codes.shape != c_codes.shape or r_codes.ndim != 1:
        raise ValueError("row_codes and col_codes must be one-dimensional and of equal length")
    if not (np.issubdtype(r_codes.dtype, np.integer) and np.issubdtype(c_codes.dtype, np.integer)):
        raise ValueError("row_codes and col_codes must be integer codes")
    n = r_codes.size
    w = _as_weights(weights, n)
    margins = _check_calibration(calibration, n)
    rows, nr = _compact_codes(r_codes)
    cols, nc = _compact_codes(c_codes)
    if nr < 2 or nc < 2:
        raise ValueError(f"need at least two observed levels per variable, got {nr}×{nc}")

    complete = (rows >= 0) & (cols >= 0)
    cells = np.where(complete, rows + nr * cols, -1)
    p_hat, v = _level_shares_cov(cells, w, nr * nc, margins)

    table = p_hat.reshape(nc, nr).T * n
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        x2 = float(np.sum((table - expected) ** 2 / expected))

    row_ind = np.tile(np.eye(nr), (nc, 1))
    col_ind = np.repeat(np.eye(nc), nr, axis=0)
    contrasts = linalg.null_space(np.hstack([row_ind, col_ind]).T)
    inv_p = np.divide(1.0, p_hat, out=np.zeros_like(p_hat), where=p_hat != 0)
    c_scaled = contrasts * inv_p[:, None]
    denom = contrasts.T @ c_scaled / n
    numer = c_scaled.T @ v @ c_scaled
    delta = np.linalg.solve(denom, numer)
    trace = float(np.trace(delta))
    trace_sq = float(np.trace(delta @ delta))
    d0 = trace * trace / trace_sq
    df = (nr - 1) * (nc - 1)
    nu = n - 1

    notes = [
        "Rao-Scott "
        + ("second-order (Satterthwaite F)" if statistic == "F" else "first-order")
        + f" correction as R survey::svychisq(statistic='{statistic}'); "
        + ("raking-calibrated" if margins else "fixed sampling")
        + " weights, with-replacement linearisation"
    ]
    n_missing = int(n - complete.sum())
    if n_missing:
        notes.append(f"{n_missing} row(s) with a missing code excluded from the table")
    n_empty = int(np.count_nonzero(p_hat == 0))
    if n_empty:
        notes.append(f"{n_empty} empty cell(s)")
    sparse = int(np.count_nonzero(expected < 5))
    if sparse:
        notes.append(f"{sparse} cell(s) with expected weighted count below 5")
    note = "; ".join(notes)

    if statistic == "F":
        f_stat = x2 / trace
        return RaoScottResult(
            statistic=f_stat,
            df=d0,
            ddf=d0 * nu,
            p_value=float(stats.f.sf(f_stat, d0, d0 * nu)),
            method="F",
            pearson_x2=x2,
            mean_deff=trace / df,
            n_rows=nr,
            n_cols=nc,
            note=note,
        )
    return RaoScottResult(
        statistic=x2,
        df=float(df),
        ddf=None,
        p_value=float(stats.chi2.sf(x2 / (trace / df), df)),
        method="Chisq",
        pearson_x2=x2,
        mean_deff=trace / df,
        n_rows=nr,
        n_cols=nc,
        note=note,
    )
