"""kept_rows_of: the kept rows of an arrow-backed export, by slices when they form few runs, else by a filter."""

import numpy as np
import pandas as pd
import pytest

from pipeline.ingest.clean import MAX_SLICES, kept_rows_of

TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # what pipeline.ingest.read makes of a CSV column


def _export(n: int) -> pd.DataFrame:
    values = [f"answer {i}" for i in range(n)]
    return pd.DataFrame({"a": pd.array(values, dtype=TEXT),
                         "b": pd.array(values[::-1], dtype=TEXT)})


@pytest.mark.parametrize("pattern", ["all", "none", "first", "last", "few", "many", "alternate"])
def test_the_kept_rows_are_those_of_a_boolean_selection(pattern):
    n = 4 * MAX_SLICES + 10
    kept = np.ones(n, dtype=bool)
    rng = np.random.default_rng(7)
    if pattern == "none":
        kept[:] = False
    elif pattern == "first":
        kept[0] = False
    elif pattern == "last":
        kept[-1] = False
    elif pattern == "few":
        kept[rng.choice(n, 5, replace=False)] = False
    elif pattern == "many":
        kept[rng.choice(n, 2 * MAX_SLICES, replace=False)] = False
    elif pattern == "alternate":
        kept[::2] = False
    frame = _export(n)
    expected = frame.loc[kept, ["b", "a"]].reset_index(drop=True)
    got = kept_rows_of(frame, kept, ["b", "a"])
    assert got["a"].tolist() == expected["a"].tolist() and got["b"].tolist() == expected["b"].tolist()
    assert list(got.columns) == ["b", "a"] and len(got) == kept.sum()
    assert all(str(got[c].dtype) == str(frame[c].dtype) for c in got.columns)
