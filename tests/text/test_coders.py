"""Manual coding: reading and checking the coders' file, each coder's judgement, and the final tags.

Fixtures: tests/data/text/answers.csv (12 answers to a `comment` question, rows 1-12; 11 is "n/a",
12 blank), tests/data/text/codebooks/comment.yaml (tags `women`, `children`; baseline none) and
tests/data/text/coding.csv (coders ana and ben on rows 1-10)."""

from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import PulseError
from pipeline.text.codebook import from_mapping, load, tag
from pipeline.text.coders import RULES, apply_coding, check_coding, read_coding
from pipeline.text.keywords import code_all
from pipeline.text.meaningful import is_meaningful
from tests.text.conftest import DATA, read_answers


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    return read_answers()


@pytest.fixture(scope="module")
def scratch():
    return load(DATA / "codebooks" / "comment.yaml")


@pytest.fixture(scope="module")
def review(scratch):
    raw = dict(question="comment", manual=dict(baseline="automatic"),
               tags=[dict(id="women", label="Women and girls", synonyms=["women", "girls"]),
                     dict(id="children", label="Children", synonyms=["children", "kids"])])
    return from_mapping(raw, scratch.path)


def automatic_of(answers, book) -> pd.DataFrame:
    return tag(answers["comment"], book).set_axis(pd.Index(answers["row"], name="row"))


def coding_of(rows: str) -> pd.DataFrame:
    frame = pd.DataFrame([r.split(",") for r in rows.split()], columns=["respondent", "question", "tag", "coder"])
    frame["respondent"] = frame["respondent"].astype(int)
    frame["line"] = range(2, len(frame) + 2)
    return frame


def test_read_coding():
    coding = read_coding(DATA / "coding.csv")
    assert list(coding.columns) == ["respondent", "question", "tag", "coder", "line"]
    assert len(coding) == 23 and coding["respondent"].dtype.kind == "i"
    assert coding.iloc[0].tolist() == [1, "comment", "women", "ana", 2]
    assert read_coding(DATA / "absent.csv").empty


def test_read_coding_errors(tmp_path):
    path = tmp_path / "coding.csv"
    path.write_text("respondent,question,label\n1,comment,women\n")
    with pytest.raises(PulseError, match=r"coding.csv: column\(s\) tag, coder missing"):
        read_coding(path)
    path.write_text("Respondent, Question ,tag,coder\n1,comment,women,ana\nx,comment,women,ana\n\n2.5,comment,women,ana\n")
    with pytest.raises(PulseError) as error:
        read_coding(path)
    assert error.value.messages == [
        f"{path}: line 3, column 'respondent': 'x' is not an export row number",
        f"{path}: line 5, column 'respondent': '2.5' is not an export row number",
    ]


def test_check_coding_names_each_bad_line(answers, scratch):
    coding = coding_of("1,comment,women,ana 99,comment,women,ana 11,comment,women,ana 2,comment,boys,ana "
                       "3,other,women,ana 4,comment,women,bo 4,comment,-women,bo 5,comment,-*,ana 5,comment,=,ana "
                       "6,comment,-children,ana")
    coding.loc[0, "coder"] = ""
    flags = {"comment": is_meaningful(answers["comment"]).set_axis(answers["row"])}
    problems = check_coding(coding, {"comment": scratch}, flags, "coding.csv")
    assert problems == [
        "coding.csv: line 2, column 'coder': empty; name the coder",
        "coding.csv: line 3, column 'respondent': 99 is not a kept respondent; check the row number against ledger.csv",
        "coding.csv: line 4: respondent 11 gave no meaningful answer to comment; remove the line or change the "
        "codebook's meaningful rule",
        f"coding.csv: line 5, column 'tag': unknown tag 'boys' of comment; use a tag id of {scratch.path}, -<tag>, "
        "-* or =",
        "coding.csv: line 6, column 'question': 'other' has no codebook (codebooks: comment)",
        "coding.csv: lines 7, 8: coder 'bo' both adds and removes 'women' for respondent 4 (comment); keep one",
    ]


def test_review_baseline_adds_removes_and_keeps(answers, review):
    """Baseline automatic. Automatic tags: 1 women+children, 2 women+children, 3 women, 4 women.
    One coder per answer: ana adds children to 3, removes women from 4, clears 1 (-*) but keeps children,
    confirms 2 (=), and adds women to 5 ("Mothers and daughters")."""
    automatic = automatic_of(answers, review)
    coding = coding_of("3,comment,children,ana 4,comment,-women,ana 1,comment,-*,ana 1,comment,children,ana "
                       "2,comment,=,ana 5,comment,women,ana")
    result = apply_coding(automatic, coding, review)
    final = result.final
    assert final.loc[1].tolist() == [False, True]
    assert final.loc[2].tolist() == [True, True]
    assert final.loc[3].tolist() == [True, True]
    assert final.loc[4].tolist() == [False, False]
    assert final.loc[5].tolist() == [True, False]
    assert final.drop([1, 2, 3, 4, 5]).equals(automatic.drop([1, 2, 3, 4, 5]))
    decisions = result.decisions.set_index(["respondent", "tag"])
    assert sorted(decisions.index) == [(1, "women"), (3, "children"), (4, "women"), (5, "women")]
    assert (decisions["rule"] == RULES["single"]).all()
    assert decisions.loc[(4, "women"), ["automatic", "final", "present", "absent"]].tolist() == [True, False, "", "ana"]


def test_disagreement_majority_adjudicator_and_tie(answers, review):
    """Row 3 (automatic: women): ana and ben remove women, cy keeps it -> majority removes it.
    Row 4 (automatic: women): ana removes, ben keeps -> tie, the automatic tag stays.
    Row 5 (automatic: none): ana and ben add women, the adjudicator does not -> the adjudicator decides."""
    automatic = automatic_of(answers, review)
    coding = coding_of("3,comment,-women,ana 3,comment,-women,ben 3,comment,=,cy 4,comment,-women,ana "
                       "4,comment,=,ben 5,comment,women,ana 5,comment,women,ben 5,comment,=,adjudicator")
    result = apply_coding(automatic, coding, review)
    assert not result.final.at[3, "women"] and result.final.at[4, "women"] and not result.final.at[5, "women"]
    rules = result.decisions.set_index(["respondent", "tag"])["rule"]
    assert rules.to_dict() == {(3, "women"): RULES["majority"], (4, "women"): RULES["tie"],
                               (5, "women"): RULES["adjudicator"]}


def test_scratch_baseline_uses_only_the_listed_tags(answers, scratch):
    """Baseline none, the fixture's coders: they agree on rows 1, 3, 6-10 and on women in row 2;
    they disagree on children in row 2, women in row 4 and women in row 5, and each tie keeps the
    automatic tag (children in 2: yes; women in 4: yes; women in 5: no)."""
    automatic = automatic_of(answers, scratch)
    result = apply_coding(automatic, read_coding(DATA / "coding.csv"), scratch)
    assert result.final.equals(automatic)
    judged = result.judgements.set_index(["respondent", "coder", "tag"])["present"]
    assert judged[(4, "ben", "women")] == False and judged[(5, "ben", "women")] == True  # noqa: E712
    ties = result.decisions[result.decisions["rule"] == RULES["tie"]]
    assert sorted(zip(ties["respondent"], ties["tag"])) == [(2, "children"), (4, "women"), (5, "women")]


def test_code_all_checks_the_coding_first(answers, scratch):
    coding = coding_of("1,comment,boys,ana")
    with pytest.raises(PulseError, match=r"^surveys/x/coding.csv: line 2, column 'tag': unknown tag 'boys'"):
        code_all(answers, {"comment": scratch}, coding, Path("surveys/x/coding.csv"))
    with pytest.raises(PulseError, match="'comment' is not a column of the clean data"):
        code_all(answers.drop(columns="comment"), {"comment": scratch})
