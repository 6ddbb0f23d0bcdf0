"""Panel linking ids: a salted hash of each respondent's invitation key, computed at ingest."""

from __future__ import annotations

import hashlib
from functools import partial

import numpy as np
import pandas as pd

PANEL_ID = "panel_id"
FORK_FROM = 200_000


def _digests(keys, salt: bytes) -> bytes:
    """The first 8 bytes of sha256(salt + key) for each key of a pyarrow binary array (no nulls), concatenated."""
    sha256 = hashlib.sha256
    return b"".join([sha256(salt + key).digest()[:8] for key in keys.to_pylist()])


def panel_ids(keys: pd.Series, salt: str) -> pd.Series:
    """The linking id of each respondent: the first 16 hex digits of sha256(salt + key), or missing for a blank key.

    `keys` are the raw values of the instrument's `export.duplicate_key` (e.g. invitation tokens), stripped of
    surrounding whitespace and encoded as UTF-8; the key itself is never returned. The same salt must be used for
    every wave of a survey, and kept out of the repository. From FORK_FROM keys the hashing is shared among
    forked processes (`pipeline.parallel.forked_map`). `pipeline.trends` links waves by these ids.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from pipeline.parallel import forked_map, workers

    if not salt:
        raise ValueError("panel_ids needs a non-empty salt")
    text = pc.utf8_trim_whitespace(pa.array(keys.astype("string"), type=pa.large_string(), from_pandas=True))
    present = pc.greater(pc.binary_length(text), 0).fill_null(False)
    values = text.filter(present).cast(pa.large_binary())
    parts = workers(len(values) // FORK_FROM)
    bounds = np.linspace(0, len(values), parts + 1).astype(int)
    hashed = partial(_digests, salt=salt.encode("utf-8"))
    digests = b"".join(forked_map([(hashed, values.slice(a, b - a)) for a, b in zip(bounds[:-1], bounds[1:])]))
    count = len(digests) // 8
    offsets = pa.py_buffer(np.arange(0, 16 * count + 1, 16, dtype=np.int64))
    hexes = pa.Array.from_buffers(pa.large_string(), count, [None, offsets, pa.py_buffer(digests.hex().encode("ascii"))])
    ids = np.full(len(keys), None, dtype=object)
    ids[present.to_numpy(zero_copy_only=False)] = hexes.to_numpy(zero_copy_only=False)
    return pd.Series(ids, index=keys.index, name=PANEL_ID, dtype=object)
