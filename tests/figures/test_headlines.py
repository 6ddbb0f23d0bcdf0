"""Headline rules on hand-made tables: the sentence is chosen by the tests and every number is a table cell."""

from pathlib import Path

import pandas as pd
import pytest

from pipeline.analyze import DISTRIBUTION_COLUMNS, MEAN_COLUMNS, TEST_COLUMNS, TOPBOX_COLUMNS
from pipeline.figures.headlines import claim
from pipeline.figures.names import Names
from pipeline.figures.spec import parse
from pipeline.figures.tables import Tables
from pipeline.instrument import load as load_instrument

from tests.figures.helpers import REPO

INSTRUMENT = load_instrument(REPO / "surveys" / "risk-pulse" / "instrument.yaml")
AREAS = [q.id for q in INSTRUMENT.questions if q.group == "harm_areas"]
NOUNS = {"Woman": "women", "Man": "men", "Technical (training/developing AI)": "technical experts"}


def spec(figure: dict):
    raw = {"nouns": NOUNS, "sections": [{"id": "s", "title": "S", "figures": [figure]}]}
    return parse(raw, Path("report.yaml"), INSTRUMENT).figures[0]


def tables(tests=(), topbox=()) -> Tables:
    def frame(rows, columns):
        return pd.DataFrame(list(rows), columns=columns)
    return Tables(distributions=frame([], DISTRIBUTION_COLUMNS), topbox=frame(topbox, TOPBOX_COLUMNS),
                  means=frame([], MEAN_COLUMNS), tests=frame(tests, TEST_COLUMNS))


def mann_whitney(question, q_value, effect, breakdown="gender", a="Woman", b="Man"):
    return {"question": question, "breakdown": breakdown, "test": "mann-whitney", "statistic": 1.0, "df": None,
            "p_value": q_value, "q_value": q_value, "family": "harm_areas/gender/rank", "effect_size": effect,
            "effect_measure": "rank-biserial", "ci_low": None, "ci_high": None, "n": 300, "groups": f"{a} | {b}",
            "group_a": a, "group_b": b, "note": ""}


def topbox(question, group, pct, breakdown="gender"):
    return {"question": question, "breakdown": breakdown, "group": group, "n": 100, "count": pct, "pct": pct,
            "ci_low": 0, "ci_high": 100, "ci_method": "wilson", "suppressed": False, "topbox": "concerned or very concerned"}


DOTS = {"id": "d", "kind": "dots", "group": "harm_areas", "breakdowns": ["all", "gender"],
        "headline": {"rule": "differences", "more": "more concerned", "less": "less concerned", "unit": "areas"}}


def say(figure, made):
    found = claim(spec(figure), made, Names(INSTRUMENT, NOUNS), 0.05, "fdr_bh")
    return found.text if found else None


def test_all_areas_one_way_and_all_significant():
    made = tables([mann_whitney(q, 0.001, 0.2) for q in AREAS])
    assert say(DOTS, made) == "Women are more concerned than men in all 14 areas"


def test_all_areas_one_way_but_only_some_significant():
    made = tables([mann_whitney(q, 0.001 if i < 9 else 0.4, 0.2) for i, q in enumerate(AREAS)])
    assert say(DOTS, made) == "Women are more concerned than men in all 14 areas, significantly so in 9"


def test_the_larger_side_speaks_first():
    made = tables([mann_whitney(q, 0.001 if i < 5 else 0.5, -0.2 if i < 5 else 0.1) for i, q in enumerate(AREAS)])
    assert say(DOTS, made) == "Men are significantly more concerned than women in 5 of 14 areas"


def test_both_directions():
    rows = [mann_whitney(q, 0.01 if i < 4 else 0.5, 0.2 if i < 3 else -0.2) for i, q in enumerate(AREAS)]
    assert say(DOTS, tables(rows)) == "Women are significantly more concerned than men in 3 of 14 areas and less concerned in 1 area"


def test_nothing_significant_is_said_as_such():
    made = tables([mann_whitney(q, 0.3, 0.1) for q in AREAS])
    assert say(DOTS, made) == "No significant difference between women and men in any of the 14 areas"


def test_one_question_quotes_the_top_box_shares():
    figure = {"id": "c", "kind": "stacked", "question": "concern_overall", "breakdowns": ["all", "gender"],
              "headline": {"rule": "differences", "more": "more concerned", "less": "less concerned"}}
    made = tables([mann_whitney("concern_overall", 0.002, 0.3)],
                  [topbox("concern_overall", "Woman", 80.4), topbox("concern_overall", "Man", 61.5)])
    assert say(figure, made) == "Women are more concerned than men: 80% vs 62% concerned or very concerned"
    made = tables([mann_whitney("concern_overall", 0.2, 0.3)],
                  [topbox("concern_overall", "Woman", 80.4), topbox("concern_overall", "Man", 61.5)])
    assert say(figure, made) == "Women and men do not differ significantly (80% vs 62% concerned or very concerned)"


def test_splits_name_the_group_that_differs_most():
    figure = {**DOTS, "breakdowns": ["all", "field"], "headline": {**DOTS["headline"], "between": "fields"}}
    rows = [mann_whitney(q, 0.01 if i < 8 else 0.5, -0.3, "field:technical", "Technical (training/developing AI)",
                         "Not Technical (training/developing AI)") for i, q in enumerate(AREAS)]
    rows += [mann_whitney(q, 0.01 if i < 2 else 0.5, 0.3, "field:social", "Social sciences", "Not Social sciences")
             for i, q in enumerate(AREAS)]
    assert say(figure, tables(rows)) == "Technical experts are significantly less concerned than other respondents in 8 of 14 areas"


def test_share_needs_an_unsuppressed_row():
    figure = {"id": "s", "kind": "stacked", "question": "concern_overall",
              "headline": {"rule": "share", "text": "{pct} of respondents are {topbox}"}}
    row = {**topbox("concern_overall", "All respondents", 70.9, "all")}
    assert say(figure, tables(topbox=[row])) == "71% of respondents are concerned or very concerned"
    hidden = {**row, "suppressed": True, "pct": None}
    assert say(figure, tables(topbox=[hidden])) is None


@pytest.mark.parametrize("rule", ["share", "largest", "diagonal", "top", "differences"])
def test_every_rule_is_documented(rule):
    from pipeline.figures import headlines
    assert rule in headlines.__doc__ and rule in headlines.RULES
