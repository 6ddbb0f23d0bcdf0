"""The bad-input corpus (tests/data/bad, expected outcomes in cases.yaml): every broken input ends in one
clear line with exit code 2 and no output, or in a successful run whose ledger lists the anomaly."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.cli import main

BAD = Path(__file__).parent.parent / "data" / "bad"
CASES = yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))


def test_the_corpus_has_at_least_25_cases():
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", sorted(CASES))
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
