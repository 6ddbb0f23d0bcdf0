"""Multiple-comparison adjustment of p-values.

Pure, NaN-aware re-implementation of R's ``stats::p.adjust`` for the methods
used in the report (Holm, Benjamini–Hochberg, Bonferroni, none).

NaN handling follows R: a missing p-value stays missing and is *not* counted
in the number of tests ``m`` (R's default ``n = length(p[!is.na(p)])``).

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure.
Scandinavian Journal of Statistics 6, 65–70.
Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate.
JRSS B 57, 289–300.
R Core Team, ``p.adjust`` (src/library/stats/R/p.adjust.R).
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

AdjustMethod = Literal["fdr_bh", "holm", "bonferroni", "none"]

#: Accepted spellings, mapped to the canonical method name.
_ALIASES: dict[str, str] = {
    "fdr_bh": "fdr_bh",
    "bh": "fdr_bh",
    "fdr": "fdr_bh",
    "benjamini-hochberg": "fdr_bh",
    "holm": "holm",
    "bonferroni": "bonferroni",
    "none": "none",
}


def canonical_method(method: str) -> str:
    """Return the canonical adjustment name for ``method`` (case-insensitive).

    Accepts the statsmodels spelling (``"fdr_bh"``, ``"holm"``,
    ``"bonferroni"``) and R's (``"BH"``, ``"fdr"``, ``"holm"``, ``"none"``).
    Raises ``ValueError`` for anything else.
    """
    key = str(method).strip().lower()
    if key not in _ALIASES:
        raise ValueError(
            f"unknown p-value adjustment {method!r}; use one of "
            "'fdr_bh' (alias 'BH'), 'holm', 'bonferroni', 'none'"
        )
    return _ALIASES[key]


@overload
def adjust(p_values: pd.Series, method: str = "fdr_bh") -> pd.Series: ...
@overload
def adjust(p_values: npt.ArrayLike, method: str = "fdr_bh") -> np.ndarray: ...


def adjust(p_values: npt.ArrayLike | pd.Series, method: str = "fdr_bh") -> np.ndarray | pd.Series:
    """Adjust p-values for multiple comparisons, exactly as R ``p.adjust``.

    Parameters
    ----------
    p_values
        Any array-like of p-values in [0, 1] (any shape; adjusted jointly
        over all entries). NaN entries are allowed.
    method
        ``"fdr_bh"`` (Benjamini–Hochberg step-up; R ``"BH"``), ``"holm"``
        (Holm step-down), ``"bonferroni"`` or ``"none"``.

    Returns
    -------
    Adjusted p-values with the same shape as the input (a ``pd.Series``
    with the same index if a Series was given, else a float ndarray).
    NaN inputs stay NaN and are excluded from the number of tests ``m``.
    The result is invariant to the order of the inputs, and each adjusted
    value is >= its raw p-value and <= 1.

    Method
    ------
    With the m non-missing p-values sorted increasingly, p_(1) <= ... <= p_(m):

    * Holm: q_(i) = min(1, max_{k<=i} (m - k + 1) p_(k));
    * BH:   q_(i) = min(1, min_{k>=i} m / k * p_(k));
    * Bonferroni: q = min(1, m p).
    """
    canon = canonical_method(method)
    series_index = p_values.index if isinstance(p_values, pd.Series) else None
    name = p_values.name if isinstance(p_values, pd.Series) else None
    p = np.asarray(p_values, dtype=float)
    shape = p.shape
    flat = p.ravel()
    if np.any((flat < 0) | (flat > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    out = np.full(flat.shape, np.nan)
    ok = ~np.isnan(flat)
    pv = flat[ok]
    m = pv.size
    if m:
        if canon == "none":
            adj = pv.copy()
        elif canon == "bonferroni":
            adj = np.minimum(1.0, m * pv)
        elif canon == "holm":
            order = np.argsort(pv, kind="stable")
            i = np.arange(1, m + 1)
            stepped = np.maximum.accumulate((m - i + 1) * pv[order])
            adj = np.empty(m)
            adj[order] = np.minimum(1.0, stepped)
        else:  # fdr_bh
            order = np.argsort(pv, kind="stable")[::-1]  # decreasing p
            i = np.arange(m, 0, -1)  # rank of each p in increasing order
            stepped = np.minimum.accumulate(m / i * pv[order])
            adj = np.empty(m)
            adj[order] = np.minimum(1.0, stepped)
        out[ok] = adj
    out = out.reshape(shape)
    if series_index is not None:
        return pd.Series(out, index=series_index, name=name)
    return out
