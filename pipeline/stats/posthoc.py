"""Post-hoc pairwise comparisons after a Kruskal–Wallis test.

Public function
---------------
dunn_from_counts   Dunn's (1964) z-tests for all pairs of groups, from a
                   groups x ordered-levels count table, with tie correction
                   and multiplicity adjustment.

References
----------
Dunn, O. J. (1964). Multiple comparisons using rank sums. Technometrics 6,
241–252.
Glantz, S. A. (2012). Primer of Biostatistics, 7th ed. (tie correction of
the variance term).
"""

from __future__ import annotations

from itertools import combinations
from typing import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from pipeline.stats.multiplicity import adjust, canonical_method


def dunn_from_counts(
    table: npt.ArrayLike,
    group_labels: Sequence[object] | None = None,
    p_adjust: str = "holm",
) -> pd.DataFrame:
    """Dunn's pairwise z-tests on mean ranks, from counts per ordered level: the columns of
    :func:`dunn_columns` as a DataFrame."""
    return pd.DataFrame(dunn_columns(table, group_labels, p_adjust))


def dunn_columns(
    table: npt.ArrayLike,
    group_labels: Sequence[object] | None = None,
    p_adjust: str = "holm",
) -> dict[str, np.ndarray]:
    """Dunn's pairwise z-tests on mean ranks, from counts per ordered level, as equal-length column arrays.

    Parameters
    ----------
    table
        k x L array of counts: row i is group i, columns are the levels in
        increasing order.
    group_labels
        Names of the k groups (default ``0 .. k-1``).
    p_adjust
        Adjustment over all k (k - 1) / 2 pairs: ``"holm"`` (default),
        ``"fdr_bh"`` (alias ``"BH"``), ``"bonferroni"`` or ``"none"``
        (see :func:`pipeline.stats.multiplicity.adjust`).

    Returns
    -------
    Columns of a long table, one row per pair (i < j in table order):
    ``group_a, group_b, n_a, n_b, mean_rank_a, mean_rank_b, z, p_value,
    p_adjusted, p_adjust_method``.

    Method
    ------
    Ranks are midranks over all N respondents (computed from the level
    totals). For groups a and b,
    z = (Rbar_a - Rbar_b) / sqrt((N (N + 1) / 12 - sum(t^3 - t) /
    (12 (N - 1))) (1 / n_a + 1 / n_b)),
    where t runs over the level totals (ties). z > 0 means group a tends to
    higher levels. p is two-sided normal; ``p_adjusted`` is adjusted over
    all pairs. Groups with no respondents are kept in the output with NaN
    (they are not counted in N, in the number of pairs adjusted for, nor
    anywhere else). If all answers are tied, z and p are NaN.
    """
    method = canonical_method(p_adjust)
    tab = np.asarray(table, dtype=float)
    if tab.ndim != 2:
        raise ValueError(f"table must be 2-dimensional, got shape {tab.shape}")
    if np.any(np.isnan(tab)) or np.any(tab < 0) or np.any(tab != np.round(tab)):
        raise ValueError("table must hold non-negative whole counts")
    k = tab.shape[0]
    labels = list(range(k)) if group_labels is None else list(group_labels)
    if len(labels) != k:
        raise ValueError(f"{len(labels)} group labels for {k} groups")

    sizes = tab.sum(axis=1)
    totals = tab.sum(axis=0)
    n = float(totals.sum())
    ranks = np.cumsum(totals) - (totals - 1.0) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_ranks = np.where(sizes > 0, tab @ ranks / np.where(sizes > 0, sizes, 1.0), np.nan)
    t = totals
    tie_sum = float(np.sum(t**3 - t))
    base = n * (n + 1.0) / 12.0 - (tie_sum / (12.0 * (n - 1.0)) if n > 1 else 0.0)

    pairs = list(combinations(range(k), 2))
    ia = np.array([p[0] for p in pairs], dtype=int)
    ib = np.array([p[1] for p in pairs], dtype=int)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = base * (1.0 / sizes[ia] + 1.0 / sizes[ib])
        z = np.where((var > 0) & np.isfinite(var),
                     (mean_ranks[ia] - mean_ranks[ib]) / np.sqrt(np.where(var > 0, var, 1.0)),
                     np.nan)
    p = 2.0 * stats.norm.sf(np.abs(z))
    group_a, group_b = np.empty(len(pairs), dtype=object), np.empty(len(pairs), dtype=object)
    group_a[:], group_b[:] = [labels[i] for i in ia], [labels[j] for j in ib]
    return {
        "group_a": group_a,
        "group_b": group_b,
        "n_a": sizes[ia].astype(np.int64),
        "n_b": sizes[ib].astype(np.int64),
        "mean_rank_a": mean_ranks[ia],
        "mean_rank_b": mean_ranks[ib],
        "z": z,
        "p_value": p,
        "p_adjusted": adjust(p, method=method),
        "p_adjust_method": np.full(len(pairs), method, dtype=object),
    }
