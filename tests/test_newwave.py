"""Adding a wave: `check_export` names every problem of a new export in one line, and nothing for a clean one;
`create_wave` makes the wave folder and lists the wave in params.yaml without touching anything else."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from pipeline.errors import PulseError
from pipeline.instrument import load
from pipeline.newwave import add_to_params, check_export, create_wave
from pipeline.project import Wave

REPO = Path(__file__).resolve().parents[1]
SURVEY = REPO / "surveys" / "risk-pulse"


@pytest.fixture(scope="module")
def instrument():
    return load(SURVEY / "instrument.yaml")


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(SURVEY / "2024-08" / "responses.csv", dtype=str, keep_default_na=False)


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("wave", ["2024-05", "2024-08", "2024-11"])
def test_the_bundled_exports_are_clean(instrument, wave):
    assert check_export(SURVEY / wave / "responses.csv", instrument) == []


def test_extra_header_rows_are_not_answers(instrument, raw, tmp_path):
    texts = pd.DataFrame([{c: f"Question text of {c}" for c in raw.columns},
                          {c: '{"ImportId":"' + c + '"}' for c in raw.columns}])
    texts.loc[0, "ResponseId"], texts.loc[1, "ResponseId"] = "Response ID", '{"ImportId":"_recordId"}'
    assert check_export(write(pd.concat([texts, raw]), tmp_path / "qualtrics.csv"), instrument) == []


def test_a_renamed_column_is_one_line_naming_both_names_and_the_fix(instrument, raw, tmp_path):
    path = write(raw.rename(columns={"Q5_j": "Q5_J"}), tmp_path / "renamed.csv")
    lines = check_export(path, instrument)
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith(f"{path}: column 'Q5_j' (question harm_j) is missing; the export has 'Q5_J'")
    assert "Rename it back to 'Q5_j'" in line and "set questions[harm_j].column to 'Q5_J'" in line


def test_a_renamed_column_is_found_by_its_answers_when_the_name_is_unlike(instrument, raw, tmp_path):
    path = write(raw.rename(columns={"Q4": "change_3m"}), tmp_path / "renamed.csv")
    [line] = check_export(path, instrument)
    assert "column 'Q4' (question concern_change) is missing; the export has 'change_3m'" in line


def test_a_missing_column_without_a_candidate(instrument, raw, tmp_path):
    [line] = check_export(write(raw.drop(columns=["Q4"]), tmp_path / "dropped.csv"), instrument)
    assert "column 'Q4' (question concern_change) is missing and no other column looks like it" in line


def test_a_new_answer_option_is_one_line_naming_column_value_and_fix(instrument, raw, tmp_path):
    frame = raw.copy()
    frame.loc[[4, 9], "Q3"] = "Extremely concerned"
    path = write(frame, tmp_path / "option.csv")
    [line] = check_export(path, instrument)
    assert line.startswith(f"{path}: column 'Q3' (scale 'concern'), value 'Extremely concerned' "
                           f"(2 answers, first on line 6) is not an answer option (did you mean 'Very concerned'?)")
    assert "Add it to scales.concern.levels" in line and "aliases" in line


def test_a_new_choice_of_a_multi_select_question(instrument, raw, tmp_path):
    frame = raw.copy()
    frame.loc[3, "D5"] = "Technical (training/developing AI); Economics"
    [line] = check_export(write(frame, tmp_path / "multi.csv"), instrument)
    assert "column 'D5' (scale 'field'), value 'Economics' (1 answer, first on line 5) is not an answer option" in line


def test_a_changed_label_is_one_line_for_every_column_of_the_scale(instrument, raw, tmp_path):
    frame = raw.copy()
    harms = [f"Q5_{x}" for x in "abcdefghijklmn"]
    frame[harms] = frame[harms].replace("Concerned", "Quite concerned")
    [line] = check_export(write(frame, tmp_path / "relabelled.csv"), instrument)
    assert ("columns 'Q5_a', 'Q5_b', 'Q5_c', 'Q5_d', 'Q5_e', 'Q5_f' and 8 more (scale 'concern'), "
            "value 'Quite concerned'") in line
    assert "replaces the label 'Concerned', which no row uses: the scale's labels changed?" in line


def test_a_changed_consent_wording(instrument, raw, tmp_path):
    frame = raw.assign(Consent=raw["Consent"].replace("I agree", "I consent"))
    [line] = check_export(write(frame, tmp_path / "consent.csv"), instrument)
    assert "column 'Consent' (export.consent): no row has an accepted value ('I agree')" in line
    assert "'I consent'" in line


def test_unreadable_and_empty_exports(instrument, raw, tmp_path):
    [missing] = check_export(tmp_path / "nothing.csv", instrument)
    assert "nothing.csv: export not found" in missing
    [empty] = check_export(write(raw.iloc[:0], tmp_path / "empty.csv"), instrument)
    assert "no response rows" in empty


# ---------------------------------------------------------------------------------------------
# create_wave and params.yaml
# ---------------------------------------------------------------------------------------------


def test_create_wave_makes_the_folder_copies_the_export_and_lists_the_wave(tmp_path):
    (tmp_path / "surveys").mkdir()
    (tmp_path / "surveys" / "risk-pulse").mkdir()
    for name in ("instrument.yaml",):
        (tmp_path / "surveys" / "risk-pulse" / name).write_bytes((SURVEY / name).read_bytes())
    params = "".join(line for line in (REPO / "params.yaml").read_text(encoding="utf-8").splitlines(True)
                     if not line.startswith(("  risk-pulse-2024-08:", "  risk-pulse-2024-11:")))
    (tmp_path / "params.yaml").write_text(params, encoding="utf-8")
    export = SURVEY / "2024-11" / "responses.csv"
    assert create_wave(tmp_path, "risk-pulse", "2024-11", export) == []
    wave = Wave(tmp_path, "risk-pulse", "2024-11")
    assert wave.export_path.read_bytes() == export.read_bytes()
    assert wave.meta == {"wave": "2024-11", "label": "November 2024",
                         "fielded": {"start": "2024-11-04", "end": "2024-11-29"}, "export": "responses.csv",
                         "synthetic": False,
                         "note": "Export responses.csv added with pulse new-wave."}
    after = (tmp_path / "params.yaml").read_text(encoding="utf-8")
    added = "  risk-pulse-2024-11: {survey: risk-pulse, wave: 2024-11}\n"
    assert after.replace(added, "") == params
    assert after.index(added) > after.index("opportunity-scan-2024-08")
    assert yaml.safe_load(after)["waves"]["risk-pulse-2024-11"] == {"survey": "risk-pulse", "wave": "2024-11"}


def test_create_wave_keeps_a_wave_with_problems_for_fixing_in_place(tiny, tmp_path):
    export = tiny / "surveys" / "tiny" / "w1" / "responses.csv"
    frame = pd.read_csv(export, dtype=str, keep_default_na=False).rename(columns={"Q1": "Q 1"})
    lines = create_wave(tiny, "tiny", "w2", write(frame, tmp_path / "new.csv"))
    assert len(lines) == 1 and "column 'Q1' (question q1) is missing; the export has 'Q 1'" in lines[0]
    assert (tiny / "surveys" / "tiny" / "w2" / "responses.csv").exists()
    assert yaml.safe_load((tiny / "params.yaml").read_text())["waves"] == {"tiny-w2": {"survey": "tiny", "wave": "w2"}}
    with pytest.raises(PulseError, match="already exists"):
        create_wave(tiny, "tiny", "w2", tmp_path / "new.csv")
    assert create_wave(tiny, "tiny", "w2", export, replace=True) == []
    assert (tiny / "params.yaml").read_text().count("tiny-w2") == 1


def test_create_wave_refuses_bad_input(tiny, tmp_path):
    export = tiny / "surveys" / "tiny" / "w1" / "responses.csv"
    with pytest.raises(PulseError, match="no such survey"):
        create_wave(tiny, "nosuch", "w2", export)
    with pytest.raises(PulseError, match="a wave name is"):
        create_wave(tiny, "tiny", "../w2", export)
    with pytest.raises(PulseError, match="export not found"):
        create_wave(tiny, "tiny", "w2", tmp_path / "missing.csv")
    assert not (tiny / "surveys" / "tiny" / "w2").exists()


def test_the_previous_wave_can_be_named_for_a_per_wave_trends_stage(tiny):
    export = tiny / "surveys" / "tiny" / "w1" / "responses.csv"
    create_wave(tiny, "tiny", "w2", export, previous=True)
    create_wave(tiny, "tiny", "w3", export, previous=True)
    waves = yaml.safe_load((tiny / "params.yaml").read_text())["waves"]
    assert waves == {"tiny-w2": {"survey": "tiny", "wave": "w2", "previous": "w2"},
                     "tiny-w3": {"survey": "tiny", "wave": "w3", "previous": "w2"}}


@pytest.mark.parametrize("text, expected", [
    ("", "waves:\n  s-w: {survey: s, wave: w}\n"),
    ("# head\nanalyze:\n  a: 1\n", "# head\nwaves:\n  s-w: {survey: s, wave: w}\nanalyze:\n  a: 1\n"),
    ("waves: {}  # none yet\nanalyze: {a: 1}", "waves:  # none yet\n  s-w: {survey: s, wave: w}\nanalyze: {a: 1}\n"),
    ("waves:\n    x-1: {survey: x, wave: '1'}   # first\n\n# other\nanalyze: {a: 1}\n",
     "waves:\n    x-1: {survey: x, wave: '1'}   # first\n    s-w: {survey: s, wave: w}\n\n# other\nanalyze: {a: 1}\n"),
])
def test_add_to_params_edits_text_only_where_needed(text, expected):
    assert add_to_params(text, "s", "w") == expected


def test_add_to_params_quotes_wave_names_yaml_would_change():
    text = add_to_params("", "s", "2024-08-15")
    assert yaml.safe_load(text)["waves"]["s-2024-08-15"]["wave"] == "2024-08-15"
    assert yaml.safe_load(add_to_params("", "s", "2024"))["waves"]["s-2024"]["wave"] == "2024"


def test_add_to_params_refuses_an_inline_waves_mapping_it_cannot_extend():
    with pytest.raises(PulseError, match="by hand"):
        add_to_params("waves: {a-1: {survey: a, wave: '1'}}\n", "s", "w")


def test_a_question_no_longer_asked_is_not_looked_for_and_dvc_yaml_is_regenerated(tiny, tmp_path):
    path = tiny / "surveys" / "tiny" / "instrument.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('text: "Any comment?"}', 'text: "Any comment?", until: w1}'), encoding="utf-8")
    assert load(path).question("comment").until == "w1"
    export = tiny / "surveys" / "tiny" / "w1" / "responses.csv"
    frame = pd.read_csv(export, dtype=str, keep_default_na=False).drop(columns=["Q4"])
    (tiny / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    assert create_wave(tiny, "tiny", "w2", write(frame, tmp_path / "new.csv")) == []
    assert "trend-report-tiny:" in (tiny / "dvc.yaml").read_text(encoding="utf-8")
    assert any("column 'Q4' (question comment) is missing" in line
               for line in check_export(tmp_path / "new.csv", load(path)))
