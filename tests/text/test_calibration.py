"""The bundled synthetic wave reproduces the free-text figures of Annex E: 188 meaningful answers to
`groups_of_concern`, 46 naming the Global South and 43 marginalised communities."""

import re

import pandas as pd
import pytest
import yaml

from pipeline.text import code_question, redact, tag
from pipeline.text.meaningful import count, is_meaningful
from tests.text.conftest import SURVEY

SLOT_TAGS = {
    "children": "children", "women and girls": "women", "young people": "youth", "older people": "older_people",
    "people with disabilities": "disabilities", "indigenous peoples": "indigenous", "LGBT+ people": "lgbt",
    "low-income people": "low_income", "low-skilled workers": "low_skilled",
    "workers vulnerable to automation": "automation", "creatives and artists": "creatives",
    "journalists": "journalists", "human rights activists": "activists", "informal workers": "informal_workers",
    "small businesses": "small_business", "rural populations": "rural",
    "people living in armed conflict": "armed_conflict", "ethnic and religious minorities": "minorities",
    "public institutions": "public_institutions", "ecosystems and biodiversity": "ecosystems",
}


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load((SURVEY / "synth.yaml").read_text(encoding="utf-8"))


def test_188_meaningful_answers_46_global_south_43_marginalised(clean, groups):
    texts = clean["groups_of_concern"]
    counts = count(texts, groups.meaningful)
    assert (counts.total, counts.blank, counts.non_answer, counts.meaningful) == (348, 138, 22, 188)
    assert (clean["groups_of_concern__status"] == "valid").sum() == counts.answers == 210
    tags = tag(texts, groups)
    assert int(tags["global_south"].sum()) == 46
    assert int(tags["marginalised"].sum()) == 43


def test_keywords_table_of_the_wave(clean, groups):
    coded = code_question(clean, groups)
    table = coded.keywords.set_index("tag")
    assert table.loc["global_south", "mentions"] == 46 and table.loc["marginalised", "mentions"] == 43
    assert (table["meaningful_answers"] == 188).all()
    assert table.loc["global_south", "pct"] == pytest.approx(100 * 46 / 188)
    assert coded.keywords["tag"].tolist()[:2] == ["global_south", "marginalised"]
    assert (table["shown"] == (table["mentions"] > 2)).all()
    assert (table["added"] == 0).all() and (table["removed"] == 0).all()
    assert coded.tags.index.name == "row" and coded.tags.index.tolist() == clean["row"].tolist()


def test_the_tags_agree_with_the_keywords_the_generator_guarantees(clean, groups, spec):
    categories = spec["texts"]["groups_of_concern"]["categories"]
    texts = clean["groups_of_concern"]
    tags = tag(texts, groups)
    for category, tag_id in (("global_south", "global_south"), ("marginalised", "marginalised")):
        keywords = re.compile("|".join(categories[category]["keywords"]), re.IGNORECASE)
        named = texts.map(lambda t: isinstance(t, str) and bool(keywords.search(t)))
        assert tags[tag_id].tolist() == named.tolist()


def test_every_phrase_of_the_bank_gets_its_own_tag_only(groups, spec):
    bank = spec["texts"]["groups_of_concern"]["slots"]["group"]
    assert set(bank) == set(SLOT_TAGS)
    matrix = tag(pd.Series(bank, dtype=object), groups)
    for phrase, row in zip(bank, matrix.itertuples(index=False)):
        assert [t for t, hit in zip(matrix.columns, row) if hit] == [SLOT_TAGS[phrase]], phrase
    for phrase in spec["texts"]["groups_of_concern"]["slots"]["gs"]:
        assert tag(pd.Series([phrase]), groups).iloc[0].loc[lambda r: r].index.tolist() == ["global_south"]
    for phrase in spec["texts"]["groups_of_concern"]["slots"]["marg"]:
        assert tag(pd.Series([phrase]), groups).iloc[0].loc[lambda r: r].index.tolist() == ["marginalised"]


def test_every_meaningful_answer_of_the_wave_has_a_tag(clean, groups):
    texts = clean["groups_of_concern"]
    tags = tag(texts, groups)
    meaningful = is_meaningful(texts, groups.meaningful)
    assert tags[~meaningful].sum().sum() == 0
    assert tags[meaningful].any(axis=1).all()


def test_trend_phrases_get_their_tag(codebooks, spec):
    book = codebooks["trends"]
    bank = spec["texts"]["trends"]["slots"]["trend"]
    matrix = tag(pd.Series(bank, dtype=object), book)
    assert (matrix.sum(axis=1) == 1).all()
    assert matrix.any(axis=0).sum() == len(bank)


def test_the_synthetic_wave_holds_no_personal_data(clean, instrument):
    for question in instrument.questions_of("text"):
        redacted, counts = redact(clean[question.id], clean["residence_iso3"], ["Ada Quillfeather"])
        assert counts == dict(url=0, email=0, handle=0, phone=0, name=0)
        assert redacted.equals(clean[question.id].astype(object).where(clean[question.id].notna(), None))
