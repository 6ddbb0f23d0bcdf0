"""The keywords table, the tag matrix and its multi-select form, and the stacked tables."""

import numpy as np
import pandas as pd
import pytest

from pipeline.text.codebook import load
from pipeline.text.coders import read_coding
from pipeline.text.keywords import (
    KEYWORD_COLUMNS, agreement_table, as_multiselect, code_all, code_question, decisions_table, keywords_table,
)
from tests.text.conftest import DATA, read_answers


@pytest.fixture(scope="module")
def answers() -> pd.DataFrame:
    return read_answers()


@pytest.fixture(scope="module")
def book():
    return load(DATA / "codebooks" / "comment.yaml")


def test_keywords_without_manual_coding(answers, book):
    """Meaningful answers: rows 1-10 (11 is n/a, 12 blank). women: rows 1, 2 (girls), 3, 4 = 4;
    children: rows 1, 2 (kids) = 2."""
    coded = code_question(answers, book)
    assert coded.counts.as_dict() == dict(total=12, blank=1, answers=11, non_answer=1, meaningful=10)
    table = coded.keywords
    assert list(table.columns) == KEYWORD_COLUMNS
    assert table.to_dict("records") == [
        dict(question="comment", tag="women", label="Women and girls", mentions=4, meaningful_answers=10, pct=40.0,
             shown=True, automatic=4, added=0, removed=0),
        dict(question="comment", tag="children", label="Children", mentions=2, meaningful_answers=10, pct=20.0,
             shown=True, automatic=2, added=0, removed=0),
    ]
    assert coded.tags.index.name == "row" and coded.tags.index.tolist() == list(range(1, 13))
    assert coded.tags.loc[11].sum() == 0 and not coded.meaningful.loc[11] and not coded.meaningful.loc[12]
    assert coded.decisions.empty and coded.agreement.empty


def test_manual_coding_moves_the_counts(answers, book):
    coding = read_coding(DATA / "coding.csv")
    extra = pd.DataFrame([dict(respondent=5, question="comment", tag="women", coder="adjudicator", line=99),
                          dict(respondent=2, question="comment", tag="-*", coder="adjudicator", line=100)])
    coded = code_all(answers, {"comment": book}, pd.concat([coding, extra], ignore_index=True))["comment"]
    table = coded.keywords.set_index("tag")
    assert table.loc["women", ["mentions", "automatic", "added", "removed"]].tolist() == [4, 4, 1, 1]
    assert table.loc["children", ["mentions", "automatic", "added", "removed"]].tolist() == [1, 2, 0, 1]
    assert table.loc["children", "shown"] == False  # noqa: E712  (min_mentions 2)
    assert coded.keywords["tag"].tolist() == ["women", "children"]
    rules = coded.decisions.set_index(["respondent", "tag"])["rule"]
    assert rules[(5, "women")] == "adjudicator" and rules[(2, "children")] == "adjudicator"
    assert len(agreement_table({"comment": coded})) == 3
    assert decisions_table({"comment": coded}).equals(coded.decisions)


def test_as_multiselect(answers, book):
    coded = code_question(answers, book)
    frame = as_multiselect(coded)
    assert list(frame.columns) == ["row", "comment_tags__women", "comment_tags__children", "comment_tags__status"]
    assert frame["comment_tags__status"].tolist() == ["valid"] * 10 + ["blank"] * 2
    merged = answers.merge(frame, on="row")
    assert merged.loc[merged["row"] == 2, ["comment_tags__women", "comment_tags__children"]].values.tolist() == \
        [[True, True]]


def test_stacked_tables(clean, codebooks):
    coded = code_all(clean, codebooks)
    table = keywords_table(coded)
    assert table["question"].unique().tolist() == ["groups_of_concern", "trends"]
    assert table.groupby("question")["meaningful_answers"].nunique().eq(1).all()
    assert keywords_table({}).columns.tolist() == KEYWORD_COLUMNS
    assert agreement_table(coded).empty and decisions_table(coded).empty


def test_tag_shares_by_breakdown_from_the_matrix(clean, codebooks):
    """What the statistics stage does with the matrix: shares among meaningful answers per group."""
    coded = code_all(clean, {"groups_of_concern": codebooks["groups_of_concern"]})["groups_of_concern"]
    frame = clean[["row", "un_group"]].merge(as_multiselect(coded), on="row")
    valid = frame[frame["groups_of_concern_tags__status"] == "valid"]
    shares = valid.groupby("un_group", observed=True)["groups_of_concern_tags__global_south"].agg(["sum", "count"])
    assert shares["sum"].sum() == 46 and shares["count"].sum() == 188
    assert np.isclose(valid["groups_of_concern_tags__marginalised"].mean() * 100,
                      coded.keywords.set_index("tag").at["marginalised", "pct"])
