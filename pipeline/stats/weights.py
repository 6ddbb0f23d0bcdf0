"""Optional survey weights: raking by iterative proportional fitting.

Raking (Deming & Stephan 1940) rescales respondent weights so that the
weighted distribution of each raking variable matches a known population
distribution.  Starting from unit weights, each sweep visits the margins in
the order given and multiplies every weight in category ``c`` of margin ``j``
by ``target_j(c) / current_j(c)``; sweeps repeat until every weighted margin
share is within ``tol`` of its target.  The fixed point is the minimum
raking-divergence calibration to the margins (Deville & Särndal 1992) and is
what R's ``survey::rake()`` returns for a design with unit starting weights.

Optional trimming uses the usual alternating scheme (e.g. Battaglia et al.
2009, "Practical considerations in raking survey data"): after every sweep the
weights are clipped to ``[lo, hi] * mean(weights)`` and the next sweep re-rakes
the margins, until a sweep followed by clipping leaves all margins within
``tol``.  Infeasible bounds show up as ``converged=False``.

The design effect from unequal weighting is Kish's (1965) approximation
``deff = n * sum(w**2) / sum(w)**2`` and ``effective_n = n / deff``.

Why no third-party weighting library: ``weightipy`` (0.4.x) rakes only, gives
no design-based variances or Rao-Scott tests, and pulls in ``watchdog`` and
``requests`` as run-time dependencies; ``svy`` (0.x, frequent releases)
requires ``polars`` plus a Rust extension and its own I/O stack.  Raking is a
few vectorised lines on top of numpy/pandas, so a small implementation
checked against R ``survey`` (Lumley 2010) reference values is lighter and
easier to audit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RakeResult", "RakingError", "rake", "kish_design_effect"]

_SHARE_SUM_TOL = 1e-6


class RakingError(ValueError):
    """Raised when targets and data cannot be raked (bad or mismatched margins)."""


@dataclass(frozen=True, eq=False)
class RakeResult:
    """Outcome of :func:`rake`.

    Attributes:
        weights: one weight per row of the input frame, in row order,
            normalised to mean 1 (so they sum to the number of rows).
        iterations: number of full sweeps over all margins performed.
        converged: whether every weighted margin share is within ``tol`` of its
            target (after trimming, when trimming was requested).
        max_margin_error: largest absolute difference between a weighted
            category share and its target share, over all margins.
        trimmed: number of weights clipped to a trimming bound in the final
            sweep (0 without trimming).
        design_effect: Kish design effect ``n * sum(w**2) / sum(w)**2``.
        effective_n: ``n / design_effect``.
        margin_codes: for each raking column (in ``targets`` order) the integer
            category code of every row, codes indexing ``margin_levels``; pass
            these to the ``calibration`` argument of the functions in
            :mod:`pipeline.stats.design` for calibration-adjusted standard errors.
        margin_levels: the category labels of each raking column, in ``targets``
            order.
        columns: the raking columns, in ``targets`` order.
    """

    weights: np.ndarray
    iterations: int
    converged: bool
    max_margin_error: float
    trimmed: int
    design_effect: float
    effective_n: float
    margin_codes: tuple[np.ndarray, ...] = ()
    margin_levels: tuple[tuple[object, ...], ...] = ()
    columns: tuple[str, ...] = ()


def kish_design_effect(weights: np.ndarray) -> float:
    """Kish's (1965) design effect due to unequal weighting, ``n Σw² / (Σw)²``.

    Equals 1 for constant weights and grows with the weights' coefficient of
    variation (``deff = 1 + cv²`` with the population cv).
    """
    w = np.asarray(weights, dtype=float)
    if w.size == 0:
        raise ValueError("weights are empty")
    total = w.sum()
    if not total > 0:
        raise ValueError("weights must have a positive sum")
    return float(w.size * np.dot(w, w) / (total * total))


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _encode_margins(
    frame: pd.DataFrame, targets: Mapping[str, Mapping[object, float]]
) -> tuple[list[np.ndarray], list[np.ndarray], list[tuple[object, ...]]]:
    codes_list: list[np.ndarray] = []
    shares_list: list[np.ndarray] = []
    levels_list: list[tuple[object, ...]] = []
    for column, target in targets.items():
        if column not in frame.columns:
            raise RakingError(f"raking column {column!r} is not in the data")
        if not target:
            raise RakingError(f"targets for column {column!r} are empty")
        levels = tuple(target.keys())
        shares = np.array([float(target[level]) for level in levels], dtype=float)
        for level, share in zip(levels, shares):
            if not math.isfinite(share) or share <= 0:
                raise RakingError(
                    f"target share for column {column!r}, category {level!r} "
                    f"must be positive and finite, got {share!r}"
                )
        if abs(shares.sum() - 1.0) > _SHARE_SUM_TOL:
            raise RakingError(
                f"target shares for column {column!r} sum to {shares.sum():.10g}, not 1"
            )
        values = frame[column]
        missing = values.isna().to_numpy()
        if missing.any():
            raise RakingError(
                f"raking column {column!r} has {int(missing.sum())} missing value(s); "
                "impute or give them an explicit category first"
            )
        codes = pd.Index(levels).get_indexer(values).astype(np.intp, copy=False)
        unknown = codes < 0
        if unknown.any():
            extra = [_plain(v) for v in pd.unique(values.to_numpy()[unknown])]
            first = extra[0]
            raise RakingError(
                f"column {column!r}: category {first!r} is in the data but not in the "
                f"targets (data categories missing from targets: {extra!r})"
            )
        counts = np.bincount(codes, minlength=len(levels))
        if (counts == 0).any():
            absent = [levels[k] for k in np.flatnonzero(counts == 0)]
            raise RakingError(
                f"column {column!r}: target category {absent[0]!r} has no respondents "
                f"(target categories absent from the data: {absent!r})"
            )
        codes_list.append(codes)
        shares_list.append(shares / shares.sum())
        levels_list.append(levels)
    return codes_list, shares_list, levels_list


def _max_margin_error(
    weights: np.ndarray, codes_list: list[np.ndarray], shares_list: list[np.ndarray]
) -> float:
    total = weights.sum()
    worst = 0.0
    for codes, shares in zip(codes_list, shares_list):
        current = np.bincount(codes, weights=weights, minlength=shares.size) / total
        worst = max(worst, float(np.max(np.abs(current - shares))))
    return worst


def rake(
    frame: pd.DataFrame,
    targets: Mapping[str, Mapping[object, float]],
    max_iter: int = 100,
    tol: float = 1e-8,
    trim: tuple[float, float] | None = None,
) -> RakeResult:
    """Rake unit starting weights to population margins by iterative proportional fitting.

    Args:
        frame: one row per respondent; must contain every column named in
            ``targets`` with no missing values.
        targets: ``{column: {category: population share}}``; each column's shares
            must be positive and sum to 1 (within 1e-6; they are then rescaled
            to sum exactly to 1).  Every category present in the data must have a
            target and every target category must occur in the data, otherwise
            :class:`RakingError` names the column and the category.
        max_iter: maximum number of sweeps over all margins.
        tol: convergence threshold on the largest absolute difference between a
            weighted margin share and its target share, checked after each sweep.
        trim: optional ``(lo, hi)`` bounds relative to the mean weight, e.g.
            ``(0.2, 5.0)``; weights are clipped after each sweep and re-raked by the
            next one (alternating raking and trimming) until the margins hold
            within ``tol`` with all weights inside the bounds (up to the final
            rescaling to mean 1, a relative change of order ``tol``).

    Returns:
        A :class:`RakeResult` whose ``weights`` have mean 1.  If the margins were
        already met by unit weights, the weights are all 1 after one sweep.
        When ``max_iter`` sweeps do not reach ``tol``, the last weights are
        returned with ``converged=False`` and a ``RuntimeWarning`` is issued.

    Assumptions: the raking columns are categorical, the margins are jointly
    feasible (a positive solution exists, Deming & Stephan 1940), and the
    sample has unit design weights before raking.
    """
    if max_iter < 1:
        raise ValueError("max_iter must be at least 1")
    if not tol > 0:
        raise ValueError("tol must be positive")
    if not targets:
        raise RakingError("no raking targets given")
    n = len(frame)
    if n == 0:
        raise RakingError("cannot rake an empty frame")
    if trim is not None:
        lo, hi = float(trim[0]), float(trim[1])
        if not (0 <= lo < 1 < hi):
            raise ValueError(f"trim bounds must satisfy 0 <= lo < 1 < hi, got {trim!r}")

    codes_list, shares_list, levels_list = _encode_margins(frame, targets)
    target_totals = [shares * n for shares in shares_list]

    weights = np.ones(n, dtype=float)
    iterations = 0
    converged = False
    trimmed = 0
    error = math.inf
    while iterations < max_iter:
        iterations += 1
        for codes, totals in zip(codes_list, target_totals):
            current = np.bincount(codes, weights=weights, minlength=totals.size)
            weights *= (totals / current)[codes]
        if trim is not None:
            mean = weights.mean()
            low, high = lo * mean, hi * mean
            outside = (weights < low) | (weights > high)
            trimmed = int(np.count_nonzero(outside))
            if trimmed:
                np.clip(weights, low, high, out=weights)
        error = _max_margin_error(weights, codes_list, shares_list)
        if error <= tol:
            converged = True
            break

    weights /= weights.mean()
    if not converged:
        warnings.warn(
            f"raking did not converge in {max_iter} sweeps "
            f"(largest margin error {error:.3g} > tol {tol:.3g})",
            RuntimeWarning,
            stacklevel=2,
        )
    deff = kish_design_effect(weights)
    return RakeResult(
        weights=weights,
        iterations=iterations,
        converged=converged,
        max_margin_error=float(error),
        trimmed=trimmed,
        design_effect=deff,
        effective_n=n / deff,
        margin_codes=tuple(codes_list),
        margin_levels=tuple(levels_list),
        columns=tuple(str(c) for c in targets),
    )
