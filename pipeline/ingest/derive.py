"""Derived variables: new columns computed from recoded answers by the rules the instrument names."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from pipeline import countries
from pipeline.ingest.recode import UNKNOWN_COUNTRY, Recoded
from pipeline.instrument import Derived, Instrument

NATIONALITY_RULES = {
    "single": "one nationality",
    "residence": "several nationalities: the country of residence is one of them",
    "least_represented": "several nationalities, none the country of residence: the least represented in the sample",
    "none": "no known nationality",
}


def _codes(values) -> list[str]:
    return [] if values is None or values == "" else [c for c in str(values).split(";") if c and c != UNKNOWN_COUNTRY]


def derive_country(values: np.ndarray) -> np.ndarray:
    """The single country code of each answer (ISO3, "XXX" for an unknown spelling, None if blank)."""
    return np.array([None if v is None else str(v).split(";")[0] for v in values], dtype=object)


def derive_nationality(nationalities: np.ndarray, residence: np.ndarray, out: Recoded, variable: str) -> np.ndarray:
    """The nationality used for analysis, by `countries.choose_nationality`; the count of each rule's use
    goes to the recodes. Sample counts are over all nationalities of all kept respondents."""
    lists = [_codes(v) for v in nationalities]
    sample_counts = Counter(code for codes in lists for code in codes)
    chosen = np.empty(len(lists), dtype=object)
    used: Counter = Counter()
    for i, (codes, home) in enumerate(zip(lists, residence)):
        if not codes:
            unknown = nationalities[i] is not None and nationalities[i] != ""
            chosen[i] = UNKNOWN_COUNTRY if unknown else None
            used["none"] += 1
            continue
        chosen[i], rule = countries.choose_nationality(codes, home if home != UNKNOWN_COUNTRY else None, sample_counts)
        used[rule] += 1
    for rule in ("single", "residence", "least_represented", "none"):
        if used[rule]:
            out.recodes.append(dict(question=variable, rule=f"nationality_rule:{rule}",
                                    value_exported=NATIONALITY_RULES[rule], value_used="nationality used for analysis",
                                    count=used[rule]))
    return chosen


def derive_lookup(codes: np.ndarray, lookup, categories: tuple[str, ...]) -> pd.Categorical:
    """A categorical from a country-code lookup (UN group, income group); unknown or unclassified → "Unknown"."""
    mapped = [None if c is None else (lookup(c) if c != UNKNOWN_COUNTRY else None) or "Unknown" for c in codes]
    return pd.Categorical(mapped, categories=list(categories))


def derive_recode(values, variable: Derived) -> pd.Categorical:
    """A categorical from a value map; unmapped values take `other` (or stay missing without it).
    "Unknown" (an unknown country's group) stays missing unless the map names it."""
    mapping = dict(variable.options["map"])
    other = variable.options.get("other")
    mapping.setdefault("Unknown", None)
    mapped = [None if v is None or v != v else mapping.get(str(v), other) for v in np.asarray(values, dtype=object)]
    return pd.Categorical(mapped, categories=list(variable.values()))


def derive_selected(columns: dict, variable: Derived) -> pd.Categorical:
    """Two groups from a multi-select choice: values[0] when selected, values[1] when not, missing otherwise."""
    selected = columns[f"{variable.source}__{variable.options['choice']}"]
    yes, no = variable.values()
    mapped = [None if s is pd.NA else (yes if s else no) for s in selected]
    return pd.Categorical(mapped, categories=[yes, no])


def derive(instrument: Instrument, out: Recoded) -> None:
    """Add every derived variable to `out.columns`, in dependency order."""
    columns = out.columns
    for variable in instrument.derived:
        source = columns.get(variable.source)
        if variable.rule == "country":
            columns[variable.id] = derive_country(np.asarray(source, dtype=object))
        elif variable.rule == "nationality":
            residence = np.asarray(columns[variable.options["residence"]], dtype=object)
            columns[variable.id] = derive_nationality(np.asarray(source, dtype=object), residence, out, variable.id)
        elif variable.rule == "un_group":
            columns[variable.id] = derive_lookup(np.asarray(source, dtype=object), countries.un_group, variable.values())
        elif variable.rule == "income_group":
            columns[variable.id] = derive_lookup(np.asarray(source, dtype=object), countries.income_group, variable.values())
        elif variable.rule == "recode":
            columns[variable.id] = derive_recode(source, variable)
        elif variable.rule == "selected":
            columns[variable.id] = derive_selected(columns, variable)
