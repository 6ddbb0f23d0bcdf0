"""Countries: spellings to ISO3 codes, UN regional groups, World Bank income groups.

The reference table is ``pipeline/data/countries.csv`` (one row per ISO 3166-1
entry known to pycountry, plus Kosovo as ``XKX``), with spellings that pycountry
misses or gets wrong in ``pipeline/data/country_aliases.csv``. Provenance and the
rules below are kept in ``pipeline/data/COUNTRIES.md``; the sources and their
dates are in ``pipeline/data/countries_meta.json`` and exposed as
``REFERENCE_VERSION``.

UN regional groups (column ``un_group``) follow the DGACM list of regional
groups of Member States, with these rules:

* Türkiye counts in ``WEOG`` (it is a WEOG member for electoral purposes and
  also participates fully in the Asia-Pacific Group).
* The United States counts in ``WEOG`` (it attends WEOG as an observer and is
  counted in it for electoral purposes).
* Israel is ``WEOG`` (full member in New York since 2000, made permanent 2004).
* Kiribati and Cyprus are ``Asia-Pacific``.
* The State of Palestine is ``Asia-Pacific`` (it is a member of that group).
* Documented choices for entities outside the UN groups: the Holy See is
  ``WEOG`` (European observer State that attends WEOG); Taiwan, Hong Kong and
  Macao are ``Asia-Pacific`` (geography); Kosovo is ``Eastern European``
  (geography). Other territories have no group.

With these rules the 193 Member States split into African 54, Asia-Pacific 54,
Eastern European 23, GRULAC 33 and WEOG 29.

Income groups (column ``income_group``) are the World Bank classification for
fiscal year 2025 (released 1 July 2024, based on 2023 GNI per capita); an empty
value means the World Bank did not classify the economy (e.g. Venezuela in
FY2025, the Holy See).

Matching is exact and never fuzzy: a spelling resolves through the alias table,
the reference names and pycountry's names, compared after case folding,
whitespace, quote, dash and full-stop normalisation, and again with accents
removed. Two- and three-letter ISO codes are only read as codes when written in
capitals, so ``"NA"`` is Namibia while ``"no"`` or ``"na"`` are not countries.
"""

from __future__ import annotations

import difflib
import functools
import json
import unicodedata
from collections.abc import Mapping
from importlib import resources

import pandas as pd
import pycountry

__all__ = [
    "REFERENCE_VERSION",
    "UN_GROUPS",
    "INCOME_GROUPS",
    "normalise_country",
    "split_countries",
    "un_group",
    "income_group",
    "is_un_member",
    "country_name",
    "reference_table",
    "suggest",
    "choose_nationality",
]

UN_GROUPS = ("African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG")
INCOME_GROUPS = ("Low income", "Lower middle income", "Upper middle income", "High income")

_COLUMNS = ["iso3", "name", "un_member", "un_group", "income_group", "note"]
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u00b4": "'", "`": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"',
                         "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
                         "\u2015": "-", "\u2212": "-"})
_WRAPPING = " \t\"'*,;:"


def _data_file(name: str):
    return resources.files("pipeline").joinpath("data").joinpath(name)


def _read_csv(name: str) -> pd.DataFrame:
    with _data_file(name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False, na_filter=False)


def _load_meta() -> dict:
    with _data_file("countries_meta.json").open("r", encoding="utf-8") as handle:
        return json.load(handle)


REFERENCE_VERSION: str = _load_meta()["version"]


@functools.cache
def _table() -> pd.DataFrame:
    table = _read_csv("countries.csv")
    if list(table.columns) != _COLUMNS:
        raise ValueError(f"countries.csv: expected columns {_COLUMNS}, found {list(table.columns)}")
    bad = set(table["un_member"]) - {"true", "false"}
    if bad:
        raise ValueError(f"countries.csv: un_member must be 'true' or 'false', found {sorted(bad)}")
    table["un_member"] = table["un_member"] == "true"
    if table["iso3"].duplicated().any():
        raise ValueError(f"countries.csv: duplicated iso3 {sorted(table.loc[table['iso3'].duplicated(), 'iso3'])}")
    return table.set_index("iso3", drop=False)


@functools.cache
def _rows() -> dict[str, dict]:
    return {row["iso3"]: row for row in _table().to_dict("records")}


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split()).strip(_WRAPPING)


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _key(text: str) -> str:
    """Comparison key: cleaned, case-folded, '&' read as 'and', full stops dropped, dashes as spaces."""
    text = _clean(text).casefold().replace("&", " and ").replace(".", "").replace("-", " ")
    return " ".join(text.split())


def _keys(text: str) -> list[str]:
    """Exact comparison keys for one spelling, in order of preference."""
    base = _key(text)
    keys = [base, _strip_accents(base)]
    for key in list(keys):
        if key.startswith("the "):
            keys.append(key[4:])
        if key.startswith("st "):
            keys.append("saint " + key[3:])
    return list(dict.fromkeys(keys))


@functools.cache
def _aliases() -> dict[str, str]:
    aliases = _read_csv("country_aliases.csv")
    if list(aliases.columns) != ["alias", "iso3"]:
        raise ValueError(f"country_aliases.csv: expected columns ['alias', 'iso3'], found {list(aliases.columns)}")
    return dict(zip(aliases["alias"], aliases["iso3"]))


@functools.cache
def _name_index() -> dict[str, str]:
    """Exact keys of every known spelling: aliases, reference names, pycountry names.

    Raises ValueError when one key would map to two codes.
    """
    known = set(_rows())
    spellings: list[tuple[str, str]] = [
        *_aliases().items(),
        *((row["name"], iso3) for iso3, row in _rows().items()),
        *((getattr(country, field), country.alpha_3)
          for country in pycountry.countries
          for field in ("name", "official_name", "common_name")
          if getattr(country, field, None)),
    ]
    index: dict[str, str] = {}
    for spelling, iso3 in spellings:
        if iso3 not in known:
            continue
        for key in (_key(spelling), _strip_accents(_key(spelling))):
            if index.setdefault(key, iso3) != iso3:
                raise ValueError(f"country spelling {spelling!r} maps to both {index[key]} and {iso3}")
    return index


@functools.cache
def _code_index() -> dict[str, str]:
    known = set(_rows())
    codes = {iso3: iso3 for iso3 in known}
    codes.update({c.alpha_2: c.alpha_3 for c in pycountry.countries if c.alpha_3 in known})
    if "XKX" in known:
        codes["XK"] = "XKX"
    return codes


@functools.lru_cache(maxsize=None)
def normalise_country(text: str) -> str | None:
    """Return the ISO3 code of one country spelling, or None when it is not recognised.

    Steps, all exact: clean the text (Unicode NFKC, curly quotes and dashes made
    plain, whitespace collapsed, wrapping quotes dropped); a
    capitalised two- or three-letter text is read as an ISO 3166-1 alpha-2 or
    alpha-3 code ("NA" is Namibia, "XK"/"XKX" Kosovo); then the alias table,
    the reference names and pycountry's names and official and common names are
    compared case-insensitively, ignoring full stops, with dashes as spaces,
    with and without accents, and also without a leading "the" or with "St"
    read as "Saint"; last, ``pycountry.countries.lookup`` on the text and on
    the text without accents. Lower-case or mixed-case two- and three-letter
    texts are never read as codes ("no", "na", "Na" give None unless listed as
    aliases, like "us" or "uk"), digits-only texts are never read as ISO
    numeric codes, and non-strings give None. The returned code is always a row
    of ``reference_table()``. Nothing is fuzzy-matched.
    """
    if not isinstance(text, str):
        return None
    cleaned = _clean(text)
    if not cleaned or not any(ch.isalpha() for ch in cleaned):
        return None
    if len(cleaned) <= 3 and cleaned.isascii() and cleaned.isalpha() and cleaned.isupper():
        code = _code_index().get(cleaned)
        if code:
            return code
    index = _name_index()
    for key in _keys(cleaned):
        if key in index:
            return index[key]
    if len(cleaned) > 3:
        for candidate in dict.fromkeys((cleaned, _strip_accents(cleaned))):
            try:
                iso3 = pycountry.countries.lookup(candidate).alpha_3
            except LookupError:
                continue
            if iso3 in _rows():
                return iso3
    return None


def split_countries(text: str, separators: tuple[str, ...] = (";", "/", "|")) -> list[str]:
    """Return the raw country spellings in a multi-country answer, stripped, empty parts dropped.

    "France; Senegal" gives ["France", "Senegal"]. Commas never split, since
    names such as "Korea, Republic of" contain them. A non-string or blank
    answer gives []. Parts are not normalised: pass each to
    ``normalise_country``.
    """
    if not isinstance(text, str):
        return []
    parts = [text]
    for separator in separators:
        parts = [piece for part in parts for piece in part.split(separator)]
    return [part.strip() for part in parts if part.strip()]


def _row(iso3: str | None) -> dict | None:
    if not isinstance(iso3, str):
        return None
    return _rows().get(iso3.strip().upper())


def un_group(iso3: str) -> str | None:
    """Return the UN regional group of an ISO3 code (one of ``UN_GROUPS``), or None.

    None for codes outside the reference table and for entities with no group
    (territories). Türkiye and the United States are WEOG; see the module
    docstring for every rule.
    """
    row = _row(iso3)
    return (row["un_group"] or None) if row else None


def income_group(iso3: str) -> str | None:
    """Return the World Bank FY2025 income group of an ISO3 code (one of ``INCOME_GROUPS``), or None.

    None for codes outside the reference table and for economies the World
    Bank did not classify in FY2025 (e.g. Venezuela, the Holy See, most small
    territories).
    """
    row = _row(iso3)
    return (row["income_group"] or None) if row else None


def is_un_member(iso3: str) -> bool:
    """Return True when the ISO3 code is one of the 193 UN Member States (observer States are not)."""
    row = _row(iso3)
    return bool(row and row["un_member"])


def country_name(iso3: str) -> str | None:
    """Return the reference name of an ISO3 code, or None when the code is not in the table.

    UN Member and observer States carry their UN short name (e.g. "Türkiye",
    "Republic of Korea"); other entries their ISO 3166-1 name, Kosovo "Kosovo".
    """
    row = _row(iso3)
    return row["name"] if row else None


def reference_table() -> pd.DataFrame:
    """Return a copy of the reference table: columns iso3, name, un_member (bool), un_group, income_group, note.

    Every column but un_member is str, with "" (never NaN) where a value is
    absent; the index is a plain RangeIndex.
    """
    return _table().reset_index(drop=True).copy()


@functools.cache
def _suggestion_pool() -> dict[str, str]:
    return {_key(spelling): iso3 for spelling, iso3 in
            [*_aliases().items(), *((row["name"], iso3) for iso3, row in _rows().items())]}


def suggest(text: str) -> str | None:
    """Return the reference name of a country whose spelling is close to ``text``, or None.

    For "did you mean ...?" hints shown to a person only: it uses
    ``difflib.get_close_matches`` over reference names and aliases, so it may
    be wrong, and must never be used to match answers.
    """
    if not isinstance(text, str) or not _clean(text):
        return None
    known = normalise_country(text)
    if known:
        return country_name(known)
    pool = _suggestion_pool()
    match = difflib.get_close_matches(_strip_accents(_key(text)), list(pool), n=1, cutoff=0.75)
    return country_name(pool[match[0]]) if match else None


def choose_nationality(
    nationalities: list[str],
    residence: str | None,
    sample_counts: Mapping[str, int],
) -> tuple[str | None, str]:
    """Return (chosen ISO3 nationality, rule name) for one respondent.

    Inputs are ISO3 codes; repeated nationalities count once. The rule:

    * no nationality: ``(None, "none")``;
    * one nationality: ``(it, "single")``;
    * several, one of which is the country of residence: ``(residence, "residence")``;
    * several otherwise: the nationality least represented in the sample,
      ``(it, "least_represented")``, where ``sample_counts[iso3]`` is the number
      of respondents holding that nationality, counting every nationality of
      every respondent (a code missing from it counts 0); ties go to the
      alphabetically first ISO3 code.
    """
    distinct = list(dict.fromkeys(code for code in nationalities if code))
    if not distinct:
        return None, "none"
    if len(distinct) == 1:
        return distinct[0], "single"
    if residence is not None and residence in distinct:
        return residence, "residence"
    chosen = min(distinct, key=lambda code: (sample_counts.get(code, 0), code))
    return chosen, "least_represented"
