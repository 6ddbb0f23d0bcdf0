"""Read a raw survey export (CSV, XLSX or SPSS .sav) into a frame of text cells.

Every cell is returned as a Python `str` ("" for blank) so that no value is guessed at: codes such as
"NA" (Namibia) or "1.0" stay as written, and the recode step decides what each cell means.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import PulseError

ENCODINGS = ("utf-8", "cp1252")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")


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


def detect_encoding(raw: bytes) -> str:
    """The text encoding of a CSV: a BOM decides; else UTF-8 if it decodes; else cp1252."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ENCODINGS:
        try:
            raw.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
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


def parse_csv_text(text: str, delimiter: str, path: Path) -> pd.DataFrame:
    """Text cells of a CSV document with pyarrow's parser: every column read as text, no value read as
    missing, quoted newlines allowed, and a row with too many or too few fields an error naming its line."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = next(csv.reader([text.split("\n", 1)[0].rstrip("\r")], delimiter=delimiter))
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise PulseError(f"{path}: column name(s) {', '.join(map(repr, repeated))} appear more than once in the "
                         f"header; rename them in the export")
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                 null_values=[]),
        )
    except pa.ArrowInvalid:
        ragged = _ragged_line(text, delimiter)
        if ragged:
            line, found, expected = ragged
            raise PulseError(f"{path}: line {line} has {found} fields but the header has {expected}; fix the row "
                             f"(an unquoted delimiter in an answer?) or export again") from None
        raise PulseError(f"{path}: cannot read as CSV; check the delimiter and quoting") from None
    return table.to_pandas()


def read_csv_export(path: Path) -> Export:
    """A CSV export as text cells; the encoding and delimiter are detected, not assumed."""
    raw = path.read_bytes()
    if not raw.strip():
        raise PulseError(f"{path}: the file is empty; export the survey responses again")
    try:
        encoding = detect_encoding(raw)
    except UnicodeDecodeError:
        raise PulseError(f"{path}: cannot tell the text encoding; save the export as UTF-8 CSV") from None
    text = raw.decode(encoding).lstrip("\ufeff").replace("\r\n", "\n")
    delimiter = detect_delimiter(text.split("\n", 1)[0])
    return Export(_as_text(parse_csv_text(text, delimiter, path)), path, encoding, delimiter, first_line=2)


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
