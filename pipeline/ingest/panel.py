"""Panel linking ids: a salted hash of each respondent's invitation key, computed at ingest."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

PANEL_ID = "panel_id"


def panel_ids(keys: pd.Series, salt: str) -> pd.Series:
    """The linking id of each respondent: the first 16 hex digits of sha256(salt + key), or missing for a blank key.

    `keys` are the raw values of the instrument's `export.duplicate_key` (e.g. invitation tokens); the key itself is
    never returned. The same salt must be used for every wave of a survey, and kept out of the repository. Each
    distinct key is hashed once. `pipeline.trends` links waves by these ids.
    """
    if not salt:
        raise ValueError("panel_ids needs a non-empty salt")
    text = keys.astype("string").str.strip()
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    digests = np.array([hashlib.sha256((salt + key).encode("utf-8")).hexdigest()[:16] if key else None
                        for key in uniques.tolist()] + [None], dtype=object)
    return pd.Series(digests[codes], index=keys.index, name=PANEL_ID, dtype=object)
