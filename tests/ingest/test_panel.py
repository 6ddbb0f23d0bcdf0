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


def test_panel_id_is_the_start_of_sha256_of_salt_and_key():
    """FIPS 180-2's example: sha256("abc") = ba7816bf 8f01cfea ..., here as salt "a" and key " bc "."""
    assert panel_ids(pd.Series([" bc "]), "a").tolist() == ["ba7816bf8f01cfea"]


def test_forked_hashing_gives_the_serial_ids(monkeypatch):
    import hashlib

    from pipeline.ingest import panel

    keys = pd.Series([f"K{i}" if i % 7 else "" for i in range(50)])
    monkeypatch.setattr(panel, "FORK_FROM", 4)
    monkeypatch.setenv("PULSE_WORKERS", "3")
    expected = [hashlib.sha256(f"s{k}".encode()).hexdigest()[:16] if k else None for k in keys]
    assert panel_ids(keys, "s").tolist() == expected
