"""Redaction: planted e-mail addresses, phone numbers, URLs, handles and listed names are all gone;
years, DOIs and ordinary numbers stay. Fixture: tests/data/text/planted.csv (one row per answer: the
respondent's country of residence, the text, `|`-separated strings that must be gone and strings that
must stay, and the expected replacements per kind)."""

import pandas as pd
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PulseError
from pipeline.text import fast
from pipeline.text.redact import KINDS, iso2, load_list, name_variants, redact, redact_answers
from tests.text.conftest import DATA, SURVEY

KEPT_TEXT = ("Published in 2024 (doi 10.1000/182, doi:10.1038/s41586-021-03819-2); UN resolution 78/265; "
             "1,200 workers, 48%, 18 months, 1990 and 2024, 2024-05-31, 12/05/2024, 3.5 billion, ISO 27001, "
             "GPT-4, 24/7, ISBN 978-3-16-148410-0, 10 000 people, p < 0.05")


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    return pd.read_csv(DATA / "planted.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def names() -> list[str]:
    return load_list(SURVEY / "redaction.yaml").flat


@pytest.fixture(params=["python", "re2"])
def engine(request, monkeypatch):
    """Run each test with the prefilters through Python's re (small inputs) and through RE2 (large)."""
    monkeypatch.setattr(fast, "RE2_FROM", 10**9 if request.param == "python" else 0)
    return request.param


def test_planted_personal_data_is_gone_and_numbers_stay(planted, names, engine):
    regions = planted["residence"].replace("", None)
    redacted, per_answer = redact_answers(planted["text"], regions, names)
    for i, text in redacted.items():
        for gone in filter(None, planted.at[i, "gone"].split("|")):
            assert gone.casefold() not in text.casefold(), (gone, text)
        for kept in filter(None, planted.at[i, "kept"].split("|")):
            assert kept in text, (kept, text)
        assert per_answer.loc[i].to_dict() == {k: int(planted.at[i, k]) for k in KINDS}, text
    _, totals = redact(planted["text"], regions, names)
    assert totals == {k: int(planted[k].astype(int).sum()) for k in KINDS}
    assert totals == dict(url=3, email=5, handle=3, phone=16, name=9)


def test_placeholders(names):
    text = pd.Series(["Ada Quillfeather: ada@example.org, +44 20 7946 0958, https://example.org, @ada"])
    assert redact(text, None, names)[0].iat[0] == "[name]: [email], [phone], [url], [handle]"


@pytest.mark.parametrize("region", ["GBR", "USA", "DEU", "FRA", "KEN", "IND", "BRA", "NGA", "CHE", "JPN", "CHN",
                                    "ZAF", "MEX", "ITA", "XKX", "XXX", None])
def test_years_dois_and_ordinary_numbers_are_never_phone_numbers(region, engine):
    redacted, counts = redact(pd.Series([KEPT_TEXT]), pd.Series([region]), [])
    assert redacted.iat[0] == KEPT_TEXT and sum(counts.values()) == 0


@pytest.mark.parametrize("iso3", ["GBR", "USA", "DEU", "FRA", "KEN", "IND", "BRA", "NGA", "CHE", "JPN", "ZAF"])
def test_national_formats_are_found_with_the_respondents_region_only(iso3):
    region = iso2(iso3)
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    text = pd.Series([f"call {national} today"])
    assert redact(text, pd.Series([iso3]), [])[0].iat[0] == "call [phone] today"
    assert redact(text, None, [])[1]["phone"] == 0
    assert redact(pd.Series([f"call {international} today"]), None, [])[0].iat[0] == "call [phone] today"


def test_the_default_region_is_aligned_on_the_index():
    texts = pd.Series(["06 12 34 56 78", "06 12 34 56 78"], index=[7, 3])
    regions = pd.Series(["USA", "FRA"], index=[3, 7])
    redacted, counts = redact(texts, regions, [])
    assert redacted.tolist() == ["[phone]", "06 12 34 56 78"] and counts["phone"] == 1


@settings(max_examples=60, deadline=None)
@given(local=st.from_regex(r"[a-z][a-z0-9]{1,8}(?:[._+][a-z0-9]{1,6})?", fullmatch=True),
       labels=st.lists(st.from_regex(r"[a-z][a-z0-9]{2,10}", fullmatch=True), min_size=1, max_size=3),
       tld=st.sampled_from(["org", "com", "ac.uk", "int", "ngo", "africa", "ch"]))
def test_no_part_of_an_email_address_survives(local, labels, tld):
    domain = ".".join(labels) + "." + tld
    redacted, counts = redact(pd.Series([f"Write to {local}@{domain}."]), None, [])
    assert redacted.iat[0] == "Write to [email]." and counts["email"] == 1


def test_handles_are_not_email_addresses():
    redacted, counts = redact(pd.Series(["@jane_doe and jane@example.org and @jane@example.social"]), None, [])
    assert redacted.iat[0] == "[handle] and [email] and [handle]"
    assert (counts["handle"], counts["email"]) == (2, 1)


def test_names_whole_words_any_order_any_case():
    assert name_variants("Ada Quill") == ["Ada Quill", "Quill Ada", "Quill, Ada"]
    assert name_variants("Quill, Ada") == ["Quill, Ada", "Ada Quill", "Quill Ada"]
    assert name_variants("Prince") == ["Prince"]
    texts = pd.Series(["ADA QUILL", "quill ada", "Quill, Ada", "Ada Quills", "Adalind Quill", "Ada  Quill."])
    redacted, counts = redact(texts, None, ["Ada Quill"])
    assert redacted.tolist() == ["[name]", "[name]", "[name]", "Ada Quills", "Adalind Quill", "[name]."]
    assert counts["name"] == 4


def test_missing_values_stay_missing_and_the_index_is_kept():
    texts = pd.Series([None, float("nan"), "", "ok"], index=[5, 6, 7, 8], dtype=object)
    redacted, counts = redact(texts, None, ["Ada Quill"])
    assert redacted.index.tolist() == [5, 6, 7, 8]
    assert redacted.iloc[0] is None and redacted.iloc[1] is None and redacted.tolist()[2:] == ["", "ok"]
    assert counts == {k: 0 for k in KINDS}


def test_iso2():
    assert (iso2("GBR"), iso2("XKX"), iso2("XXX"), iso2(None), iso2(float("nan")), iso2("GB")) == \
        ("GB", "XK", None, None, None, None)


def test_the_redaction_list(tmp_path):
    listed = load_list(SURVEY / "redaction.yaml")
    assert listed.phone_region == "residence_iso3"
    assert ("Marisol Vantongeren", "M. Vantongeren") in listed.names
    assert load_list(tmp_path / "absent.yaml").names == ()
    bad = tmp_path / "redaction.yaml"
    bad.write_text("names: [Ada Quill, 42, [], [Ok Name, '']]\nphone_region: 3\ncolour: red\n")
    with pytest.raises(PulseError) as error:
        load_list(bad)
    messages = error.value.messages
    assert len(messages) == 5 and all(m.startswith(f"{bad}: ") for m in messages)
    assert any("names[1]" in m for m in messages) and any("names[3]" in m for m in messages)
    assert any("phone_region" in m for m in messages) and any("colour: unknown key" in m for m in messages)
