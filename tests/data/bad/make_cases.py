"""Writes the bad-input corpus: one folder per case, each a variant of the tiny survey's export or
instrument (tests/data/tiny), and cases.yaml with the expected outcome of each. Run from the repository
root: `python tests/data/bad/make_cases.py`. The files it writes are committed; this script is their recipe."""

import csv
import io
from pathlib import Path

import yaml

HERE = Path(__file__).parent
TINY = HERE.parent / "tiny" / "surveys" / "tiny"
EXPORT = (TINY / "w1" / "responses.csv").read_text(encoding="utf-8")
INSTRUMENT = (TINY / "instrument.yaml").read_text(encoding="utf-8")
LINES = EXPORT.splitlines()
HEADER, ROWS = LINES[0], LINES[1:]
CASES: dict[str, dict] = {}


def case(name: str, description: str, expect: dict, export: bytes | str | None = None, suffix: str = ".csv",
         instrument: str | None = None) -> None:
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    if export is not None:
        data = export.encode("utf-8") if isinstance(export, str) else export
        (folder / f"responses{suffix}").write_bytes(data)
    if instrument is not None:
        (folder / "instrument.yaml").write_text(instrument, encoding="utf-8")
    CASES[name] = {"description": description, "export": f"responses{suffix}" if export is not None else None, **expect}


def text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


ok = {"exit": 0}
case("cp1252", "Windows-1252 encoded export (Côte d'Ivoire, é)", {**ok, "kept": 4},
     export=text([HEADER, *ROWS]).replace("Senegal,Technical", "Côte d'Ivoire,Technical", 1).encode("cp1252"))
case("utf16", "UTF-16 export with BOM", {**ok, "kept": 4}, export=text([HEADER, *ROWS]).encode("utf-16"))
case("utf8_bom", "UTF-8 export with a byte-order mark", {**ok, "kept": 4},
     export=b"\xef\xbb\xbf" + text([HEADER, *ROWS]).encode("utf-8"))
def with_delimiter(delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(csv.reader(io.StringIO(EXPORT)))
    return buffer.getvalue()


case("semicolon", "semicolon-delimited export (European locale): cells holding ';' are quoted",
     {**ok, "kept": 4}, export=with_delimiter(";"))
case("qualtrics_three_header_rows", "Qualtrics export: question texts and ImportId rows under the header",
     {**ok, "kept": 4, "reasons": {"extra_header_row": 2}},
     export=text([HEADER, "Response ID,End Date,Response Type,External Data Reference,Consent,Do you agree?,"
                  "Expertise?,For lower-income?,Any comment?,Gender,Nationality,Residence,Field",
                  '{""ImportId"":""_recordId""},{""ImportId"":""endDate""},{""ImportId"":""status""},'
                  '{""ImportId"":""externalDataReference""},{""ImportId"":""QID1""},{""ImportId"":""QID2""},'
                  '{""ImportId"":""QID3""},{""ImportId"":""QID4""},{""ImportId"":""QID5""},{""ImportId"":""QID6""},'
                  '{""ImportId"":""QID7""},{""ImportId"":""QID8""},{""ImportId"":""QID9""}'.replace('""', '"')
                  .replace('{"', '"{""').replace('"}', '""}"').replace('":"', '"":""'), *ROWS]))
case("surveymonkey_two_header_rows", "SurveyMonkey export: a second header row of 'Response' labels",
     {**ok, "kept": 4, "reasons": {"extra_header_row": 1}},
     export=text([HEADER, ",,,,,Response,Response,Response,Open-Ended Response,Response,Open-Ended Response,"
                  "Open-Ended Response,Response", *ROWS]))
case("duplicate_respondent_ids", "the same ResponseId twice with different answers",
     {**ok, "kept": 4, "reasons": {"duplicate_respondent_id": 1}},
     export=text([HEADER, ROWS[0].replace("t1,", "t9,").replace(",Agree,Yes,Neutral", ",Neutral,Yes,Neutral")
                  .replace("10:00:00", "09:00:00"), *ROWS]))
case("duplicate_submissions", "the same invitation token submitted twice", {**ok, "kept": 4,
     "reasons": {"duplicate_submission": 1}}, export=text([HEADER, *ROWS]))
case("preview_rows", "survey-tool preview responses", {**ok, "kept": 4, "reasons": {"test_or_preview": 1}},
     export=text([HEADER, *ROWS]))
case("empty_rows", "a submission with consent but no answer", {**ok, "kept": 4, "reasons": {"empty": 1}},
     export=text([HEADER, *ROWS]))
case("no_consent", "a row that refused consent", {**ok, "kept": 4, "reasons": {"no_consent": 1}},
     export=text([HEADER, *ROWS]))
case("out_of_range_code", "a numeric code 7 where a label of a 3-level scale was expected",
     {"exit": 2, "message": "row 1 (line 2), column 'Q1': '7' is not a label of scale 'agree'"},
     export=text([HEADER, ROWS[0].replace(",Agree,Yes,", ",7,Yes,", 1), *ROWS[1:]]))
case("label_not_in_scale", "a misspelt label", {"exit": 2, "message": "'Agre' is not a label of scale 'agree' (did you mean 'Agree'?)"},
     export=text([HEADER, ROWS[0].replace(",Agree,Yes,", ",Agre,Yes,", 1), *ROWS[1:]]))
case("unknown_country", "a residence no reference table knows", {**ok, "kept": 4, "flag": "unknown_country:residence=Atlantis",
     "warning": "unknown country ('Atlantis'"}, export=text([HEADER, *ROWS]))
case("empty_file", "a zero-byte export", {"exit": 2, "message": "the file is empty"}, export=b"")
case("header_only", "column names and no responses", {"exit": 2, "message": "no response rows"}, export=text([HEADER]))
case("ragged_rows", "a row with more fields than the header", {"exit": 2, "message": "line 2 has 15 fields but the header has 13"},
     export=text([HEADER, ROWS[0] + ",extra,fields", *ROWS[1:]]))
case("excel_dates", "a label turned into a date by a spreadsheet (Neutral became 3-Jan)",
     {"exit": 2, "message": "it looks like a date"},
     export=text([HEADER, *ROWS[:4], ROWS[4].replace(",Neutral,No,", ",3-Jan,No,", 1), *ROWS[5:]]))
case("formula_text", "formula-like free text (=HYPERLINK, +cmd, @SUM)", {**ok, "kept": 4, "flag": "formula_like_text:comment"},
     export=text([HEADER, ROWS[0].replace(",hello,", ',"=HYPERLINK(""http://evil.example"",""click"")",', 1),
                  *ROWS[1:4], ROWS[4].replace("No,,,Man", "No,,+cmd|' /C calc'!A0,Man", 1), *ROWS[5:]]))
case("script_in_text", "HTML and <script> in free text", {**ok, "kept": 4, "flag": "markup_in_text:comment"},
     export=text([HEADER, ROWS[0].replace(",hello,", ",<script>alert('x')</script><b>bold</b>,", 1), *ROWS[1:]]))
case("missing_column", "an instrument column absent from the export",
     {"exit": 2, "message": "column 'Q4' is missing"},
     export=text([",".join(c for i, c in enumerate(HEADER.split(",")) if i != 8)] +
                 [",".join(c for i, c in enumerate(r.split(",")) if i != 8) for r in ROWS if '"' not in r]))
case("renamed_column", "an export column renamed by the survey tool",
     {"exit": 2, "message": "column 'Q4' is missing (the export has 'Q4_1': renamed?)"},
     export=text([HEADER.replace(",Q4,", ",Q4_1,"), *ROWS]))
case("bad_yaml", "an instrument that is not valid YAML", {"exit": 2, "message": "invalid YAML"},
     export=EXPORT, instrument=INSTRUMENT.replace("questions:\n", "questions: [\n", 1))
case("unknown_scale", "a question naming a scale that does not exist",
     {"exit": 2, "message": "questions[q1].scale: unknown scale 'agreement'"},
     export=EXPORT, instrument=INSTRUMENT.replace("{id: q1, column: Q1, type: ordinal, scale: agree",
                                                  "{id: q1, column: Q1, type: ordinal, scale: agreement", 1))
case("duplicate_question_ids", "two questions with one id", {"exit": 2, "message": "duplicate question id 'q1'"},
     export=EXPORT, instrument=INSTRUMENT.replace("{id: comment, column: Q4", "{id: q1, column: Q4", 1))
case("derived_cycle", "derived variables that read each other", {"exit": 2, "message": "derived: cycle between"},
     export=EXPORT, instrument=INSTRUMENT.replace("breakdowns:", "  - {id: a, rule: recode, from: b, map: {x: y}}\n"
                                                  "  - {id: b, rule: recode, from: a, map: {x: y}}\nbreakdowns:", 1))
case("eligibility_unknown_question", "eligibility on a question that does not exist",
     {"exit": 2, "message": "questions[q3].eligible: unknown question 'lmic_expertise'"},
     export=EXPORT, instrument=INSTRUMENT.replace("eligible: {question: lmic,", "eligible: {question: lmic_expertise,", 1))
case("trailing_spaces", "labels padded with spaces", {**ok, "kept": 4},
     export=text([HEADER, *[r.replace(",Agree,", ", Agree ,") for r in ROWS]]))
case("export_200mb", "a ~200 MB export: the bundled wave's rows repeated with fresh ids and submission times "
     "(big_export.py writes it at test time); every row accounted for, peak memory bounded",
     {**ok, "generate": {"wave": "surveys/risk-pulse/2024-05", "megabytes": 200}, "peak_rss_mb": 2500})
case("export_200mb_bad_label", "the ~200 MB export with a misspelt label in its last row: one clear line, no "
     "output left behind", {"exit": 2, "message": "'Very concernd' is not a label of scale",
                            "generate": {"wave": "surveys/risk-pulse/2024-05", "megabytes": 200,
                                         "last_row": {"column": "Q5_a", "value": "Very concernd"}},
                            "peak_rss_mb": 2500})

(HERE / "cases.yaml").write_text(
    "# Expected outcome of every bad input (written by make_cases.py; tests/ingest/test_bad_inputs.py runs them).\n"
    + yaml.safe_dump(CASES, sort_keys=True, allow_unicode=True), encoding="utf-8")
print(f"{len(CASES)} cases")
