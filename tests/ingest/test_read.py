"""The reader accepts the encodings, delimiters and file types survey tools produce, as text cells."""

import pandas as pd
import pytest

from pipeline.errors import PulseError
from pipeline.ingest.read import read_export

ROWS = [["id", "Q1", "D2"], ["R1", "Agree", "Côte d'Ivoire"], ["R2", "Don't know", "NA"]]


def csv_text(delimiter=","):
    return "\n".join(delimiter.join(f'"{c}"' if delimiter in c else c for c in row) for row in ROWS) + "\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings(tmp_path, encoding):
    path = tmp_path / "export.csv"
    path.write_bytes(csv_text().encode(encoding))
    frame = read_export(path).frame
    assert frame.columns.tolist() == ["id", "Q1", "D2"]
    assert frame["D2"].tolist() == ["Côte d'Ivoire", "NA"]


def test_semicolon_delimiter(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(csv_text(";"), encoding="utf-8")
    export = read_export(path)
    assert export.delimiter == ";" and export.frame["Q1"].tolist() == ["Agree", "Don't know"]


def test_namibia_is_not_missing(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(csv_text(), encoding="utf-8")
    assert read_export(path).frame.loc[1, "D2"] == "NA"


def test_xlsx(tmp_path):
    path = tmp_path / "export.xlsx"
    pd.DataFrame(ROWS[1:], columns=ROWS[0]).assign(n=[3, 4]).to_excel(path, index=False)
    frame = read_export(path).frame
    assert frame["D2"].tolist() == ["Côte d'Ivoire", "NA"] and frame["n"].tolist() == ["3", "4"]


def test_spss_value_labels(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    path = tmp_path / "export.sav"
    frame = pd.DataFrame({"id": ["R1", "R2"], "Q1": [1.0, 9.0]})
    pyreadstat.write_sav(frame, str(path), variable_value_labels={"Q1": {1.0: "Agree", 9.0: "Don't know"}})
    assert read_export(path).frame["Q1"].tolist() == ["Agree", "Don't know"]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file_is_one_clear_error(tmp_path, content):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(PulseError, match="the file is empty"):
        read_export(path)


def test_unsupported_type(tmp_path):
    path = tmp_path / "export.json"
    path.write_text("{}")
    with pytest.raises(PulseError, match="unsupported export type"):
        read_export(path)


def test_cells_are_stripped_as_python_strips_them():
    import sys

    import pyarrow as pa

    from pipeline.ingest.read import _stripped

    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    cells = [f"{c}x{c}" for c in chars]
    assert _stripped(pa.chunked_array([cells])).to_pylist() == [cell.strip() for cell in cells]


def test_crlf_line_ends_inside_and_outside_quoted_cells(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b'id,Q1\r\nR1,"two\r\nlines "\r\nR2, x\r\n')
    frame = read_export(path).frame
    assert frame["Q1"].tolist() == ["two\nlines", "x"] and frame["id"].tolist() == ["R1", "R2"]


def _random_answers(seed: int, rows: int, newlines: bool) -> list[list[str]]:
    import random

    rng = random.Random(seed)
    pieces = ["a", "word", ",", '"', '""', " ", "é", "x,y"] + (["\n", "two\nlines", "\n\n"] if newlines else [])
    return [[f"R{i}"] + ["".join(rng.choice(pieces) for _ in range(rng.randrange(6))).strip() for _ in range(3)]
            for i in range(rows)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("newlines", [True, False])
def test_parallel_blocks_read_quoted_text_as_the_csv_module_does(tmp_path, monkeypatch, seed, newlines):
    """Blocks of 256 bytes put many block edges inside quoted answers: the reader must notice each one
    (pyarrow's parser falls out of step with the cut) and read such files with quote-aware splitting."""
    import csv
    import io

    from pipeline.ingest import read

    answers = _random_answers(seed, 400, newlines)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([["id", "Q1", "Q2", "Q3"], *answers])
    path = tmp_path / "export.csv"
    path.write_text(text.getvalue() + 'R400,x"y,"z ""q"" ",plain\n', encoding="utf-8")
    calls = []
    monkeypatch.setattr(read, "READ_BLOCK", 256)
    original = read._read_arrow
    monkeypatch.setattr(read, "_read_arrow", lambda *a, **k: calls.append(k) or original(*a, **k))
    frame = read.read_export(path).frame
    assert frame.values.tolist() == [*answers, ["R400", 'x"y', 'z "q"', "plain"]]
    assert calls[0] == {"newlines_in_values": False}
    assert len(calls) == (2 if newlines else 1)


def test_utf8_check_agrees_with_python_decoder():
    """Valid and invalid byte sequences (truncated, overlong, surrogates, beyond U+10FFFF) judged alike."""
    from pipeline.ingest.read import _decodes

    samples = [b"", b"plain", "é€😀".encode(), b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
               b"\xe2\x82", b"\xff", b"ok\x80", "x\u2028y".encode(), b"\xef\xbb\xbfbom"]
    for sample in samples:
        try:
            sample.decode("utf-8")
            expected = True
        except UnicodeDecodeError:
            expected = False
        assert _decodes(sample, "utf-8") is expected, sample
