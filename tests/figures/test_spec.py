import re
from pathlib import Path

import pytest
import yaml

from pipeline.errors import PulseError
from pipeline.figures.spec import load, parse
from pipeline.instrument import load as load_instrument

from tests.figures.helpers import HERE, REPO

RISK = REPO / "surveys" / "risk-pulse"
TINY = REPO / "tests" / "data" / "tiny" / "surveys" / "tiny" / "instrument.yaml"


def test_risk_pulse_report_is_valid_and_covers_annex_e():
    instrument = load_instrument(RISK / "instrument.yaml")
    spec = load(RISK / "report.yaml", instrument)
    ids = [f.id for f in spec.figures]
    assert len(ids) == len(set(ids)) >= 20
    assert [s.id for s in spec.sections] == ["sample", "acceleration", "risk", "change", "groups-of-concern", "methods"]
    assert all(f.headline is not None for f in spec.figures)
    kinds = {f.kind for f in spec.figures}
    assert kinds == {"bars", "crosstab", "stacked", "dots", "keywords", "keyword-bars", "choices", "models"}
    harm = [f for f in spec.figures if f.kind == "dots"]
    assert {b for f in harm for b in f.breakdowns} == {"all", "weog", "un_group", "gender", "field"}
    concern = next(s for s in spec.sections if s.id == "groups-of-concern")
    assert concern.placeholder is None and concern.coding == "groups_of_concern"
    assert {f.kind for f in concern.figures} == {"keywords", "keyword-bars", "choices"}
    assert {b for f in concern.figures for b in f.breakdowns} == {"all", "un_group", "gender"}
    adjusted = next(f for f in spec.figures if f.kind == "models")
    assert adjusted.section == "risk" and set(adjusted.terms) == {"gender", "weog", "technical"}


def tiny_raw():
    return yaml.safe_load((HERE / "tiny_report.yaml").read_text(encoding="utf-8"))


def figure(raw, figure_id):
    return next(f for s in raw["sections"] for f in s.get("figures", []) if f["id"] == figure_id)


CASES = {
    "unknown kind": (lambda r: figure(r, "gender").update(kind="pie"),
                     "sections[sample].figures[gender].kind: unknown kind 'pie'"),
    "unknown question": (lambda r: figure(r, "gender").update(question="q99"),
                         "sections[sample].figures[gender].question: unknown question or derived variable 'q99'"),
    "unknown breakdown": (lambda r: figure(r, "agree-groups").update(breakdowns=["all", "region"]),
                          "sections[results].figures[agree-groups].breakdowns: unknown breakdown 'region'"),
    "typed number": (lambda r: figure(r, "agree-overall")["headline"].update(text="71% of respondents {topbox}"),
                     "sections[results].figures[agree-overall].headline.text: contains a typed number"),
    "unknown placeholder": (lambda r: figure(r, "agree-overall")["headline"].update(text="{share} agree"),
                            "sections[results].figures[agree-overall].headline.text: unknown placeholder {share}"),
    "unknown rule": (lambda r: figure(r, "gender")["headline"].update(rule="guess"),
                     "sections[sample].figures[gender].headline.rule: unknown rule 'guess'"),
    "unknown key": (lambda r: figure(r, "gender").update(colour="red"),
                    "sections[sample].figures[gender].colour: unknown key"),
    "duplicate id": (lambda r: figure(r, "field-gender").update(id="gender"),
                     "sections[sample].figures[gender].id: duplicate figure id"),
    "dots of a nominal question": (lambda r: figure(r, "agree-dots").update(questions=["lmic"]),
                                   "sections[results].figures[agree-dots]: kind dots draws ordinal questions only"),
    "missing sections": (lambda r: r.pop("sections"), "sections: missing"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_problems_are_one_line_naming_file_and_key(tmp_path, case):
    change, expected = CASES[case]
    raw = tiny_raw()
    change(raw)
    path = tmp_path / "report.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PulseError) as caught:
        load(path, load_instrument(TINY))
    assert len(caught.value.messages) == 1
    message = caught.value.messages[0]
    assert "\n" not in message and message.startswith(f"{path}: {expected}")


def test_spans_of_time_may_be_typed():
    raw = tiny_raw()
    figure(raw, "agree-overall")["headline"]["text"] = "{pct} of respondents {topbox} over the next 18 months"
    spec = parse(raw, Path("report.yaml"), load_instrument(TINY))
    assert "18 months" in next(f for f in spec.figures if f.id == "agree-overall").headline.options["text"]


def test_without_report_yaml_a_default_report_is_built(tmp_path):
    spec = load(tmp_path / "report.yaml", load_instrument(RISK / "instrument.yaml"))
    assert spec.sections[-1].methods
    assert any(f.kind == "stacked" and len(f.questions) == 14 for f in spec.figures)


def test_generic_code_names_no_survey():
    words = {"Pulse Check", "Annex E", "Opportunity Scan", "Annex F"}
    for survey in ("risk-pulse", "opportunity-scan"):
        instrument = load_instrument(REPO / "surveys" / survey / "instrument.yaml")
        words |= {q.id for q in instrument.questions} | {instrument.id, instrument.title}
        words |= set(instrument.question_groups) | {p.id for p in instrument.pairs} | {p.group for p in instrument.pairs}
    words -= {"gender", "age", "field", "sector", "nationality", "residence", "trends", "elaboration", "open",
              "demographics", "divide", "actors", "expertise", "timing", "awareness", "concern", "change", "pace",
              "barriers"}
    words |= {"risk-pulse", "opportunity-scan"}
    code = [*(REPO / "pipeline").rglob("*.py"), *(REPO / "templates").iterdir()]
    for path in code:
        text = path.read_text(encoding="utf-8")
        found = [w for w in words if re.search(rf"\b{re.escape(w)}\b", text)]
        assert not found, f"{path} names {found}"
