"""The meaningful-answer rule: blanks, non-answers and answers, and how the codebook configures it."""

from pathlib import Path

import pandas as pd

from pipeline.text.codebook import from_mapping
from pipeline.text.meaningful import MeaningfulRule, classify, count, is_meaningful, normalise

TEXTS = pd.Series([None, "", "   ", "n/a", "N/A.", "None", "no", "No!", "-", "--", "...", "?", "0", "(none)",
                   "No, not really", "“Nothing”", "Nobody", "Children", "no one in particular", "LGBT+",
                   "Not applicable", "Yes: children"], index=range(100, 122), dtype=object)


def test_classify_the_default_rule():
    kinds = classify(TEXTS).tolist()
    assert kinds[:3] == ["blank"] * 3
    assert kinds[3:16] == ["non_answer"] * 13
    assert kinds[16:18] == ["meaningful"] * 2
    assert kinds[18:] == ["non_answer", "meaningful", "non_answer", "meaningful"]
    assert is_meaningful(TEXTS).index.equals(TEXTS.index)


def test_normalise():
    assert normalise(pd.Series(["  N/A. ", "No,\u00a0 NOT really!!", "(none)", None, "-"])).tolist() == \
        ["n/a", "no, not really", "none", None, ""]


def test_counts():
    counts = count(TEXTS)
    assert (counts.total, counts.blank, counts.answers, counts.non_answer, counts.meaningful) == (22, 3, 19, 15, 4)
    assert counts.as_dict() == dict(total=22, blank=3, answers=19, non_answer=15, meaningful=4)
    assert sum(counts.non_answer_values.values()) == 15 and counts.non_answer_values["n/a"] == 1


def test_the_rule_is_configurable():
    strict = MeaningfulRule(non_answers=("children",), patterns=(), min_letters=3)
    kinds = classify(pd.Series(["Children", "no", "ok", "LGBT+", "-"]), strict).tolist()
    assert kinds == ["non_answer", "non_answer", "non_answer", "meaningful", "non_answer"]
    book = from_mapping(dict(question="q", meaningful=dict(non_answers=["nothing"]),
                             tags=[dict(id="a", label="A", synonyms=["no"])]), Path("q.yaml"))
    assert book.meaningful.non_answers == ("nothing",)
    assert classify(pd.Series(["no", "nothing", "n/a", "no, thanks"]), book.meaningful).tolist() == \
        ["meaningful", "non_answer", "meaningful", "non_answer"]
    assert classify(pd.Series(["no, not really"]), MeaningfulRule(non_answers=("n/a",), patterns=())).tolist() == \
        ["meaningful"]


def test_the_bundled_rule_sees_the_synthetic_non_answers(groups):
    for text in ["n/a", "N/A", "none", "None", "no", "No", "-"]:
        assert classify(pd.Series([text]), groups.meaningful).iat[0] == "non_answer"
