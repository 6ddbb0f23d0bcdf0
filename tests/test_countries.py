import json
from importlib import resources

import pandas as pd
import pycountry
import pytest

from pipeline import countries
from pipeline.countries import (
    INCOME_GROUPS,
    REFERENCE_VERSION,
    UN_GROUPS,
    choose_nationality,
    country_name,
    income_group,
    is_un_member,
    normalise_country,
    reference_table,
    split_countries,
    suggest,
    un_group,
)

# Member lists as printed on the UN DGACM page "Regional groups of Member
# States" (https://www.un.org/dgacm/en/content/regional-groups), in its own
# spellings. DGACM prints Türkiye in both the Asia-Pacific and the WEOG lists
# (asterisk: WEOG for electoral purposes) and the United States in neither
# (it attends WEOG as an observer); the pipeline's rules put both in WEOG.
DGACM = {
    "African": [
        "Algeria", "Angola", "Benin", "Botswana", "Burkina Faso", "Burundi", "Cabo Verde",
        "Cameroon", "Central African Republic", "Chad", "Comoros", "Congo", "Côte d'Ivoire",
        "Democratic Republic of the Congo", "Djibouti", "Egypt", "Equatorial Guinea", "Eritrea",
        "Eswatini", "Ethiopia", "Gabon", "Gambia", "Ghana", "Guinea", "Guinea-Bissau", "Kenya",
        "Lesotho", "Liberia", "Libya", "Madagascar", "Malawi", "Mali", "Mauritania", "Mauritius",
        "Morocco", "Mozambique", "Namibia", "Niger", "Nigeria", "Rwanda", "Sao Tome and Principe",
        "Senegal", "Seychelles", "Sierra Leone", "Somalia", "South Africa", "South Sudan", "Sudan",
        "Togo", "Tunisia", "Uganda", "United Republic of Tanzania", "Zambia", "Zimbabwe",
    ],
    "Asia-Pacific": [
        "Afghanistan", "Bahrain", "Bangladesh", "Bhutan", "Brunei Darussalam", "Cambodia", "China",
        "Cyprus", "Democratic People's Republic of Korea", "Fiji", "India", "Indonesia",
        "Iran (Islamic Republic of)", "Iraq", "Japan", "Jordan", "Kazakhstan", "Kiribati", "Kuwait",
        "Kyrgyzstan", "Lao People's Democratic Republic", "Lebanon", "Malaysia", "Maldives",
        "Marshall Islands", "Micronesia (Federated States of)", "Mongolia", "Myanmar", "Nauru",
        "Nepal", "Oman", "Pakistan", "Palau", "Papua New Guinea", "Philippines", "Qatar",
        "Republic of Korea", "Samoa", "Saudi Arabia", "Singapore", "Solomon Islands", "Sri Lanka",
        "Syrian Arab Republic", "Tajikistan", "Thailand", "Timor-Leste", "Tonga", "Türkiye",
        "Turkmenistan", "Tuvalu", "United Arab Emirates", "Uzbekistan", "Vanuatu", "Viet Nam",
        "Yemen",
    ],
    "Eastern European": [
        "Albania", "Armenia", "Azerbaijan", "Belarus", "Bosnia and Herzegovina", "Bulgaria",
        "Croatia", "Czechia", "Estonia", "Georgia", "Hungary", "Latvia", "Lithuania", "Montenegro",
        "North Macedonia", "Poland", "Republic of Moldova", "Romania", "Russian Federation",
        "Serbia", "Slovakia", "Slovenia", "Ukraine",
    ],
    "GRULAC": [
        "Antigua and Barbuda", "Argentina", "Bahamas", "Barbados", "Belize",
        "Bolivia (Plurinational State of)", "Brazil", "Chile", "Colombia", "Costa Rica", "Cuba",
        "Dominica", "Dominican Republic", "Ecuador", "El Salvador", "Grenada", "Guatemala",
        "Guyana", "Haiti", "Honduras", "Jamaica", "Mexico", "Nicaragua", "Panama", "Paraguay",
        "Peru", "Saint Kitts and Nevis", "Saint Lucia", "Saint Vincent and the Grenadines",
        "Suriname", "Trinidad and Tobago", "Uruguay", "Venezuela (Bolivarian Republic of)",
    ],
    "WEOG": [
        "Andorra", "Australia", "Austria", "Belgium", "Canada", "Denmark", "Finland", "France",
        "Germany", "Greece", "Iceland", "Ireland", "Israel", "Italy", "Liechtenstein",
        "Luxembourg", "Malta", "Monaco", "Netherlands (Kingdom of the)", "New Zealand", "Norway",
        "Portugal", "San Marino", "Spain", "Sweden", "Switzerland", "Türkiye",
        "United Kingdom of Great Britain and Northern Ireland",
    ],
}

# Counts of the 193 Member States under the pipeline's rules, checked against
# the DGACM lists above: Asia-Pacific is the DGACM list (Cyprus and Kiribati
# included) less Türkiye; WEOG is its 28 members (Türkiye included) plus the
# United States.
EXPECTED_GROUP_COUNTS = {
    "African": 54,
    "Asia-Pacific": 54,
    "Eastern European": 23,
    "GRULAC": 33,
    "WEOG": 29,
}

# World Bank FY2025 classification (1 July 2024, 2023 GNI per capita).
EXPECTED_INCOME = {
    "USA": "High income",
    "DEU": "High income",
    "JPN": "High income",
    "KOR": "High income",
    "SAU": "High income",
    "RUS": "High income",
    "BGR": "High income",
    "PLW": "High income",
    "CHN": "Upper middle income",
    "BRA": "Upper middle income",
    "MEX": "Upper middle income",
    "ZAF": "Upper middle income",
    "TUR": "Upper middle income",
    "IDN": "Upper middle income",
    "DZA": "Upper middle income",
    "IRN": "Upper middle income",
    "UKR": "Upper middle income",
    "MNG": "Upper middle income",
    "CRI": "Upper middle income",
    "IND": "Lower middle income",
    "PAK": "Lower middle income",
    "BGD": "Lower middle income",
    "NGA": "Lower middle income",
    "KEN": "Lower middle income",
    "EGY": "Lower middle income",
    "VNM": "Lower middle income",
    "PHL": "Lower middle income",
    "PSE": "Lower middle income",
    "ETH": "Low income",
    "AFG": "Low income",
    "SSD": "Low income",
    "YEM": "Low income",
    "TGO": "Low income",
}


def _data_csv(name):
    with resources.files("pipeline").joinpath("data").joinpath(name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def table():
    return reference_table()


@pytest.fixture(scope="module")
def aliases():
    return _data_csv("country_aliases.csv")


def test_reference_table_shape(table):
    assert list(table.columns) == ["iso3", "name", "un_member", "un_group", "income_group", "note"]
    assert table["iso3"].is_unique
    assert table["un_member"].dtype == bool
    for column in ["iso3", "name", "un_group", "income_group", "note"]:
        assert table[column].map(type).eq(str).all(), column
    assert set(table["un_group"]) <= set(UN_GROUPS) | {""}
    assert set(table["income_group"]) <= set(INCOME_GROUPS) | {""}
    assert table["iso3"].str.fullmatch(r"[A-Z]{3}").all()
    assert table["name"].ne("").all()


def test_reference_table_is_a_copy(table):
    first = reference_table()
    first.loc[0, "name"] = "changed"
    assert reference_table().loc[0, "name"] != "changed"


def test_every_pycountry_country_and_kosovo_in_table(table):
    codes = set(table["iso3"])
    assert {c.alpha_3 for c in pycountry.countries} | {"XKX"} == codes


def test_193_un_members(table):
    members = table[table["un_member"]]
    assert len(members) == 193
    assert members["un_group"].ne("").all()


def test_group_counts(table):
    members = table[table["un_member"]]
    assert members.groupby("un_group").size().to_dict() == EXPECTED_GROUP_COUNTS
    assert sum(EXPECTED_GROUP_COUNTS.values()) == 193


def test_groups_match_dgacm_lists(table):
    expected = {}
    for group, names in DGACM.items():
        for name in names:
            iso3 = normalise_country(name)
            assert iso3 is not None, name
            if iso3 == "TUR" and group == "Asia-Pacific":
                continue
            expected[iso3] = group
    expected["USA"] = "WEOG"
    members = table[table["un_member"]]
    assert dict(zip(members["iso3"], members["un_group"])) == expected


def test_special_group_rules():
    assert un_group("TUR") == "WEOG"
    assert un_group("USA") == "WEOG"
    assert un_group("ISR") == "WEOG"
    assert un_group("PSE") == "Asia-Pacific"
    assert un_group("KIR") == "Asia-Pacific"
    assert un_group("CYP") == "Asia-Pacific"
    assert un_group("VAT") == "WEOG"
    assert un_group("TWN") == un_group("HKG") == un_group("MAC") == "Asia-Pacific"
    assert un_group("XKX") == "Eastern European"
    assert un_group("MLT") == "WEOG"
    for code in ["AUS", "NZL", "CAN"]:
        assert un_group(code) == "WEOG"
    for code in ["EST", "LVA", "LTU"]:
        assert un_group(code) == "Eastern European"
    for code in ["KAZ", "KGZ", "TJK", "TKM", "UZB"]:
        assert un_group(code) == "Asia-Pacific"
    assert un_group("MEX") == "GRULAC"


def test_group_lookups_for_unknown_or_territory():
    assert un_group("PRI") is None
    assert un_group("XXX") is None
    assert un_group(None) is None
    assert un_group("fra") == "WEOG"


def test_membership():
    assert is_un_member("FRA")
    assert not is_un_member("PSE")
    assert not is_un_member("VAT")
    assert not is_un_member("TWN")
    assert not is_un_member("XKX")
    assert not is_un_member("XXX")


def test_names():
    assert country_name("TUR") == "Türkiye"
    assert country_name("KOR") == "Republic of Korea"
    assert country_name("NAM") == "Namibia"
    assert country_name("XXX") is None


@pytest.mark.parametrize("iso3,expected", sorted(EXPECTED_INCOME.items()))
def test_income_spot_checks(iso3, expected):
    assert income_group(iso3) == expected


def test_income_unclassified():
    assert income_group("VEN") is None
    assert income_group("VAT") is None
    assert income_group("XXX") is None
    assert income_group("XKX") == "Upper middle income"
    assert income_group("TWN") == "High income"


def test_every_member_but_venezuela_has_income(table):
    members = table[table["un_member"]]
    assert sorted(members.loc[members["income_group"] == "", "iso3"]) == ["VEN"]


def test_every_alias_resolves_to_a_row(table, aliases):
    codes = set(table["iso3"])
    assert list(aliases.columns) == ["alias", "iso3"]
    assert aliases["alias"].is_unique
    assert (aliases["alias"] == aliases["alias"].str.lower()).all()
    missing = sorted(set(aliases["iso3"]) - codes)
    assert missing == []
    for alias, iso3 in zip(aliases["alias"], aliases["iso3"]):
        assert normalise_country(alias) == iso3, alias


def test_every_reference_name_resolves(table):
    for iso3, name in zip(table["iso3"], table["name"]):
        assert normalise_country(name) == iso3, name


def test_na_is_namibia_not_missing(table):
    assert normalise_country("NA") == "NAM"
    assert normalise_country("Namibia") == "NAM"
    assert normalise_country("namibia") == "NAM"
    assert table.loc[table["iso3"] == "NAM", "name"].item() == "Namibia"
    raw = _data_csv("countries.csv")
    assert "NAM" in set(raw["iso3"])


@pytest.mark.parametrize("name", ["countries.csv", "country_aliases.csv"])
def test_data_files_safe_under_default_na_parsing(name):
    strict = _data_csv(name)
    with resources.files("pipeline").joinpath("data").joinpath(name).open("r", encoding="utf-8") as handle:
        default = pd.read_csv(handle, dtype=str)
    assert (default.isna() == strict.eq("")).all().all()


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Republic of Korea", "KOR"),
        ("Korea, Republic of", "KOR"),
        ("South Korea", "KOR"),
        ("Democratic People's Republic of Korea", "PRK"),
        ("Democratic People’s Republic of Korea", "PRK"),
        ("North Korea", "PRK"),
        ("USA", "USA"),
        ("U.S.", "USA"),
        ("U.S.A.", "USA"),
        ("us", "USA"),
        ("United States of America", "USA"),
        ("Côte d'Ivoire", "CIV"),
        ("Cote d'Ivoire", "CIV"),
        ("Côte d’Ivoire", "CIV"),
        ("Ivory Coast", "CIV"),
        ("Viet Nam", "VNM"),
        ("Vietnam", "VNM"),
        ("Türkiye", "TUR"),
        ("Turkiye", "TUR"),
        ("Turkey", "TUR"),
        ("UK", "GBR"),
        ("England", "GBR"),
        ("the Netherlands", "NLD"),
        ("The Gambia", "GMB"),
        ("St. Lucia", "LCA"),
        ("St Kitts & Nevis", "KNA"),
        ("Guinea Bissau", "GNB"),
        ("Bolivia (Plurinational State of)", "BOL"),
        ("São Tomé and Príncipe", "STP"),
        ("Sao Tome and Principe", "STP"),
        ("DR Congo", "COD"),
        ("Democratic Republic of the Congo", "COD"),
        ("Congo", "COG"),
        ("Republic of the Congo", "COG"),
        ("Palestine", "PSE"),
        ("Kosovo", "XKX"),
        ("XK", "XKX"),
        ("Holy See", "VAT"),
        ("Taiwan", "TWN"),
        ("  france  ", "FRA"),
        ('"France"', "FRA"),
        ("FRA", "FRA"),
        ("DE", "DEU"),
        ("NO", "NOR"),
        ("Reunion", "REU"),
        ("french", "FRA"),
        ("U.S. Virgin Islands", "VIR"),
        ("Hong Kong SAR, China", "HKG"),
    ],
)
def test_normalise_country(text, expected):
    assert normalise_country(text) == expected


@pytest.mark.parametrize("text", ["Atlantis", "", "   ", "N/A", "na", "no", "Na", "none", "840", "4", "-", None, float("nan")])
def test_normalise_country_unknown(text):
    assert normalise_country(text) is None


def test_no_fuzzy_matching():
    assert normalise_country("Frnace") is None
    assert normalise_country("Republic of Korea") != "PRK"
    assert normalise_country("U.S.") != "VIR"


def test_suggest():
    assert suggest("Frnace") == "France"
    assert suggest("Untied States") == "United States of America"
    assert suggest("Germany") == "Germany"
    assert suggest("qqqqqq") is None
    assert suggest("") is None


@pytest.mark.parametrize(
    "text,expected",
    [
        ("France; Senegal", ["France", "Senegal"]),
        ("France/Senegal", ["France", "Senegal"]),
        ("France | Senegal ;", ["France", "Senegal"]),
        ("Korea, Republic of", ["Korea, Republic of"]),
        ("Korea, Republic of; Japan", ["Korea, Republic of", "Japan"]),
        ("France", ["France"]),
        ("", []),
        (" ; ", []),
        (None, []),
    ],
)
def test_split_countries(text, expected):
    assert split_countries(text) == expected


def test_split_countries_custom_separators():
    assert split_countries("France, Senegal", separators=(",",)) == ["France", "Senegal"]
    assert split_countries("France; Senegal", separators=()) == ["France; Senegal"]


def test_choose_nationality_single_and_none():
    assert choose_nationality(["FRA"], "SEN", {"FRA": 10}) == ("FRA", "single")
    assert choose_nationality(["FRA", "FRA"], None, {}) == ("FRA", "single")
    assert choose_nationality([], "FRA", {"FRA": 3}) == (None, "none")


def test_choose_nationality_residence():
    counts = {"FRA": 10, "SEN": 1}
    assert choose_nationality(["FRA", "SEN"], "FRA", counts) == ("FRA", "residence")


def test_choose_nationality_least_represented():
    counts = {"FRA": 10, "SEN": 1}
    assert choose_nationality(["FRA", "SEN"], "USA", counts) == ("SEN", "least_represented")
    assert choose_nationality(["FRA", "SEN"], None, counts) == ("SEN", "least_represented")


def test_choose_nationality_tie_break_alphabetical():
    counts = {"SEN": 2, "FRA": 2, "USA": 9}
    assert choose_nationality(["SEN", "FRA", "USA"], "GBR", counts) == ("FRA", "least_represented")


def test_choose_nationality_missing_count_is_zero():
    assert choose_nationality(["FRA", "SEN"], None, {"FRA": 1}) == ("SEN", "least_represented")


def test_reference_version_matches_meta():
    with resources.files("pipeline").joinpath("data").joinpath("countries_meta.json").open("r", encoding="utf-8") as handle:
        meta = json.load(handle)
    assert REFERENCE_VERSION == meta["version"]
    for key in ["source_un_groups", "source_income", "version", "date"]:
        assert meta[key]


def test_name_index_is_unambiguous():
    countries._name_index.cache_clear()
    assert countries._name_index()
