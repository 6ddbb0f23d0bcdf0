"""The bad-input corpus (tests/data/bad, expected outcomes in cases.yaml): every broken input ends in one
clear line with exit code 2 and no output, or in a successful run whose ledger lists the anomaly."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pytest
import yaml

from pipeline.cli import main

REPO = Path(__file__).parent.parent.parent
BAD = Path(__file__).parent.parent / "data" / "bad"
CASES = yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))
FILES = [name for name, case in CASES.items() if "generate" not in case]
GENERATED = [name for name, case in CASES.items() if "generate" in case]
OUTPUTS = {"DATA-STATUS.txt", "clean.parquet", "ledger.csv", "recodes.csv"}


def test_the_corpus_has_at_least_25_cases():
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", sorted(FILES))
def test_bad_input(tiny, name, capsys):
    expected = CASES[name]
    wave = tiny / "surveys" / "tiny" / "w1"
    if expected["export"]:
        shutil.copy(BAD / name / expected["export"], wave / "responses.csv")
    if (BAD / name / "instrument.yaml").exists():
        shutil.copy(BAD / name / "instrument.yaml", tiny / "surveys" / "tiny" / "instrument.yaml")
    code = main(["--root", str(tiny), "ingest", str(wave)])
    out, err = capsys.readouterr()
    assert code == expected["exit"], err
    assert "Traceback" not in err
    out_dir = tiny / "outputs" / "tiny" / "w1"
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("error: ") and expected["message"] in err, err
        assert not out_dir.exists()
        return
    ledger = pd.read_csv(out_dir / "ledger.csv", keep_default_na=False)
    clean = pd.read_parquet(out_dir / "clean.parquet")
    assert len(ledger) == (ledger["outcome"] == "kept").sum() + (ledger["outcome"] == "excluded").sum()
    assert len(clean) == expected["kept"] == (ledger["outcome"] == "kept").sum()
    for reason, count in expected.get("reasons", {}).items():
        assert (ledger["reason"] == reason).sum() == count, ledger
    if "flag" in expected:
        assert ledger["flags"].str.contains(expected["flag"], regex=False).any(), ledger
    if "warning" in expected:
        assert expected["warning"] in err


def _ingest_in_child(project: Path, wave: Path) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, peak RSS in MB) of `pulse ingest` run in a child process."""
    out, err = project / "stdout.txt", project / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--root", str(project), "ingest", str(wave)],
                                 cwd=REPO, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, out.read_text(), err.read_text(), usage.ru_maxrss // 1024


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_large_export(tmp_path, name):
    sys.path.insert(0, str(BAD))
    try:
        from big_export import write_big_export
    finally:
        sys.path.remove(str(BAD))
    expected = CASES[name]
    recipe = expected["generate"]
    source = REPO / recipe["wave"]
    survey = tmp_path / "surveys" / source.parent.name
    shutil.copytree(source.parent, survey)
    wave = survey / source.name
    export = wave / "responses.csv"
    rows, copies = write_big_export(source / "responses.csv", survey / "instrument.yaml", export,
                                    recipe["megabytes"], recipe.get("last_row"))
    assert export.stat().st_size >= recipe["megabytes"] * 1_000_000 and copies > 1
    code, out, err, peak_mb = _ingest_in_child(tmp_path, wave)
    assert code == expected["exit"], err
    assert "Traceback" not in err
    assert peak_mb < expected["peak_rss_mb"], f"peak RSS {peak_mb} MB"
    out_dir = tmp_path / "outputs" / survey.name / wave.name
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("error: ") and expected["message"] in err, err
        assert not out_dir.exists()
        return
    assert {p.name for p in out_dir.iterdir()} == OUTPUTS
    ledger = pacsv.read_csv(out_dir / "ledger.csv").to_pandas()
    outcome = ledger["outcome"].to_numpy()
    kept = int((outcome == "kept").sum())
    assert len(ledger) == rows == kept + int((outcome == "excluded").sum())
    assert f"{rows} rows in = {kept} kept + {rows - kept} excluded" in out
    per_copy = outcome.reshape(copies, rows // copies)
    assert (per_copy == per_copy[0]).all(), "a copy was screened differently from the first"
    assert pd.read_parquet(out_dir / "clean.parquet", columns=["row"])["row"].tolist() == \
        ledger.loc[outcome == "kept", "row"].tolist()
