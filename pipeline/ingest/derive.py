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


def _distinct(values) -> tuple[np.ndarray, list]:
    """(code of each value, distinct values in order of first appearance); None and NaN get code -1."""
    codes, uniques = pd.factorize(pd.Series(np.asarray(values, dtype=object), dtype=object))
    return codes, list(uniques)


def _spread(per_unique: list, codes: np.ndarray, missing) -> np.ndarray:
    """`per_unique[code]` for each row, `missing` where the code is -1 (an object array)."""
    table = np.empty(len(per_unique) + 1, dtype=object)
    table[:-1] = per_unique
    table[-1] = missing
    return table[codes]


def _categorical(per_unique: list, codes: np.ndarray, categories) -> pd.Categorical:
    """A categorical of `per_unique[code]` for each row (missing for code -1 and for values not in
    `categories`)."""
    categories = list(categories)
    position = {value: i for i, value in enumerate(categories)}
    table = np.array([position.get(v, -1) if v is not None else -1 for v in per_unique] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(table[codes], categories=categories)


def derive_country(values: np.ndarray) -> np.ndarray:
    """The single country code of each answer (ISO3, "XXX" for an unknown spelling, None if blank)."""
    codes, uniques = _distinct(values)
    return _spread([str(v).split(";")[0] for v in uniques], codes, None)


def derive_nationality(nationalities: np.ndarray, residence: np.ndarray, out: Recoded, variable: str) -> np.ndarray:
    """The nationality used for analysis, by `countries.choose_nationality`; the count of each rule's use
    goes to the recodes. Sample counts are over all nationalities of all kept respondents. The rule runs
    once per distinct (nationalities, residence) pair."""
    nat_codes, nat_values = _distinct(nationalities)
    home_codes, home_values = _distinct(residence)
    nat_lists = [_codes(v) for v in nat_values]
    nat_counts = np.bincount(nat_codes[nat_codes >= 0], minlength=len(nat_values))
    sample_counts: Counter = Counter()
    for codes, n in zip(nat_lists, nat_counts):
        for code in codes:
            sample_counts[code] += int(n)
    pair_codes, pairs = pd.factorize(nat_codes.astype(np.int64) * (len(home_values) + 1) + home_codes + 1)
    chosen_of: list = []
    rule_of: list[str] = []
    for pair in pairs:
        nat, home = divmod(int(pair), len(home_values) + 1)
        nat_value = nat_values[nat] if nat >= 0 else None
        home_value = home_values[home - 1] if home > 0 else None
        codes = nat_lists[nat] if nat >= 0 else []
        if not codes:
            unknown = nat_value is not None and nat_value != ""
            chosen_of.append(UNKNOWN_COUNTRY if unknown else None)
            rule_of.append("none")
            continue
        chosen, rule = countries.choose_nationality(codes, home_value if home_value != UNKNOWN_COUNTRY else None,
                                                    sample_counts)
        chosen_of.append(chosen)
        rule_of.append(rule)
    uses = np.bincount(pair_codes, minlength=len(pairs))
    used: Counter = Counter()
    for rule, n in zip(rule_of, uses):
        used[rule] += int(n)
    for rule in ("single", "residence", "least_represented", "none"):
        if used[rule]:
            out.recodes.append(dict(question=variable, rule=f"nationality_rule:{rule}",
                                    value_exported=NATIONALITY_RULES[rule], value_used="nationality used for analysis",
                                    count=used[rule]))
    return _spread(chosen_of, pair_codes, None)


def derive_lookup(codes: np.ndarray, lookup, categories: tuple[str, ...]) -> pd.Categorical:
    """A categorical from a country-code lookup (UN group, income group); unknown or unclassified → "Unknown"."""
    rows, uniques = _distinct(codes)
    mapped = [(lookup(c) if c != UNKNOWN_COUNTRY else None) or "Unknown" for c in uniques]
    return _categorical(mapped, rows, categories)


def derive_recode(values, variable: Derived) -> pd.Categorical:
    """A categorical from a value map; unmapped values take `other` (or stay missing without it).
    "Unknown" (an unknown country's group) stays missing unless the map names it."""
    mapping = dict(variable.options["map"])
    other = variable.options.get("other")
    mapping.setdefault("Unknown", None)
    rows, uniques = _distinct(values)
    return _categorical([mapping.get(str(v), other) for v in uniques], rows, variable.values())


def derive_selected(columns: dict, variable: Derived) -> pd.Categorical:
    """Two groups from a multi-select choice: values[0] when selected, values[1] when not, missing otherwise."""
    selected = pd.array(columns[f"{variable.source}__{variable.options['choice']}"], dtype="boolean")
    yes, no = variable.values()
    codes = np.where(selected.to_numpy(dtype=bool, na_value=False), 0, 1)
    codes[np.asarray(selected.isna())] = -1
    return pd.Categorical.from_codes(codes, categories=[yes, no])


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
