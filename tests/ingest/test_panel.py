"""Panel ids made at ingest are the ids `pipeline.trends` defines."""

import numpy as np
import pandas as pd
import pytest

from pipeline.ingest.panel import panel_ids
from pipeline.trends import panel_ids as trends_panel_ids


def test_panel_ids_are_the_trends_definition():
    keys = pd.Series(["46ZY5UB75HM2", "", " 46ZY5UB75HM2 ", None, "Ünïcode", "46ZY5UB75HM2"], dtype=object, index=[5, 3, 1, 0, 2, 4])
    ours, theirs = panel_ids(keys, "salt-1"), trends_panel_ids(keys, "salt-1")
    assert ours.index.equals(keys.index) and ours.name == theirs.name
    assert ours.tolist() == theirs.tolist()
    assert ours.iloc[0] == ours.iloc[2] and ours.iloc[1] is None and ours.iloc[3] is None
    assert np.all(ours.iloc[[0, 4]] != panel_ids(keys, "salt-2").iloc[[0, 4]])
    with pytest.raises(ValueError):
        panel_ids(keys, "")
