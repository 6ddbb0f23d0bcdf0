"""Redaction of personal data in free-text answers, so that none leaves ingest.

Kinds, replaced by their placeholder in the order URLs with a scheme or `www.`, e-mail addresses,
bare domains, handles, phone numbers, names (so that an e-mail address is never read as a handle or
a domain, nor the digits of a URL as a phone number):

| kind     | placeholder | what |
|----------|-------------|------|
| `url`    | `[url]`     | `http(s)://…`, `ftp://…`, `www.…`, and bare domains with a common top-level domain (`example.org/page`) |
| `email`  | `[email]`   | the whole address including its domain (`jane.doe@dept.example.ac.uk`), also written `jane [at] example [dot] org`, `jane (at) example.org`, or `jane at example dot org` (common TLDs only); Mastodon-style `@user@instance.social` counts as a handle |
| `handle` | `[handle]`  | social-media handles `@name` (never the `@` of an e-mail address) |
| `phone`  | `[phone]`   | numbers found by `phonenumbers.PhoneNumberMatcher` (leniency VALID) with the respondent's country of residence as the default region (international `+…` numbers are found whatever the region); no region is scanned but the respondent's, so years, dates, DOIs (10.1000/182) and ordinary numbers stay |
| `name`   | `[name]`    | the names of the survey's redaction list (whole words, case-insensitive, accented letters also match unaccented ones), in the listed form and in the other order: "Firstname Lastname", "Lastname Firstname", "Lastname, Firstname" |

Every kind but `phone` is one compiled regular expression applied with pandas `.str` methods, only
to the answers that a prefilter (`PREFILTERS`, vectorised through RE2 for large inputs) finds may
contain a match; phone numbers are looked for only in answers with a `+` and five digits, or with a
run of at least as many digits as the shortest national number of the respondent's region. No model
and no named-entity recogniser is used.

The per-survey list of names is `surveys/<survey>/redaction.yaml` (see `load_list`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import phonenumbers
import pycountry
import yaml

from pipeline.errors import PulseError
from pipeline.instrument import parse_yaml
from pipeline.text import fast
from pipeline.text.codebook import bounded, phrase_regex

KINDS = ("url", "email", "handle", "phone", "name")
PLACEHOLDERS = {kind: f"[{kind}]" for kind in KINDS}
ISO2_EXTRA = {"XKX": "XK"}
_TLDS = (
    "com|org|net|edu|gov|int|mil|info|biz|io|ai|app|dev|tech|online|site|xyz|social|museum|coop|"
    "uk|de|fr|ch|nl|ca|au|nz|ie|ke|ng|za|gh|br|mx|ar|cl|cn|jp|kr|ru|es|eu|se|dk|fi|pl|pt|gr|tr|ua|"
    "ro|cz|sg|hk|tw|ph|pk|bd|lk|np|vn|th|eg|ma|tn|rw|ug|tz|sn|co\\.uk|ac\\.uk|gov\\.uk"
)
_URL_END = r"[^\s<>\"'.,;:!?)\]}]"
_URL_BODY = r"[^\s<>\"]"
URL = re.compile(rf"(?:(?:https?|ftp)://|www\.){_URL_BODY}*{_URL_END}", re.IGNORECASE)
DOMAIN = re.compile(
    rf"(?<![\w@.\-/])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:{_TLDS})(?![\w\-@])(?:/(?:{_URL_BODY}*{_URL_END})?)?",
    re.IGNORECASE,
)
_AT = r"(?:@|\s+@\s+|\s*[\[({]\s*at\s*[\])}]\s*)"
_DOT = r"(?:\.|\s*[\[({]\s*dot\s*[\])}]\s*)"
_LOCAL = r"[\w!#$%&'*+/=?^`{|}~\-]+(?:\.[\w!#$%&'*+/=?^`{|}~\-]+)*"
_LABEL = r"[\w](?:[\w\-]*[\w])?"
EMAIL = re.compile(
    rf"(?<![\w@]){_LOCAL}{_AT}(?:{_LABEL}{_DOT})+[a-z]{{2,}}(?![\w\-])"
    rf"|(?<![\w@]){_LOCAL}\s+at\s+(?:{_LABEL}\s+dot\s+)+(?:{_TLDS})(?![\w\-])",
    re.IGNORECASE,
)
HANDLE = re.compile(
    rf"(?<![\w@.\-/])@\w+(?:[.\-]\w+)*@(?:{_LABEL}\.)+[a-z]{{2,}}(?![\w\-])"
    r"|(?<![\w@.\-/])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,48}[A-Za-z0-9_])?(?![\w@])"
)
# Patterns every answer with a match contains (a superset): only those answers go through the exact
# expressions above (see `pipeline.text.fast.contains`).
PREFILTERS = {
    "url": r"(?:https?|ftp)://|www\.",
    "email": r"@|[\[({]\s*at\s*[\])}]|\sat\s+\S+\s+dot\s",
    "domain": rf"[a-z0-9]\.(?:{_TLDS})",
    "handle": "@",
}
_SEPARATORS = r"[\s().\-/]"


@dataclass(frozen=True)
class RedactionList:
    """A survey's redaction list: `names` as listed (each entry a tuple of the forms of one person's name)
    and `phone_region`, the clean variable holding each respondent's ISO3 country of residence (the
    default region for national-format phone numbers), or None."""

    names: tuple[tuple[str, ...], ...] = ()
    phone_region: str | None = None
    path: Path | None = None

    @property
    def flat(self) -> list[str]:
        """Every listed form, one string each (what `redact` takes as `names`)."""
        return [form for person in self.names for form in person]


def load_list(path: Path | str) -> RedactionList:
    """Read `surveys/<survey>/redaction.yaml`: `names` (a list whose items are a name, or a list of forms of
    one name) and optional `phone_region` (a clean variable name). A missing file is an empty list; any
    problem raises PulseError, one line per problem naming the file and key."""
    path = Path(path)
    if not path.exists():
        return RedactionList(path=path)
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise PulseError(f"{path}: cannot read the redaction list ({error}); fix the YAML") from None
    if not isinstance(raw, dict):
        raise PulseError(f"{path}: (top level): must be a mapping with names and phone_region")
    problems = [f"{path}: {key}: unknown key; expected names, phone_region" for key in raw
                if key not in ("names", "phone_region")]
    names: list[tuple[str, ...]] = []
    entries = raw.get("names") or []
    if not isinstance(entries, list):
        problems.append(f"{path}: names: must be a list of names")
        entries = []
    for i, entry in enumerate(entries):
        forms = entry if isinstance(entry, list) else [entry]
        if not forms or not all(isinstance(f, str) and re.search(r"[^\W\d_]", f) for f in forms):
            problems.append(f"{path}: names[{i}]: {entry!r} must be a name, or a list of forms of one name")
            continue
        names.append(tuple(" ".join(f.split()) for f in forms))
    region = raw.get("phone_region")
    if region is not None and (not isinstance(region, str) or not region.strip()):
        problems.append(f"{path}: phone_region: {region!r} must name a clean variable holding ISO3 codes")
    if problems:
        raise PulseError(problems)
    return RedactionList(tuple(names), region, path)


def name_variants(name: str) -> list[str]:
    """A listed name and its other orders: "Ada Quill" -> also "Quill Ada", "Quill, Ada";
    "Quill, Ada" -> also "Ada Quill", "Quill Ada". A name of one word is only itself; without a comma
    the first word is taken as the given name and the rest as the family name."""
    name = " ".join(name.split())
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
    else:
        given, _, family = name.partition(" ")
    if not given or not family:
        return [name]
    return list(dict.fromkeys([name, f"{given} {family}", f"{family} {given}", f"{family}, {given}"]))


def names_regex(names: list[str]) -> re.Pattern | None:
    """One expression matching every listed name in every order, on word boundaries, case-insensitively;
    None for an empty list."""
    forms = [variant for name in names for variant in name_variants(name) if variant.strip()]
    if not forms:
        return None
    return re.compile(bounded([phrase_regex(f, accents=True) for f in forms]), re.IGNORECASE)


def iso2(iso3: Any) -> str | None:
    """The ISO 3166-1 alpha-2 code phonenumbers uses as a region for an ISO3 code; None when unknown
    (e.g. XXX, blank, missing)."""
    return _iso2(iso3) if isinstance(iso3, str) and len(iso3) == 3 else None


def names_prefilter(names: list[str]) -> str | None:
    """A pattern every answer naming a listed person contains (the names without word boundaries), or
    None for an empty list."""
    forms = [variant for name in names for variant in name_variants(name) if variant.strip()]
    return "|".join(f"(?:{phrase_regex(f, accents=True)})" for f in forms) or None


@cache
def _iso2(iso3: str) -> str | None:
    if iso3.upper() in ISO2_EXTRA:
        return ISO2_EXTRA[iso3.upper()]
    country = pycountry.countries.get(alpha_3=iso3.upper())
    return country.alpha_2 if country is not None else None


def _candidates(values: pd.Series, prefilter: str | None) -> np.ndarray:
    if prefilter is None:
        return values.notna().to_numpy(dtype=bool)
    return fast.contains(values, prefilter)


def _apply(values: pd.Series, regex: re.Pattern | None, placeholder: str,
           prefilter: str | None) -> tuple[pd.Series, np.ndarray]:
    counts = np.zeros(len(values), dtype=int)
    if regex is None:
        return values, counts
    rows = np.flatnonzero(_candidates(values, prefilter))
    if not len(rows):
        return values, counts
    part = values.iloc[rows]
    found = part.str.count(regex).fillna(0).to_numpy(dtype=int)
    counts[rows] = found
    if found.any():
        values = values.copy()
        hit = rows[found > 0]
        values.iloc[hit] = values.iloc[hit].str.replace(regex, placeholder, regex=True).to_numpy(dtype=object)
    return values, counts


def _min_digits(region: str) -> int | None:
    """The fewest digits a phone number written in `region`'s national format can have; None for an
    unknown region (numbers without a `+` are then not looked for)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None or not metadata.general_desc.possible_length:
        return None
    return min(metadata.general_desc.possible_length)


def _phone_candidates(values: pd.Series, regions: np.ndarray) -> np.ndarray:
    """Answers that may hold a phone number: a `+` followed by at least five digits, or a run of at least
    as many digits as the shortest national number of the respondent's region (one search per distinct
    shortest length, over the answers of every region with that length)."""
    candidates = fast.contains(values, rf"\+{_SEPARATORS}*\d(?:{_SEPARATORS}{{0,3}}\d){{4,}}")
    codes, uniques = pd.factorize(pd.Series(regions, dtype=object))
    least = np.array([_min_digits(region) or 0 for region in uniques] + [0], dtype=np.int64)[codes]
    for digits in np.unique(least[least > 0]):
        rows = np.flatnonzero(least == digits)
        pattern = rf"\d(?:{_SEPARATORS}{{0,3}}\d){{{max(int(digits), 5) - 1},}}"
        candidates[rows] |= fast.contains(values.iloc[rows], pattern)
    return candidates


def _phones(values: pd.Series, regions: pd.Series | None) -> tuple[pd.Series, np.ndarray]:
    counts = np.zeros(len(values), dtype=int)
    raw = (regions.reindex(values.index).to_numpy(dtype=object) if regions is not None
           else np.full(len(values), None, dtype=object))
    codes, uniques = pd.factorize(pd.Series(raw, dtype=object))
    region_of = np.array([iso2(code) for code in uniques] + [None], dtype=object)[codes]
    candidates = _phone_candidates(values, region_of)
    if not candidates.any():
        return values, counts
    texts = values.to_numpy(dtype=object).copy()
    placeholder = PLACEHOLDERS["phone"]
    for position in np.flatnonzero(candidates):
        text = texts[position]
        matches = list(phonenumbers.PhoneNumberMatcher(text, region_of[position] or "ZZ",
                                                       phonenumbers.Leniency.VALID))
        for match in reversed(matches):
            start, end = match.start, match.end
            if text[start] == "(" and ")" not in text[start:end]:
                start += 1
            text = text[:start] + placeholder + text[end:]
        texts[position] = text
        counts[position] = len(matches)
    return pd.Series(texts, index=values.index, dtype=object), counts


def _distinct_answers(values: pd.Series, regions: pd.Series | None) -> tuple[np.ndarray, pd.Series, pd.Series | None]:
    """(code of each answer, the distinct (answer, region) pairs as two Series on one RangeIndex); a
    missing answer gets code -1. Redaction depends only on the answer and its region, so it runs once
    per pair."""
    text_codes, texts = fast.distinct(values)
    if regions is None:
        return text_codes, texts, None
    region_codes, region_values = fast.distinct(regions.reindex(values.index))
    width = len(region_values) + 1
    pair = np.where(text_codes >= 0, text_codes.astype(np.int64) * width + region_codes + 1, -1)
    codes, pairs = pd.factorize(pair)
    pairs = np.asarray(pairs, dtype=np.int64)
    present = pairs >= 0
    kept = np.flatnonzero(present)
    rename = np.full(len(pairs) + 1, -1, dtype=np.int64)
    rename[kept] = np.arange(len(kept))
    codes = rename[codes]
    text_of, region_of = np.divmod(pairs[kept], width)
    region_table = np.array(list(region_values) + [None], dtype=object)
    distinct = pd.Series(texts.to_numpy()[text_of], dtype=object)
    return codes, distinct, pd.Series(region_table[region_of - 1], dtype=object)


def _redact_distinct(values: pd.Series, default_regions: pd.Series | None,
                     names: list[str]) -> tuple[pd.Series, dict[str, np.ndarray]]:
    """The redacted answers and the count of each kind per answer, for answers with no missing value."""
    counts: dict[str, np.ndarray] = {}
    values, urls = _apply(values, URL, PLACEHOLDERS["url"], PREFILTERS["url"])
    values, counts["email"] = _apply(values, EMAIL, PLACEHOLDERS["email"], PREFILTERS["email"])
    values, domains = _apply(values, DOMAIN, PLACEHOLDERS["url"], PREFILTERS["domain"])
    counts["url"] = urls + domains
    values, counts["handle"] = _apply(values, HANDLE, PLACEHOLDERS["handle"], PREFILTERS["handle"])
    values, counts["phone"] = _phones(values, default_regions)
    values, counts["name"] = _apply(values, names_regex(names), PLACEHOLDERS["name"], names_prefilter(names))
    return values, counts


def redact_answers(texts: pd.Series, default_regions: pd.Series | None,
                   names: list[str]) -> tuple[pd.Series, pd.DataFrame]:
    """The redacted answers (same index; missing values stay missing) and, per answer, how many of each
    kind were replaced (an int frame with one column per kind in `KINDS`). `default_regions` holds each
    respondent's ISO3 country of residence, aligned on the index of `texts` (None: only international
    `+…` numbers are found); `names` are the forms listed in the survey's redaction list. Each distinct
    (answer, region) pair is redacted once."""
    codes, distinct, regions = _distinct_answers(texts, default_regions)
    redacted, counts = _redact_distinct(distinct, regions, list(names))
    table = np.append(redacted.to_numpy(dtype=object), None)
    out = pd.Series(table[codes], index=texts.index, dtype=object)
    per_answer = {kind: np.append(counts[kind], 0)[codes] for kind in KINDS}
    return out, pd.DataFrame(per_answer, index=texts.index)


def redact(texts: pd.Series, default_regions: pd.Series | None,
           names: list[str]) -> tuple[pd.Series, dict[str, int]]:
    """The redacted answers (same index) and the number of replacements of each kind in `KINDS`
    (0 included). See `redact_answers` for the arguments."""
    redacted, per_answer = redact_answers(texts, default_regions, names)
    return redacted, {kind: int(per_answer[kind].sum()) for kind in KINDS}
