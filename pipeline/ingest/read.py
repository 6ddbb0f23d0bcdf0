"""Read a raw survey export (CSV, XLSX or SPSS .sav) into a frame of text cells.

Every cell is returned as text ("" for blank) so that no value is guessed at: codes such as "NA" (Namibia)
or "1.0" stay as written, and the recode step decides what each cell means. CSV columns stay arrow-backed
pandas `str` columns (no Python object per cell); XLSX and SPSS columns are object columns of `str`.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.errors import PulseError

ENCODINGS = ("utf-8", "cp1252")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
READ_BLOCK = 1 << 20
DECODE_CHUNK = 1 << 24


@dataclass(frozen=True)
class Export:
    """A raw export as text cells, with where its data rows start in the file.

    `first_line` is the 1-based line (CSV) or sheet row (XLSX) of the first data row; row i of `frame`
    (0-based) is export row i + 1.
    """

    frame: pd.DataFrame
    path: Path
    encoding: str
    delimiter: str
    first_line: int


def _decodes(raw: bytes, encoding: str) -> bool:
    """Whether `raw` is valid text in `encoding`, checked in chunks so that no decoded copy is kept; UTF-8 is
    checked by pyarrow's validator, without decoding."""
    if encoding == "utf-8":
        offsets = pa.array([0, len(raw)], type=pa.int64()).buffers()[1]
        try:
            pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(raw)]).validate(full=True)
        except pa.ArrowInvalid:
            return False
        return True
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(raw)
    try:
        for start in range(0, len(raw), DECODE_CHUNK):
            decoder.decode(view[start:start + DECODE_CHUNK], final=start + DECODE_CHUNK >= len(raw))
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(raw: bytes) -> str:
    """The text encoding of a CSV: a BOM decides; else UTF-8 if it decodes; else cp1252."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ENCODINGS:
        if _decodes(raw, encoding):
            return encoding
    raise UnicodeDecodeError("cp1252", raw, 0, 1, "undecodable")


def detect_delimiter(header: str) -> str:
    """`,`, `;` or tab: whichever splits the header line into the most fields outside quotes."""
    counts = {d: len(next(csv.reader([header], delimiter=d))) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _ragged_line(text: str, delimiter: str) -> tuple[int, int, int] | None:
    """(line number, fields found, fields in the header) of the first data row whose field count differs
    from the header's, or None."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    expected = len(next(reader))
    for fields in reader:
        if fields and len(fields) != expected:
            return reader.line_num, len(fields), expected
    return None


def _read_arrow(data: bytes, delimiter: str, names: list[str], newlines_in_values: bool) -> pa.Table:
    """Every column of `data` as text, no value read as missing; blocks are parsed on all cores."""
    import pyarrow.csv as pacsv

    return pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(block_size=READ_BLOCK),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=newlines_in_values),
        convert_options=pacsv.ConvertOptions(column_types={name: pa.large_string() for name in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False,
                                             null_values=[]),
    )


def parse_csv_bytes(data: bytes, delimiter: str, path: Path) -> pa.Table:
    """Text cells of a UTF-8 CSV document (no BOM, LF or CRLF line ends) with pyarrow's parser: every column
    read as text, no value read as missing, quoted newlines allowed, and a row with too many or too few
    fields an error naming its line.

    The parser itself reads quoted newlines either way; `newlines_in_values` only makes pyarrow's splitting
    of the file into blocks aware of quotes, and serial. So the blocks are first cut at every newline, in
    parallel; when a cut falls inside a quoted answer, pyarrow finds the parser out of step with the cut and
    fails, and the file is read again with quote-aware splitting (tests/ingest/test_read.py compares both on
    random quoted text)."""
    end = data.find(b"\n")
    header = (data if end < 0 else data[:end]).decode("utf-8").rstrip("\r")
    names = next(csv.reader([header], delimiter=delimiter))
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise PulseError(f"{path}: column name(s) {', '.join(map(repr, repeated))} appear more than once in the "
                         f"header; rename them in the export")
    try:
        return _read_arrow(data, delimiter, names, newlines_in_values=False)
    except pa.ArrowInvalid:
        pass
    try:
        return _read_arrow(data, delimiter, names, newlines_in_values=True)
    except pa.ArrowInvalid:
        text = data.decode("utf-8", errors="replace")
        ragged = _ragged_line(text, delimiter)
        if ragged:
            line, found, expected = ragged
            raise PulseError(f"{path}: line {line} has {found} fields but the header has {expected}; fix the row "
                             f"(an unquoted delimiter in an answer?) or export again") from None
        raise PulseError(f"{path}: cannot read as CSV; check the delimiter and quoting") from None


def _utf8_document(raw: bytes, encoding: str) -> bytes:
    """The CSV as UTF-8 bytes without byte-order marks and with LF line ends. A UTF-8 file is only copied
    when it has a BOM or CRLF line ends; other encodings are decoded and encoded again."""
    if encoding not in ("utf-8", "utf-8-sig"):
        return raw.decode(encoding).lstrip("\ufeff").replace("\r\n", "\n").encode("utf-8")
    start = 0
    while raw.startswith(codecs.BOM_UTF8, start):
        start += len(codecs.BOM_UTF8)
    data = raw[start:] if start else raw
    return data.replace(b"\r\n", b"\n") if b"\r" in data and b"\r\n" in data else data


def _stripped(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column with every cell stripped of leading and trailing whitespace as `str.strip()` does (arrow's
    Unicode whitespace is Python's: tests/ingest/test_read.py checks every code point)."""
    import pyarrow.compute as pc

    return pc.utf8_trim_whitespace(column)


def _stripped_frame(columns: list[pa.ChunkedArray], names: list[str]) -> pd.DataFrame:
    """A frame of pandas `str` columns (arrow-backed, never Python objects) from text columns, every cell and
    name stripped of leading and trailing whitespace, the columns stripped side by side on a pool of threads.
    The list is emptied, so that each original column is freed as soon as its stripped copy exists."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(pa.cpu_count()) as pool:
        futures = [pool.submit(_stripped, columns.pop(0)) for _ in range(len(columns))]
    return pa.table([future.result() for future in futures], names=[str(name).strip() for name in names]).to_pandas()


def read_csv_export(path: Path) -> Export:
    """A CSV export as text cells; the encoding and delimiter are detected, not assumed."""
    raw = path.read_bytes()
    if not raw or raw.isspace():
        raise PulseError(f"{path}: the file is empty; export the survey responses again")
    try:
        encoding = detect_encoding(raw)
    except UnicodeDecodeError:
        raise PulseError(f"{path}: cannot tell the text encoding; save the export as UTF-8 CSV") from None
    data = _utf8_document(raw, encoding)
    del raw
    end = data.find(b"\n")
    delimiter = detect_delimiter((data if end < 0 else data[:end]).decode("utf-8"))
    table = parse_csv_bytes(data, delimiter, path)
    del data
    names, columns = table.column_names, table.columns
    del table
    return Export(_stripped_frame(columns, names), path, encoding, delimiter, first_line=2)


def read_excel_export(path: Path) -> Export:
    """The first sheet of an XLSX export as text cells (numbers written as they display, e.g. 3 not 3.0)."""
    frame = pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl", keep_default_na=False, na_filter=False)
    return Export(_as_text(frame), path, "xlsx", "", first_line=2)


def read_spss_export(path: Path) -> Export:
    """An SPSS .sav export with value labels applied and user-missing codes kept (as their labels)."""
    import pyreadstat

    frame, _meta = pyreadstat.read_sav(str(path), apply_value_formats=True, user_missing=True)
    return Export(_as_text(frame), path, "sav", "", first_line=1)


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    return str(value)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_string_dtype(values) or values.isna().any():
            values = values.map(_cell_text)
        frame[column] = values.astype(str).str.strip().astype(object)
    return frame.reset_index(drop=True)


def read_export(path: str | Path) -> Export:
    """The raw export at `path` as text cells, by file type; a missing or unreadable file is a PulseError."""
    path = Path(path)
    if not path.exists():
        raise PulseError(f"{path}: export not found; put the survey tool's export there or fix `export` in wave.yaml")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv_export(path)
    if suffix in (".xlsx", ".xlsm"):
        return read_excel_export(path)
    if suffix == ".sav":
        return read_spss_export(path)
    raise PulseError(f"{path}: unsupported export type {suffix!r}; use CSV, XLSX or SPSS .sav")
