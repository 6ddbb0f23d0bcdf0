import copy
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from pipeline.errors import PulseError
from pipeline.instrument import load, read_yaml

REPO = Path(__file__).parent.parent
BUNDLED = sorted(REPO.glob("surveys/*/instrument.yaml"))
TINY = Path(__file__).parent / "data" / "tiny" / "surveys" / "tiny" / "instrument.yaml"


@pytest.mark.parametrize("path", BUNDLED + [TINY], ids=lambda p: p.parent.name)
def test_bundled_instruments_are_valid(path):
    instrument = load(path)
    assert instrument.questions
    assert len({q.id for q in instrument.questions}) == len(instrument.questions)


def test_risk_pulse_declares_fourteen_harm_areas_a_to_n():
    instrument = load(REPO / "surveys" / "risk-pulse" / "instrument.yaml")
    areas = [q for q in instrument.questions if q.group == "harm_areas"]
    assert [q.letter for q in areas] == list("abcdefghijklmn")
    assert all(q.scale.id == "concern" and q.topbox_codes == (4, 5) for q in areas)
    assert [d.id for d in instrument.derived][:3] == ["residence_iso3", "nationality_iso3", "un_group"]


def broken(tmp_path, change) -> Path:
    raw = read_yaml(TINY)
    change(raw)
    path = tmp_path / "instrument.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


CASES = {
    "unknown scale": (lambda r: r["questions"][0].update(scale="agreement"), "questions[q1].scale: unknown scale 'agreement'"),
    "duplicate id": (lambda r: r["questions"][1].update(id="q1"), "duplicate question id 'q1'"),
    "eligibility on unknown question": (lambda r: r["questions"][2]["eligible"].update(question="lmic2"),
                                        "questions[q3].eligible: unknown question 'lmic2'"),
    "eligibility on unknown level": (lambda r: r["questions"][2]["eligible"].update({"in": ["Maybe"]}),
                                     "'Maybe' is not a level of question 'lmic'"),
    "cycle in derived": (lambda r: r["derived"].extend([{"id": "a", "rule": "recode", "from": "b", "map": {"x": "y"}},
                                                         {"id": "b", "rule": "recode", "from": "a", "map": {"x": "y"}}]),
                         "derived: cycle between a, b"),
    "missing required key": (lambda r: r.pop("scales"), "(top level): 'scales' is a required property"),
    "wrong type": (lambda r: r["questions"][0].update(type="likert"), "questions[q1].type: 'likert' is not one of"),
    "topbox outside scale": (lambda r: r["questions"][0]["topbox"].update(codes=[9]), "9 is not a code of scale 'agree'"),
    "breakdown on unknown variable": (lambda r: r["breakdowns"].append({"id": "x", "variable": "nope", "label": "X"}),
                                      "breakdowns[x]: unknown variable 'nope'"),
    "pair on unknown question": (lambda r: r["pairs"][0].update(b="q9"), "pairs[q1_q3].b: unknown question 'q9'"),
    "pair across scales": (lambda r: r["pairs"][0].update(b="gender"), "'gender' is not an ordinal question"),
    "unquoted yes": (lambda r: r["scales"]["yesno"]["levels"][0].update(code=True), "quote it"),
    "since after until": (lambda r: r["questions"][0].update(since="2024-11", until="2024-05"),
                          "questions[q1]: since '2024-11' is after until '2024-05'"),
    "link to unknown id": (lambda r: r["questions"][0].update(comparable_with={"id": "q0"}),
                           "questions[q1].comparable_with: unknown question 'q0'"),
    "link to itself": (lambda r: r["questions"][0].update(comparable_with={"id": "q1"}), "comparable with itself"),
    "link without a note across labels": (lambda r: replaced_q1(r, labels=("No", "Maybe", "Yes"), note=None),
                                          "have different level labels; add a note"),
    "link across level counts": (lambda r: replaced_q1(r, labels=("No", "Yes"), note="binary now"),
                                 "has 3 levels and scale 'agree2' has 2"),
    "link to a question still asked": (lambda r: replaced_q1(r, labels=None, note=None, old_until=None),
                                       "'q1' must end before 'q1b' starts"),
    "link to another type": (lambda r: r["questions"][1].update(comparable_with={"id": "q1"}),
                             "'q1' is of type ordinal and 'lmic' of type nominal"),
    "version without changelog entry": (lambda r: r.update(changelog=[{"version": "0.0.1", "date": "2024-01-01",
                                                                       "note": "first"}]),
                                        "changelog: no entry for version '0.1.0'"),
    "bad wave label": (lambda r: r["questions"][0].update(since="May 2024"), "questions[q1].since"),
}


def replaced_q1(raw, labels, note, old_until="2024-05"):
    """`raw` with q1 asked until `old_until` and a new q1b (own scale with `labels`, or q1's scale) since 2024-08,
    linked to q1 with `note`."""
    if old_until:
        raw["questions"][0]["until"] = old_until
    scale = "agree"
    if labels:
        scale = "agree2"
        raw["scales"][scale] = {"type": "ordinal", "levels": [{"code": i + 1, "label": label}
                                                              for i, label in enumerate(labels)]}
    link = {"id": "q1", **({"note": note} if note else {})}
    raw["questions"].append({"id": "q1b", "column": "Q1", "type": "ordinal", "scale": scale, "since": "2024-08",
                             "text": "Do you agree now?", "comparable_with": link})


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_instrument_names_file_and_key(tmp_path, case):
    change, expected = CASES[case]
    path = broken(tmp_path, change)
    with pytest.raises(PulseError) as error:
        load(path)
    assert any(line.startswith(f"{path}: ") and expected in line for line in error.value.messages), error.value.messages


def test_every_problem_is_reported_not_only_the_first(tmp_path):
    def two_problems(raw):
        raw["questions"][4]["scale"] = "nope"
        raw["derived"][0]["from"] = "nowhere"
    with pytest.raises(PulseError) as error:
        load(broken(tmp_path, two_problems))
    assert len(error.value.messages) == 2


def test_bad_yaml_is_one_line_with_its_position(tmp_path, capsys):
    path = tmp_path / "instrument.yaml"
    path.write_text("id: x\nquestions: [\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: line" in err and "invalid YAML" in err and "Traceback" not in err


def test_validate_command_accepts_a_good_instrument(capsys):
    assert main(["validate", str(TINY)]) == 0
    assert "valid" in capsys.readouterr().out


def test_the_example_in_docs_is_valid_and_current(tmp_path):
    text = (REPO / "docs" / "instrument.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("\n```", 1)[0]
    assert example.strip() == TINY.read_text(encoding="utf-8").strip()
    path = tmp_path / "instrument.yaml"
    path.write_text(example, encoding="utf-8")
    assert load(path).id == "tiny"


def test_a_replaced_question_links_to_its_earlier_id_and_may_reuse_its_column(tmp_path):
    instrument = load(broken(tmp_path, lambda r: replaced_q1(r, labels=("No", "Maybe", "Yes"), note="reworded")))
    new = instrument.question("q1b")
    assert new.comparable_with == {"id": "q1", "note": "reworded"} and new.since == "2024-08"
    assert [q.id for q in instrument.for_wave("2024-05").questions if q.column == "Q1"] == ["q1"]
    assert [q.id for q in instrument.for_wave("2024-11").questions if q.column == "Q1"] == ["q1b"]


def test_questions_asked_in_overlapping_waves_cannot_share_a_column(tmp_path):
    def change(raw):
        replaced_q1(raw, labels=None, note=None)
        raw["questions"][0]["until"] = "2024-08"
    with pytest.raises(PulseError) as error:
        load(broken(tmp_path, change))
    assert any("column 'Q1' is already used by question 'q1'" in line for line in error.value.messages)


def test_bundled_instruments_have_a_changelog_entry_for_their_version():
    for path in BUNDLED:
        instrument = load(path)
        assert instrument.version in [str(entry["version"]) for entry in instrument.changelog], path
