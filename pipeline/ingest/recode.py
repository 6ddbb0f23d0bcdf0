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
import pyarrow.compute as pc

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


def _status_from_codes(codes: np.ndarray) -> pd.Categorical:
    """A status categorical from positions in `STATUSES` (-1 for missing)."""
    return pd.Categorical.from_codes(codes, categories=STATUSES)


def _distinct(values) -> tuple[np.ndarray, list]:
    """(code of each value, the distinct values in order of first appearance); missing values get code -1.
    Per-value work then runs once per distinct value and is spread back with `_spread`."""
    codes, uniques = pd.factorize(pd.Series(values) if not isinstance(values, pd.Series) else values)
    return codes, list(uniques)


def _spread(per_unique: list | np.ndarray, codes: np.ndarray, missing, dtype=None) -> np.ndarray:
    """The per-row values of a per-distinct-value table: `per_unique[code]`, and `missing` where code is -1."""
    table = np.empty(len(per_unique) + 1, dtype=dtype if dtype is not None else object)
    table[:-1] = per_unique
    table[-1] = missing
    return table[codes]


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


PROBLEM = -2


def _single_kind(value: str, question: Question, lookup) -> tuple[int, int]:
    """(status position or PROBLEM, category position or -1) of one distinct single-choice answer."""
    codes, aliases, missing, position = lookup
    if value in codes or value in aliases:
        return STATUSES.index("valid"), position[codes[value] if value in codes else aliases[value]]
    if value in missing:
        return STATUSES.index(missing[value]), -1
    if value == "":
        return STATUSES.index("dont_know" if question.scale.blank == "dont_know" else "blank"), -1
    return PROBLEM, -1


def recode_single(values: pd.Series, question: Question, out: Recoded) -> None:
    """Single-choice answers as a categorical of level labels (ordered for ordinal scales) and a status;
    each distinct answer is looked up once."""
    codes, aliases, missing = _scale_lookup(question)
    labels = {level.code: level.label for level in question.scale.levels}
    position = {code: i for i, code in enumerate(labels)}
    rows, uniques = _distinct(values)
    kinds = [_single_kind(value, question, (codes, aliases, missing, position)) for value in uniques]
    status = _spread([k for k, _ in kinds], rows, -1, np.int64)
    for row in np.flatnonzero(status == PROBLEM):
        value = uniques[rows[row]]
        out.problems.append((int(row), question.column, value, _unknown_label(question, value)))
    counts = np.bincount(rows[rows >= 0], minlength=len(uniques))
    index = {value: i for i, value in enumerate(uniques)}
    for alias, code in aliases.items():
        if alias in index and counts[index[alias]]:
            out.recodes.append(dict(question=question.id, rule="alias", value_exported=alias,
                                    value_used=labels[code], count=int(counts[index[alias]])))
    out.columns[question.id] = pd.Categorical.from_codes(_spread([c for _, c in kinds], rows, -1, np.int64),
                                                         categories=list(labels.values()),
                                                         ordered=question.type == "ordinal")
    out.columns[f"{question.id}__status"] = _status_from_codes(
        np.where(status == PROBLEM, STATUSES.index("blank"), status))


def _multi_kind(value: str, question: Question, lookup: dict, missing: dict) -> tuple[int, set, list]:
    """(status position or PROBLEM, the codes chosen, the parts as written) of one distinct multi-select answer."""
    if value == "":
        return STATUSES.index("blank"), set(), []
    if value in missing:
        return STATUSES.index(missing[value]), set(), []
    parts = [part.strip() for part in value.split(question.separator) if part.strip()]
    if any(part not in lookup for part in parts):
        return PROBLEM, set(), parts
    return STATUSES.index("valid"), {lookup[part] for part in parts}, parts


def recode_multi(values: pd.Series, question: Question, out: Recoded) -> None:
    """Multi-select answers as one boolean column per choice (`<question>__<code>`, missing unless valid);
    each distinct answer is split once."""
    codes, aliases, missing = _scale_lookup(question)
    lookup = {**codes, **aliases}
    rows, uniques = _distinct(values)
    counts = np.bincount(rows[rows >= 0], minlength=len(uniques))
    kinds = [_multi_kind(value, question, lookup, missing) for value in uniques]
    status = _spread([k for k, _, _ in kinds], rows, -1, np.int64)
    alias_counts: dict[str, int] = {}
    for (kind, _, parts), n in zip(kinds, counts):
        if kind == STATUSES.index("valid"):
            for part in parts:
                if part in aliases:
                    alias_counts[part] = alias_counts.get(part, 0) + int(n)
    for row in np.flatnonzero(status == PROBLEM):
        bad = next(p for p in kinds[rows[row]][2] if p not in lookup)
        out.problems.append((int(row), question.column, bad, _unknown_label(question, bad)))
    valid = status == STATUSES.index("valid")
    for level in question.scale.levels:
        selected = _spread([level.code in chosen for _, chosen, _ in kinds], rows, False, bool)
        out.columns[f"{question.id}__{level.code}"] = pd.arrays.BooleanArray(selected & valid, ~valid)
    labels = {level.code: level.label for level in question.scale.levels}
    for alias, count in alias_counts.items():
        out.recodes.append(dict(question=question.id, rule="alias", value_exported=alias,
                                value_used=labels[lookup[alias]], count=count))
    out.columns[f"{question.id}__status"] = _status_from_codes(
        np.where(status == PROBLEM, STATUSES.index("blank"), status))


def recode_country(values: pd.Series, question: Question, out: Recoded) -> None:
    """Country answers as ISO 3166 alpha-3 codes joined by ";" (unknown spellings become "XXX" and are
    flagged); every spelling that differs from the reference name is counted in the recodes. Each distinct
    answer is normalised once."""
    rows, uniques = _distinct(values)
    counts = np.bincount(rows[rows >= 0], minlength=len(uniques))
    iso_of: list[str | None] = []
    unknown_of: dict[int, list[str]] = {}
    spelling_counts: dict[tuple[str, str], int] = {}
    for i, (value, n) in enumerate(zip(uniques, counts)):
        if value == "":
            iso_of.append(None)
            continue
        parts = countries.split_countries(value) if question.multiple else [value]
        codes = []
        for part in parts:
            iso3 = countries.normalise_country(part)
            if iso3 is None:
                unknown_of.setdefault(i, []).append(part)
                codes.append(UNKNOWN_COUNTRY)
                spelling_counts[(part, "Unknown")] = spelling_counts.get((part, "Unknown"), 0) + int(n)
            else:
                codes.append(iso3)
                if part != countries.country_name(iso3):
                    spelling_counts[(part, iso3)] = spelling_counts.get((part, iso3), 0) + int(n)
        iso_of.append(";".join(dict.fromkeys(codes)))
    out.columns[question.id] = _spread(iso_of, rows, None)
    blank = [value == "" for value in uniques]
    out.columns[f"{question.id}__status"] = _status_from_codes(
        _spread([STATUSES.index("blank" if b else "valid") for b in blank], rows, STATUSES.index("valid"), np.int64))
    for (part, used), count in sorted(spelling_counts.items()):
        rule = "unknown_country" if used == "Unknown" else "country_spelling"
        out.recodes.append(dict(question=question.id, rule=rule, value_exported=part, value_used=used, count=count))
    for i, parts in unknown_of.items():
        for position in np.flatnonzero(rows == i):
            out.flags.append((int(position), f"unknown_country:{question.id}={'|'.join(parts)}"))


def _contains(array, pattern: re.Pattern) -> np.ndarray:
    """Whether each text of an arrow array contains a match of a case-sensitive Python pattern (RE2 when it
    translates, else Python's `re`)."""
    from pipeline.text import fast

    re2 = fast.to_re2(pattern.pattern)
    if re2 is not None:
        return fast.search(array, re2, ignore_case=False)
    return fast.python_search(pd.Series(array.to_numpy(zero_copy_only=False), dtype=object), pattern)


def recode_text(values: pd.Series, question: Question, out: Recoded) -> None:
    """Free-text answers kept as written (stripped), with status blank or valid. Answers that a spreadsheet
    would run as a formula, or that hold HTML markup, are flagged in the ledger (outputs neutralise and
    escape them; they are never executed)."""
    from pipeline.text import fast

    array = fast.arrow_strings(values)
    for pattern, flag in ((FORMULA_LIKE, "formula_like_text"), (MARKUP, "markup_in_text")):
        for position in np.flatnonzero(_contains(array, pattern)):
            out.flags.append((int(position), f"{flag}:{question.id}"))
    blank = pc.fill_null(pc.equal(array, ""), True).to_numpy(zero_copy_only=False)
    texts = array.to_numpy(zero_copy_only=False)
    texts[blank] = None
    out.columns[question.id] = texts
    out.columns[f"{question.id}__status"] = _status_from_codes(
        np.where(blank, STATUSES.index("blank"), STATUSES.index("valid")))


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
    column = columns[question.id]
    if isinstance(column, pd.Categorical):
        return np.isin(column.codes, [i for i, label in enumerate(column.categories) if label in wanted])
    values = pd.Series(np.asarray(column, dtype=object))
    return values.isin(wanted).to_numpy()


def _not_asked(column, eligible: np.ndarray):
    """An answer column with every value of a respondent not eligible made missing (same type)."""
    if isinstance(column, pd.Categorical):
        return pd.Categorical.from_codes(np.where(eligible, column.codes, -1), categories=column.categories,
                                         ordered=column.ordered)
    if isinstance(column, pd.arrays.BooleanArray):
        return pd.arrays.BooleanArray(column.to_numpy(dtype=bool, na_value=False) & eligible,
                                      np.asarray(column.isna()) | ~eligible)
    return np.where(eligible, column, None if column.dtype == object else np.nan)


def apply_eligibility(instrument: Instrument, out: Recoded) -> None:
    """Mark answers of respondents a question was not shown to as `not_asked` (and any answer they have
    anyway as a flagged recode), following each question's `eligible` condition."""
    for question in instrument.questions:
        if not question.eligible:
            continue
        eligible = _condition_mask(question.eligible, out.columns, instrument)
        status = out.columns[f"{question.id}__status"].codes
        answered = ~eligible & (status != STATUSES.index("blank"))
        if answered.any():
            out.recodes.append(dict(question=question.id, rule="answered_when_not_asked",
                                    value_exported="an answer", value_used="not_asked", count=int(answered.sum())))
            out.flags.extend((int(p), f"answered_when_not_asked:{question.id}") for p in np.flatnonzero(answered))
        out.columns[f"{question.id}__status"] = _status_from_codes(
            np.where(eligible, status, STATUSES.index("not_asked")))
        for name in [c for c in out.columns if c == question.id or c.startswith(f"{question.id}__")]:
            if not name.endswith("__status"):
                out.columns[name] = _not_asked(out.columns[name], eligible)


def recode(frame: pd.DataFrame, instrument: Instrument) -> Recoded:
    """Every question of the instrument recoded from the kept rows of the export (see `Recoded`)."""
    out = Recoded()
    for question in instrument.questions:
        RECODERS[question.type](frame[question.column], question, out)
    apply_eligibility(instrument, out)
    return out
