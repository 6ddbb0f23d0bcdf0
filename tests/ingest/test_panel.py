"""Panel ids made at ingest: salted, stable per key, missing for blank keys; the ids `pipeline.trends` links by."""

import numpy as np
import pandas as pd
import pytest

from pipeline.ingest.panel import panel_ids
from pipeline import trends


def test_panel_ids_are_salted_and_stable():
    keys = pd.Series(["46ZY5UB75HM2", "", " 46ZY5UB75HM2 ", None, "Ünïcode", "46ZY5UB75HM2"], dtype=object, index=[5, 3, 1, 0, 2, 4])
    ours = panel_ids(keys, "salt-1")
    assert ours.index.equals(keys.index) and ours.name == trends.PANEL_ID
    assert ours.iloc[0] == ours.iloc[2] and ours.iloc[1] is None and ours.iloc[3] is None
    assert np.all(ours.iloc[[0, 4]] != panel_ids(keys, "salt-2").iloc[[0, 4]])
    with pytest.raises(ValueError):
        panel_ids(keys, "")
