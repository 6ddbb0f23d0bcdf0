"""Integer codes of a column against a given level order, without per-respondent Python work."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def level_codes(series: pd.Series, levels: Sequence[object]) -> np.ndarray:
    """Each value's position in `levels` as int64, -1 when missing or not one of the levels.

    Values match levels by equality, as `pd.Categorical(series.astype(object), categories=levels)` does.
    Only the distinct values are looked up (a categorical column's categories, else the values found by
    `pd.factorize`); the respondents are then mapped with one array take. `levels` must be distinct.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        distinct = series.cat.categories
        inverse = series.cat.codes.to_numpy()
    else:
        inverse, distinct = pd.factorize(series, use_na_sentinel=True)
    lookup = pd.Index(list(levels), dtype=object).get_indexer(pd.Index(distinct).astype(object))
    if np.array_equal(lookup, np.arange(len(lookup))):
        return inverse.astype(np.int64)
    return np.append(lookup, -1).astype(np.int64)[inverse]
