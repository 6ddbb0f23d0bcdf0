"""Writing outputs: atomically (temporary file, then rename) and deterministically (fixed line ends, row order)."""

from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` that replaces it only if the block finishes without error.

    The file gets the permissions an ordinary write would (0666 less the umask), not mkstemp's 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _umask() -> int:
    """The process's umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


FORMULA_CHARACTERS = ["=", "+", "-", "@", "\t", "\r"]
FORMULA_START = re.compile("^[" + re.escape("".join(FORMULA_CHARACTERS)) + "]")
NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
NUMBER_RE2 = NUMBER.pattern.replace("\\Z", "$")


def neutralise_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula (it starts with =, +, -, @, tab or carriage
    return; OWASP CSV injection), made inert by a leading apostrophe; numbers and other cells unchanged."""
    if isinstance(value, str) and FORMULA_START.match(value) and not NUMBER.match(value):
        return "'" + value
    return value


def neutralise_column(column: pd.Series) -> pd.Series:
    """`column` with `neutralise_cell` applied to every cell; columns holding only text (and missing values) are
    checked by pyarrow over the whole column at once (first character, then RE2 for numbers on the few cells
    that start like a formula), so the cost does not grow with Python calls per cell."""
    if pd.api.types.infer_dtype(column, skipna=True) not in ("string", "empty"):
        return column.map(neutralise_cell)
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.array(column, type=pa.large_string(), from_pandas=True)
    starts = pc.is_in(pc.utf8_slice_codeunits(values, 0, 1), value_set=pa.array(FORMULA_CHARACTERS)).fill_null(False)
    if not pc.any(starts).as_py():
        return column
    risky = pc.and_(starts, pc.invert(pc.match_substring_regex(values, NUMBER_RE2))).fill_null(False)
    if not pc.any(risky).as_py():
        return column
    mask = risky.to_numpy(zero_copy_only=False)
    out = column.copy()
    out[mask] = "'" + column[mask].astype(str)
    return out


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text column passed through `neutralise_column` (numeric columns untouched)."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = neutralise_column(frame[column])
    return frame


QUOTED_CHARACTERS = (b'"', b",", b"\r", b"\n")


def _needs_quotes(text) -> bool:
    """Whether a pyarrow text array may hold a character that CSV must quote (looked for in its data buffers,
    which may also hold bytes outside a slice: then the answer is a harmless yes)."""
    import pyarrow as pa

    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        data = chunk.buffers()[2]
        if data is not None and any(character in data.to_pybytes() for character in QUOTED_CHARACTERS):
            return True
    return False


def _plain_table(frame: pd.DataFrame):
    """`frame` as a pyarrow table when pyarrow's unquoted CSV is byte for byte what pandas writes: two or more
    columns, each of integers or of text (missing cells allowed) in which no cell or column name holds a quote,
    comma, carriage return or line feed; else None."""
    import pyarrow as pa

    if frame.shape[1] < 2 or _needs_quotes(pa.array([str(name) for name in frame.columns], type=pa.large_string())):
        return None
    columns = []
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_integer_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
            if values.isna().any():
                return None
            columns.append(pa.array(values.to_numpy()))
            continue
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            return None
        text = pa.array(values, type=pa.large_string(), from_pandas=True)
        if _needs_quotes(text):
            return None
        columns.append(text)
    return pa.table(columns, names=[str(name) for name in frame.columns])


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A CSV with LF line ends, no index, UTF-8, floats at full precision, formula-like text made inert.
    Every CSV under outputs/ is written by this function. Frames of integers and text needing no quotes (the
    ledger) are written by pyarrow, others by pandas; both give the same bytes (tests/test_outputs.py)."""
    import pyarrow.csv as pacsv

    frame = neutralise(frame)
    table = _plain_table(frame)
    with atomic_path(path) as temporary:
        if table is None:
            frame.to_csv(temporary, index=False, lineterminator="\n", encoding="utf-8")
        else:
            pacsv.write_csv(table, temporary, write_options=pacsv.WriteOptions(quoting_style="none", quoting_header="none"))


def write_parquet(frame: pd.DataFrame, path: Path, metadata: dict[str, str] | None = None) -> None:
    """A Parquet file (pyarrow, zstd) keeping categoricals and their order, with extra key-value metadata and no
    column statistics (nothing here filters row groups by them; at a million rows they cost a third of the write)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata:
        table = table.replace_schema_metadata({**table.schema.metadata, **{k.encode(): v.encode() for k, v in metadata.items()}})
    with atomic_path(path) as temporary:
        pq.write_table(table, temporary, compression="zstd", write_statistics=False)


def write_text(text: str, path: Path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8", newline="\n")
