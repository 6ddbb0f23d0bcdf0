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
