"""Codebooks: how synonyms, patterns and exclusions match, validation messages, and the RE2 fast path
giving the same tags as Python's `re`."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PulseError
from pipeline.text import fast
from pipeline.text.codebook import explain, from_mapping, load, load_all, match_tags, tag
from tests.text.conftest import DATA, SURVEY


def tags_of(text: str, book) -> list[str]:
    row = tag(pd.Series([text], dtype=object), book).iloc[0]
    return row[row].index.tolist()


def book_of(tags: list[dict], **extra):
    return from_mapping(dict(question="q", tags=tags, **extra), Path("codebooks/q.yaml"))


@pytest.mark.parametrize("text, expected", [
    ("Low- and middle-income countries", ["global_south"]),
    ("low and middle income countries", ["global_south"]),
    ("LMICs", ["global_south"]),
    ("LMIC governments", ["global_south"]),
    ("the GLOBAL   SOUTH", ["global_south"]),
    ("Not the Global South but marginalized people", ["marginalised"]),
    ("Not only the Global South", ["global_south"]),
    ("Marginalisation of migrants", ["marginalised", "migrants"]),
    ("Childhood is not a group", []),
    ("LGBTQIA+ people", ["lgbt"]),
    ("Women’s rights groups", ["women"]),
    ("Bad actors will target voice actors", ["creatives"]),
    ("Malicious actors", []),
    ("the information ecosystem and biodiversity", ["democracy", "ecosystems"]),
    ("The regulatory environment", []),
    ("The environment", ["ecosystems"]),
    ("Indigenous AI capacity", []),
    ("Indigenous communities", ["indigenous"]),
    ("Sexual and gender minorities", ["lgbt"]),
    ("Ethnic minorities", ["minorities"]),
    ("The poorest countries and the poor", ["global_south", "low_income"]),
    ("SMEs", ["small_business"]),
])
def test_synonyms_patterns_and_exclusions(groups, text, expected):
    assert tags_of(text, groups) == expected


def test_phrase_rules_spaces_hyphens_wildcards_and_word_boundaries():
    book = book_of([
        dict(id="low", label="Low", synonyms=["low-income people"]),
        dict(id="marg", label="Marg", synonyms=["marginali*"]),
        dict(id="kid", label="Kid", synonyms=["child"]),
        dict(id="lgbt", label="LGBT", synonyms=["LGBT+"]),
        dict(id="apos", label="Apos", synonyms=["people's"]),
    ])
    assert tags_of("low income people", book) == ["low"]
    assert tags_of("Low‑income\u00a0people", book) == ["low"]
    assert tags_of("lowincome people", book) == ["low"]
    assert tags_of("Marginalized, marginalisation", book) == ["marg"]
    assert tags_of("childhood, children", book) == []
    assert tags_of("a child.", book) == ["kid"]
    assert tags_of("LGBT+, and more", book) == ["lgbt"]
    assert tags_of("LGBT people", book) == []
    assert tags_of("people’s data", book) == ["apos"]


def test_non_answers_and_blanks_get_no_tag(groups):
    texts = pd.Series(["Global South", "n/a", None, "", "No", "-"], dtype=object)
    assert tag(texts, groups)["global_south"].tolist() == [True, False, False, False, False, False]
    assert match_tags(pd.Series(["No Global South"]), groups)["global_south"].tolist() == [True]


def test_explain_lists_each_match(groups):
    found = explain("Children in LMICs and kids", groups)
    assert ("children", "Children") in found and ("children", "kids") in found and ("global_south", "LMICs") in found


def test_the_bundled_codebooks_are_valid(instrument):
    books = load_all(SURVEY / "codebooks", instrument)
    assert set(books) == {"groups_of_concern", "trends"}
    assert books["groups_of_concern"].min_mentions == 3
    assert all(t.re2 is not None for b in books.values() for t in b.tags)
    assert all(t.exclude_re2 is not None for b in books.values() for t in b.tags if t.exclude)


def test_every_problem_is_one_line_naming_the_file_and_the_key(tmp_path):
    path = tmp_path / "groups_of_concern.yaml"
    path.write_text(yaml.safe_dump(dict(
        question="groups", colour="blue", min_mentions=0,
        meaningful=dict(non_answers=["n/a", False], min_letters=-1),
        manual=dict(baseline="sometimes"),
        tags=[
            dict(id="women", label="Women", synonyms=["women"], patterns=["(girls"]),
            dict(id="women", label="Girls", synonyms=["girls"]),
            dict(id="Kids", label="Women", synonyms=["women"], exclude=["x*"]),
            dict(id="empty", label="Empty"),
            dict(id="any", label="Any", patterns=["a?"], sinonyms=["x"]),
        ],
    ), sort_keys=False), encoding="utf-8")
    with pytest.raises(PulseError) as error:
        load(path)
    messages = error.value.messages
    assert all(m.startswith(f"{path}: ") and "\n" not in m for m in messages)
    expected = [
        "colour: unknown key",
        "question: 'groups' does not match the file name; name the file groups.yaml",
        "min_mentions: 0 is not a whole number of at least 1",
        "meaningful.non_answers[1]: False is not a string (YAML reads yes/no/on/off as true/false: quote it)",
        "meaningful.min_letters: -1",
        "manual.baseline: 'sometimes' is not one of automatic, none",
        "tags[women].patterns[0]: invalid regular expression '(girls'",
        "tags[women].id: duplicate tag id 'women'",
        "tags[Kids].id: 'Kids' must be lower case",
        "tags[Kids].label: 'Women' is also the label of tag 'women'",
        "tags[Kids].synonyms[0]: 'women' is also a synonym of tag 'women'",
        "tags[Kids].exclude[0]: 'x*' matches the empty string",
        "tags[empty]: no synonyms or patterns",
        "tags[any].sinonyms: unknown key",
        "tags[any].patterns[0]: 'a?' matches the empty string",
    ]
    for fragment in expected:
        assert any(fragment in m for m in messages), fragment
    assert len(messages) == len(expected)


def test_an_unquoted_no_is_caught(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text("question: q\nmeaningful: {non_answers: [n/a, no]}\ntags: [{id: a, label: A, synonyms: [a]}]\n")
    with pytest.raises(PulseError, match=r"meaningful.non_answers\[1\]: False is not a string .*quote it"):
        load(path)


def test_unreadable_files_and_foreign_questions(tmp_path, instrument):
    with pytest.raises(PulseError, match="cannot read the codebook"):
        load(tmp_path / "missing.yaml")
    (tmp_path / "q.yaml").write_text("question: [unclosed\n")
    with pytest.raises(PulseError, match=r"q.yaml: not valid YAML at line \d+"):
        load(tmp_path / "q.yaml")
    (tmp_path / "q.yaml").unlink()
    (tmp_path / "harm_a.yaml").write_text("question: harm_a\ntags: [{id: a, label: A, synonyms: [a]}]\n")
    with pytest.raises(PulseError, match="harm_a.yaml: question: 'harm_a' is not a text question"):
        load_all(tmp_path, instrument)
    assert load_all(tmp_path / "nowhere", instrument) == {}
    assert set(load_all(DATA / "codebooks")) == {"comment"}


@pytest.mark.parametrize("pattern, expected", [
    (r"lmics?", r"lmics?"),
    (r"a\sb", r"a[\t-\r\x{1c}-\x{1f}\x{85}\pZ]b"),
    (r"[\w-]+", r"[\pL\pN_-]+"),
    (r"\u00e9", r"\x{00e9}"),
    (r"[\d\s]", r"[\p{Nd}\t-\r\x{1c}-\x{1f}\x{85}\pZ]"),
    (r"^-[^\d]", r"^-[^\p{Nd}]"),
    (r"(?<!x)a", None),
    (r"a(?=b)", None),
    (r"\bword\b", None),
    (r"(a)\1", None),
    (r"[^\W\d]", None),
    (r"a{,3}", None),
    (r"(?x) a b", None),
])
def test_to_re2(pattern, expected):
    assert fast.to_re2(pattern) == expected


def test_a_pattern_re2_cannot_run_falls_back_to_python():
    book = book_of([dict(id="w", label="W", patterns=[r"women(?= and)"], exclude=[r"(?<=no )women and"])])
    assert book.tags[0].re2 is None and book.tags[0].exclude_re2 is None
    texts = pd.Series(["women and men", "women", "no women and men", None], dtype=object)
    assert match_tags(texts, book)["w"].tolist() == [True, False, False, False]


FRAGMENTS = [
    "global south", "Global-South", "LMICs", "lmic", "not the global south", "not only the Global South",
    "bad actors", "voice actors", "actors", "information ecosystem", "ecosystems", "the environment",
    "regulatory environment", "indigenous AI", "Indigenous peoples", "sexual minorities", "minorities",
    "LGBT+", "LGBTQ", "the poor", "the poorest countries", "the poor quality", "marginalised", "MARGINALIZED",
    "children", "child", "childhood", "women", "womenfolk", "é", "ß", "_", "-", "+", ",", ".", " ", "\u00a0",
    "\u2011", "’", "'", "1", "x", "\n", "smes", "SME", "workers at risk of automation",
    "people whose jobs will be automated", "nature of", "nature",
]


def assert_engines_agree(texts: list[str], book) -> None:
    series = pd.Series(texts, dtype=object)
    re2 = match_tags(series, book, engine="re2")
    python = match_tags(series, book, engine="python")
    assert re2.equals(python)
    for text, row in zip(texts, re2.itertuples(index=False)):
        reference = {t for t, _ in explain(text, book)}
        assert {t for t, hit in zip(re2.columns, row) if hit} == reference, text


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join), min_size=1, max_size=100))
def test_re2_tags_equal_python_tags(groups, texts):
    """The RE2 path and the Python reference (`explain`, i.e. `re` with lookarounds) give the same tags
    for any text built from synonyms, exclusions and awkward characters."""
    assert_engines_agree(texts, groups)


def test_re2_tags_equal_python_tags_on_many_random_texts(groups):
    rng = np.random.default_rng(7)
    texts = ["".join(rng.choice(FRAGMENTS, size=rng.integers(0, 10))) for _ in range(3000)]
    assert_engines_agree(texts, groups)
    assert match_tags(pd.Series(texts), groups).sum().sum() > 1000
