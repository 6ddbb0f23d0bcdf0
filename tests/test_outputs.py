"""Output writers: formula-like text made inert, numbers kept, files replaced atomically."""

import pandas as pd
import pytest

from pipeline.outputs import atomic_path, neutralise_cell, write_csv


@pytest.mark.parametrize("cell,expected", [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("@SUM(1+1)", "'@SUM(1+1)"), ("-2+3+cmd", "'-2+3+cmd"), ("\tx", "'\tx"), ("-1.5", "-1.5"), ("+3", "+3"),
    ("1e-5", "1e-5"), ("Women", "Women"), ("", ""), (3.0, 3.0),
])
def test_neutralise_cell(cell, expected):
    assert neutralise_cell(cell) == expected


def test_write_csv_neutralises_text_and_keeps_numbers(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(pd.DataFrame({"text": ["=1+1", "ok"], "value": [-1.5, 2.0]}), path)
    assert path.read_text() == "text,value\n'=1+1,-1.5\nok,2.0\n"


def test_failed_write_leaves_the_previous_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as temporary:
            temporary.write_text("half")
            raise RuntimeError("stage failed")
    assert path.read_text() == "old" and list(tmp_path.iterdir()) == [path]


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    """A file written through a temporary path is readable like any other file (mkstemp makes 0600)."""
    import os

    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "out.txt") as temporary:
            temporary.write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o644


def test_column_check_agrees_with_the_cell_check():
    """The RE2 path over a whole text column gives exactly what `neutralise_cell` gives cell by cell, on the edge
    cases where Python's and RE2's regex dialects could differ (non-ASCII digits, a final newline, empty cells)."""
    import random

    import pandas as pd

    from pipeline.outputs import neutralise_column

    pieces = ["=", "+", "-", "@", "\t", "\r", "1", "٣", ".", "e", "E", "5", "\n", " ", "a", "'", "é", "SUM(", ""]
    rng = random.Random(7)
    cells = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 5))) for _ in range(5000)]
    cells += ["-5\n", "+٣", "=1+1", "-1.5e3", "-.5", "@x", None]
    column = pd.Series(cells, dtype=object)
    expected = [neutralise_cell(c) for c in cells]
    assert neutralise_column(column).tolist() == expected
    assert neutralise_column(column.astype("str")).tolist()[:-1] == expected[:-1]


@pytest.mark.parametrize("seed", range(20))
def test_pyarrow_and_pandas_write_the_same_csv_bytes(tmp_path, seed):
    """Random frames of integers and text, some needing quotes (then pandas writes them): the file is what
    pandas alone writes."""
    import random

    from pipeline import outputs

    rng = random.Random(seed)
    pieces = ["a", "é", " ", "\t", "", "x y", "😀", "\u2028", "'", "=1", "-2", "0"] + ([",", '"', "\n", "\r"] if seed % 3 == 0 else [])
    rows = rng.randrange(1, 30)
    frame = pd.DataFrame({
        "n": [rng.randrange(-10**12, 10**12) for _ in range(rows)],
        "text": ["".join(rng.choice(pieces) for _ in range(rng.randrange(4))) for _ in range(rows)],
        "maybe": [rng.choice([None, "", "kept", " pad "]) for _ in range(rows)],
    })
    if seed % 2:
        frame["text"] = frame["text"].astype("str")
    path = tmp_path / "out.csv"
    write_csv(frame, path)
    expected = outputs.neutralise(frame).to_csv(index=False, lineterminator="\n", encoding="utf-8")
    assert path.read_bytes() == expected.encode("utf-8")
    quoted = any(set(cell or "") & set(',"\n\r') for cell in frame["text"])
    assert (outputs._plain_table(outputs.neutralise(frame)) is None) == quoted
