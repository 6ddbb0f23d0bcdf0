"""Turn exported answer text into typed values and a status per answer.

Status vocabulary (the `<question>__status` columns of the clean data):
`valid`, `dont_know`, `refused`, `blank`, `not_asked` (eligibility false: the question was never shown).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline import countries
from pipeline.instrument import Instrument, Question

STATUSES = ("valid", "dont_know", "refused", "blank", "not_asked")
DATE_LIKE = re.compile(r"^(\d{4}-\d{2}-\d{2}([ T][\d:]+)?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2}-[A-Za-z]{3}(-\d{2,4})?|[A-Za-z]{3}-\d{2,4})$")
FORMULA_LIKE = re.compile(r"^[=+@\t\r]|^-[^\d\s]")
MARKUP = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>")
UNKNOWN_COUNTRY = "XXX"


@dataclass
class Recoded:
    """Typed columns for the clean data plus what the recoding did.

    `columns` maps clean column names to values aligned with the kept rows; `recodes` holds dicts with
    question, rule, value_exported, value_used, count; `flags` holds (row position, flag) pairs;
    `problems` holds (row position, column, value, message) for cells that cannot be read.
    """

    columns: dict[str, pd.Series | pd.Categorical | np.ndarray] = field(default_factory=dict)
    recodes: list[dict] = field(default_factory=list)
    flags: list[tuple[int, str]] = field(default_factory=list)
    problems: list[tuple[int, str, str, str]] = field(default_factory=list)


def _status(kind: np.ndarray) -> pd.Categorical:
    return pd.Categorical(kind, categories=STATUSES)


def _scale_lookup(question: Question) -> tuple[dict[str, object], dict[str, str], dict[str, str]]:
    scale = question.scale
    codes = {level.label: level.code for level in scale.levels}
    aliases = {alias: level.code for level in scale.levels for alias in level.aliases if alias != level.label}
    missing = {m.label: m.kind for m in scale.missing}
    missing.update({alias: m.kind for m in scale.missing for alias in m.aliases})
    return codes, aliases, missing


def _unknown_label(question: Question, value: str) -> str:
    options = [level.label for level in question.scale.levels] + [m.label for m in question.scale.missing]
    close = difflib.get_close_matches(value, options, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if DATE_LIKE.match(value):
        hint = (" (it looks like a date: a spreadsheet program may have turned a label into a date; export the CSV "
                "again and do not open it in a spreadsheet before ingest)")
    return (f"{value!r} is not a label of scale {question.scale.id!r}{hint}; add it to the scale's levels, "
            f"aliases or missing codes in the instrument")


def recode_single(values: pd.Series, question: Question, out: Recoded) -> None:
    """Single-choice answers as a categorical of level labels (ordered for ordinal scales) and a status."""
    codes, aliases, missing = _scale_lookup(question)
    labels = {level.code: level.label for level in question.scale.levels}
    as_category = values.astype("category")
    code_of: dict[str, object] = {}
    kind_of: dict[str, str] = {}
    for value in as_category.cat.categories:
        if value in codes:
            code_of[value], kind_of[value] = codes[value], "valid"
        elif value in aliases:
            code_of[value], kind_of[value] = aliases[value], "valid"
        elif value in missing:
            kind_of[value] = missing[value]
        elif value == "":
            kind_of[value] = "dont_know" if question.scale.blank == "dont_know" else "blank"
        else:
            kind_of[value] = "problem"
    kind = as_category.map(kind_of).astype(object).to_numpy()
    for position in np.flatnonzero(kind == "problem"):
        out.problems.append((int(position), question.column, values.iloc[position], _unknown_label(question, values.iloc[position])))
    label = as_category.map({v: labels[c] for v, c in code_of.items()}).astype(object)
    counts = values.value_counts()
    for alias, code in aliases.items():
        if counts.get(alias, 0):
            out.recodes.append(dict(question=question.id, rule="alias", value_exported=alias,
                                    value_used=labels[code], count=int(counts[alias])))
    out.columns[question.id] = pd.Categorical(label.where(kind == "valid", None), categories=list(labels.values()),
                                              ordered=question.type == "ordinal")
    out.columns[f"{question.id}__status"] = _status(np.where(kind == "problem", "blank", kind))


def recode_multi(values: pd.Series, question: Question, out: Recoded) -> None:
    """Multi-select answers as one boolean column per choice (`<question>__<code>`, missing unless valid)."""
    codes, aliases, missing = _scale_lookup(question)
    lookup = {**codes, **aliases}
    chosen: dict[str, set] = {}
    kind_of: dict[str, str] = {}
    alias_counts: dict[str, int] = {}
    counts = values.value_counts()
    for value in counts.index:
        if value == "":
            kind_of[value] = "blank"
            continue
        if value in missing:
            kind_of[value] = missing[value]
            continue
        parts = [part.strip() for part in value.split(question.separator) if part.strip()]
        unknown = [part for part in parts if part not in lookup]
        if unknown:
            kind_of[value] = "problem"
            continue
        chosen[value] = {lookup[part] for part in parts}
        kind_of[value] = "valid"
        for part in parts:
            if part in aliases:
                alias_counts[part] = alias_counts.get(part, 0) + int(counts[value])
    kind = values.map(kind_of).to_numpy(dtype=object)
    for position in np.flatnonzero(kind == "problem"):
        value = values.iloc[position]
        bad = next(p.strip() for p in value.split(question.separator) if p.strip() and p.strip() not in lookup)
        out.problems.append((int(position), question.column, bad, _unknown_label(question, bad)))
    valid = kind == "valid"
    for level in question.scale.levels:
        selected = values.map({v: level.code in s for v, s in chosen.items()})
        column = pd.array(selected.where(valid, None), dtype="boolean")
        out.columns[f"{question.id}__{level.code}"] = column
    labels = {level.code: level.label for level in question.scale.levels}
    for alias, count in alias_counts.items():
        out.recodes.append(dict(question=question.id, rule="alias", value_exported=alias,
                                value_used=labels[lookup[alias]], count=count))
    out.columns[f"{question.id}__status"] = _status(np.where(kind == "problem", "blank", kind))


def recode_country(values: pd.Series, question: Question, out: Recoded) -> None:
    """Country answers as ISO 3166 alpha-3 codes joined by ";" (unknown spellings become "XXX" and are
    flagged); every spelling that differs from the reference name is counted in the recodes."""
    counts = values.value_counts()
    iso_of: dict[str, str] = {}
    unknown_of: dict[str, list[str]] = {}
    spelling_counts: dict[tuple[str, str], int] = {}
    for value in counts.index:
        if value == "":
            continue
        parts = countries.split_countries(value) if question.multiple else [value]
        codes = []
        for part in parts:
            iso3 = countries.normalise_country(part)
            if iso3 is None:
                unknown_of.setdefault(value, []).append(part)
                codes.append(UNKNOWN_COUNTRY)
                spelling_counts[(part, "Unknown")] = spelling_counts.get((part, "Unknown"), 0) + int(counts[value])
            else:
                codes.append(iso3)
                if part != countries.country_name(iso3):
                    spelling_counts[(part, iso3)] = spelling_counts.get((part, iso3), 0) + int(counts[value])
        iso_of[value] = ";".join(dict.fromkeys(codes))
    iso = values.map(iso_of).astype(object)
    out.columns[question.id] = iso.where(values != "", None).to_numpy(dtype=object)
    out.columns[f"{question.id}__status"] = _status(np.where(values.to_numpy(dtype=object) == "", "blank", "valid"))
    for (part, used), count in sorted(spelling_counts.items()):
        rule = "unknown_country" if used == "Unknown" else "country_spelling"
        out.recodes.append(dict(question=question.id, rule=rule, value_exported=part, value_used=used, count=count))
    for value, parts in unknown_of.items():
        for position in np.flatnonzero(values.to_numpy(dtype=object) == value):
            out.flags.append((int(position), f"unknown_country:{question.id}={'|'.join(parts)}"))


def recode_text(values: pd.Series, question: Question, out: Recoded) -> None:
    """Free-text answers kept as written (stripped), with status blank or valid. Answers that a spreadsheet
    would run as a formula, or that hold HTML markup, are flagged in the ledger (outputs neutralise and
    escape them; they are never executed)."""
    array = values.to_numpy(dtype=object)
    for pattern, flag in ((FORMULA_LIKE, "formula_like_text"), (MARKUP, "markup_in_text")):
        for position in np.flatnonzero(values.str.contains(pattern).to_numpy(dtype=bool)):
            out.flags.append((int(position), f"{flag}:{question.id}"))
    out.columns[question.id] = np.where(array == "", None, array)
    out.columns[f"{question.id}__status"] = _status(np.where(array == "", "blank", "valid"))


def recode_number(values: pd.Series, question: Question, out: Recoded) -> None:
    """Numbers (a decimal comma is read as a point); text or out-of-range values are problems."""
    parsed = pd.to_numeric(values.str.replace(",", ".", regex=False).where(values != "", None), errors="coerce")
    bad = (values != "") & parsed.isna()
    if question.minimum is not None:
        bad |= parsed < question.minimum
    if question.maximum is not None:
        bad |= parsed > question.maximum
    for position in np.flatnonzero(bad.to_numpy()):
        out.problems.append((int(position), question.column, values.iloc[position],
                             f"{values.iloc[position]!r} is not a number in the range the instrument allows"))
    out.columns[question.id] = parsed.where(~bad).to_numpy(dtype=float)
    out.columns[f"{question.id}__status"] = _status(np.where(values.to_numpy(dtype=object) == "", "blank", "valid"))


RECODERS = {
    "ordinal": recode_single,
    "nominal": recode_single,
    "multi": recode_multi,
    "country": recode_country,
    "text": recode_text,
    "number": recode_number,
}


def _condition_mask(condition, columns: dict, instrument: Instrument) -> np.ndarray:
    if "all" in condition:
        return np.logical_and.reduce([_condition_mask(c, columns, instrument) for c in condition["all"]])
    if "any" in condition:
        return np.logical_or.reduce([_condition_mask(c, columns, instrument) for c in condition["any"]])
    if "not" in condition:
        return ~_condition_mask(condition["not"], columns, instrument)
    question = instrument.question(condition["question"])
    wanted = {level.label for level in question.scale.levels
              if level.label in condition["in"] or level.code in condition["in"]}
    values = pd.Series(np.asarray(columns[question.id], dtype=object))
    return values.isin(wanted).to_numpy()


def apply_eligibility(instrument: Instrument, out: Recoded) -> None:
    """Mark answers of respondents a question was not shown to as `not_asked` (and any answer they have
    anyway as a flagged recode), following each question's `eligible` condition."""
    for question in instrument.questions:
        if not question.eligible:
            continue
        eligible = _condition_mask(question.eligible, out.columns, instrument)
        status = np.asarray(out.columns[f"{question.id}__status"], dtype=object)
        answered = ~eligible & (status != "blank")
        if answered.any():
            out.recodes.append(dict(question=question.id, rule="answered_when_not_asked",
                                    value_exported="an answer", value_used="not_asked", count=int(answered.sum())))
            out.flags.extend((int(p), f"answered_when_not_asked:{question.id}") for p in np.flatnonzero(answered))
        out.columns[f"{question.id}__status"] = _status(np.where(eligible, status, "not_asked"))
        for name in [c for c in out.columns if c == question.id or c.startswith(f"{question.id}__")]:
            if name.endswith("__status"):
                continue
            column = out.columns[name]
            if isinstance(column, pd.Categorical):
                out.columns[name] = pd.Categorical(np.where(eligible, np.asarray(column, dtype=object), None),
                                                   categories=column.categories, ordered=column.ordered)
            elif isinstance(column, pd.arrays.BooleanArray):
                out.columns[name] = pd.array(np.where(eligible, column.astype(object), None), dtype="boolean")
            else:
                out.columns[name] = np.where(eligible, column, None if column.dtype == object else np.nan)


def recode(frame: pd.DataFrame, instrument: Instrument) -> Recoded:
    """Every question of the instrument recoded from the kept rows of the export (see `Recoded`)."""
    out = Recoded()
    for question in instrument.questions:
        RECODERS[question.type](frame[question.column], question, out)
    apply_eligibility(instrument, out)
    return out
