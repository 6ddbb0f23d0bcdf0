"""Ingest of the tiny survey, every number counted by hand from tests/data/tiny/surveys/tiny/w1/responses.csv."""

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.errors import PulseError
from pipeline.ingest.clean import ingest
from pipeline.ingest.read import read_export
from pipeline.instrument import load


def run(project):
    instrument = load(project / "surveys" / "tiny" / "instrument.yaml")
    return ingest(read_export(project / "surveys" / "tiny" / "w1" / "responses.csv"), instrument)


def test_ledger_accounts_for_every_row_with_one_reason(tiny):
    result = run(tiny)
    ledger = result.ledger.set_index("row")
    assert list(ledger.index) == list(range(1, 9))
    assert ledger["line"].tolist() == list(range(2, 10))
    assert ledger.loc[[1, 5, 6, 8], "outcome"].eq("kept").all()
    assert ledger.loc[2, "reason"] == "duplicate_submission" and ledger.loc[2, "detail"] == "superseded by row 5"
    assert ledger.loc[3, "reason"] == "test_or_preview"
    assert ledger.loc[4, "reason"] == "no_consent"
    assert ledger.loc[7, "reason"] == "empty"
    assert result.summary == "8 rows in = 4 kept + 4 excluded"
    assert len(result.clean) == 4 and result.clean["row"].tolist() == [1, 5, 6, 8]


def test_statuses_keep_dont_know_blank_refused_and_not_asked_apart(tiny):
    clean = run(tiny).clean.set_index("row")
    assert clean["q1__status"].tolist() == ["valid", "valid", "dont_know", "valid"]
    assert clean["q3__status"].tolist() == ["valid", "not_asked", "valid", "blank"]
    assert clean["gender__status"].tolist() == ["valid", "valid", "valid", "refused"]
    assert clean["q1"].cat.ordered and clean["q1"].cat.categories.tolist() == ["Disagree", "Neutral", "Agree"]
    assert clean.loc[6, "q1"] is not None and pd.isna(clean.loc[6, "q1"])
    assert clean["field__tech"].tolist()[:3] == [True, False, True]
    assert clean["field__law"].tolist()[:3] == [False, True, True]
    assert pd.isna(clean.loc[8, "field__tech"])


def test_countries_and_derived_variables(tiny):
    result = run(tiny)
    clean = result.clean.set_index("row")
    assert clean["nationality"].tolist() == ["FRA;SEN", "USA", "NAM;SEN", "XXX"]
    assert clean["nationality_iso3"].tolist() == ["SEN", "USA", "NAM", "XXX"]
    assert clean["un_group"].astype(object).tolist() == ["African", "WEOG", "African", "Unknown"]
    assert clean["weog"].astype(object).tolist()[:3] == ["non-WEOG", "WEOG", "non-WEOG"]
    assert pd.isna(clean.loc[8, "weog"])
    assert clean["technical"].astype(object).tolist()[:3] == ["Technical", "Non-technical", "Technical"]
    assert clean.loc[8, "row"] if "row" in clean else True
    ledger = result.ledger.set_index("row")
    assert "unknown_country:residence=Atlantis" in ledger.loc[8, "flags"]
    assert len(result.warnings) == 1 and "'Atlantis'" in result.warnings[0] and "row" in result.warnings[0]


def test_recodes_count_every_recode(tiny):
    recodes = run(tiny).recodes
    def count(question, rule, exported=None):
        rows = recodes[(recodes.question == question) & (recodes.rule == rule)]
        if exported is not None:
            rows = rows[rows.value_exported == exported]
        return int(rows["count"].sum())
    assert count("gender", "alias", "Female") == 1
    assert count("q1", "alias", "agree") == 1 and count("q3", "alias", "agree") == 1
    assert count("residence", "unknown_country", "Atlantis") == 1
    assert count("nationality_iso3", "nationality_rule:residence") == 1      # row 1 lives in Senegal
    assert count("nationality_iso3", "nationality_rule:least_represented") == 1  # row 6: NAM (1) < SEN (2)
    assert count("nationality_iso3", "nationality_rule:single") == 1
    assert count("nationality_iso3", "nationality_rule:none") == 1


def test_missing_column_is_one_line_naming_file_and_column(tiny, capsys):
    path = tiny / "surveys" / "tiny" / "w1" / "responses.csv"
    path.write_text(path.read_text().replace(",Q4,", ",Q4b,", 1))
    code = main(["--root", str(tiny), "ingest", str(tiny / "surveys" / "tiny" / "w1")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and f"{path}: column 'Q4' is missing" in err and "'Q4b'" in err
    assert "Traceback" not in err
    assert not (tiny / "outputs").exists()


def test_label_outside_scale_names_row_column_and_value(tiny, capsys):
    path = tiny / "surveys" / "tiny" / "w1" / "responses.csv"
    path.write_text(path.read_text().replace(",Neutral,No,", ",Neutrall,No,", 1))
    code = main(["--root", str(tiny), "ingest", str(tiny / "surveys" / "tiny" / "w1")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"{path}: row 5 (line 6), column 'Q1': 'Neutrall' is not a label of scale 'agree'" in err
    assert "did you mean 'Neutral'" in err


def test_excluded_rows_are_not_checked_against_scales(tiny):
    path = tiny / "surveys" / "tiny" / "w1" / "responses.csv"
    path.write_text(path.read_text().replace("Preview,t3,yes,Agree", "Preview,t3,yes,Whatever", 1))
    assert run(tiny).summary == "8 rows in = 4 kept + 4 excluded"


def test_debug_shows_the_traceback(tiny):
    path = tiny / "surveys" / "tiny" / "w1" / "responses.csv"
    path.write_text(path.read_text().replace(",Q4,", ",Q4b,", 1))
    with pytest.raises(PulseError):
        main(["--root", str(tiny), "--debug", "ingest", str(tiny / "surveys" / "tiny" / "w1")])


def test_run_writes_clean_ledger_recodes_and_prints_the_sum(tiny, capsys):
    assert main(["--root", str(tiny), "run"]) == 0
    out = capsys.readouterr().out
    assert "8 rows in = 4 kept + 4 excluded" in out
    folder = tiny / "outputs" / "tiny" / "w1"
    ledger = pd.read_csv(folder / "ledger.csv")
    assert len(ledger) == 8
    clean = pd.read_parquet(folder / "clean.parquet")
    assert clean["q1"].cat.ordered
    assert (ledger["outcome"] == "kept").sum() == len(clean)
