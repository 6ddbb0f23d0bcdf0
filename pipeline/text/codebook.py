"""Codebooks for free-text questions: load, validate, and tag answers automatically.

A codebook is `surveys/<survey>/codebooks/<question>.yaml` (the format is documented in
`surveys/<survey>/codebooks/README.md` in the bundled surveys): one tag per concept, with a `label` for tables and
figures, `synonyms` (plain phrases) and `patterns` (regular expressions), both matched
case-insensitively on word boundaries, and `exclude` patterns whose matches never count for that
tag (e.g. "bad actors" for the creatives' "actors"). Only meaningful answers (see
`pipeline.text.meaningful`) are tagged; an answer may carry any number of tags.

Every problem in a codebook is reported, one line each, naming the file and the key, in a single
`PulseError`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from pipeline.errors import PulseError
from pipeline.instrument import parse_yaml
from pipeline.text import fast
from pipeline.text.fast import bounded_re2
from pipeline.text.meaningful import (
    DEFAULT_NON_ANSWERS, DEFAULT_PATTERNS, MeaningfulRule, as_text, is_meaningful,
)

TAG_ID = re.compile(r"^[a-z][a-z0-9_]*$")
BASELINES = ("automatic", "none")
TOP_KEYS = {"question", "version", "title", "description", "min_mentions", "meaningful", "manual", "tags"}
TAG_KEYS = {"id", "label", "description", "synonyms", "patterns", "exclude"}
MEANINGFUL_KEYS = {"non_answers", "patterns", "min_letters"}
MANUAL_KEYS = {"baseline", "adjudicator"}
_YAML_BOOL_HINT = " (YAML reads yes/no/on/off as true/false: quote it)"
_HYPHENS = "\u2010\u2011\u2012\u2013-"
_APOSTROPHES = "'\u2019"


@dataclass(frozen=True)
class Tag:
    """One concept. `regex` matches any synonym or pattern on word boundaries (case-insensitive);
    `exclude_regex` (or None) matches the spans that never count for this tag; `re2` and `exclude_re2` are
    their RE2 forms for a contains-test (`pipeline.text.fast`), None where Python's `re` must be used."""

    id: str
    label: str
    synonyms: tuple[str, ...]
    patterns: tuple[str, ...]
    exclude: tuple[str, ...]
    regex: re.Pattern
    exclude_regex: re.Pattern | None
    description: str = ""
    re2: str | None = None
    exclude_re2: str | None = None


@dataclass(frozen=True)
class Codebook:
    """The validated codebook of one free-text question.

    `min_mentions`: a tag is shown in figures when at least this many answers carry it.
    `baseline` and `adjudicator` govern manual coding (`pipeline.text.coders`)."""

    question: str
    tags: tuple[Tag, ...]
    meaningful: MeaningfulRule
    path: Path
    version: str = ""
    title: str = ""
    min_mentions: int = 1
    baseline: str = "automatic"
    adjudicator: str | None = "adjudicator"

    @property
    def tag_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.tags)

    def tag(self, tag_id: str) -> Tag:
        return next(t for t in self.tags if t.id == tag_id)


def fold_letter(char: str) -> str:
    """The letter without its diacritics ("é" -> "e"); other characters unchanged."""
    return "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)) or char


def phrase_regex(phrase: str, accents: bool = False) -> str:
    """A regular expression for a plain phrase: a space matches any run of whitespace, a hyphen an
    optional hyphen or whitespace ("low-income" ~ "low income" ~ "lowincome"), an apostrophe a straight
    or curly one, and a final `*` any continuation of the word ("marginali*"). With `accents`, an
    accented letter also matches its unaccented form ("José" ~ "Jose")."""
    stem, wildcard = (phrase[:-1], r"\w*") if phrase.endswith("*") else (phrase, "")
    out = []
    for char in stem.strip():
        if char.isspace():
            if not out or out[-1] != r"\s+":
                out.append(r"\s+")
        elif char in _HYPHENS:
            out.append(f"[\\s{_HYPHENS}]*")
        elif char in _APOSTROPHES:
            out.append(f"[{_APOSTROPHES}]")
        elif accents and char.isalpha() and fold_letter(char) != char:
            out.append(f"[{char}{fold_letter(char)}]")
        else:
            out.append(re.escape(char))
    return "".join(out) + wildcard


def bounded(alternatives: list[str]) -> str:
    """The alternatives as one expression that must start and end on word boundaries (a match may begin
    or end with a non-word character such as the '+' of 'LGBT+'). Longer alternatives come first."""
    ordered = sorted(dict.fromkeys(alternatives), key=lambda a: (-len(a), a))
    return r"(?<!\w)(?:" + "|".join(f"(?:{a})" for a in ordered) + r")(?!\w)"


def _strings(value: Any, where: str, problems: list[str], empty_ok: bool = True) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}: must be a list of strings")
        return []
    out = []
    for i, item in enumerate(value):
        if isinstance(item, bool):
            problems.append(f"{where}[{i}]: {item!r} is not a string{_YAML_BOOL_HINT}")
        elif not isinstance(item, (str, int, float)) or not str(item).strip():
            problems.append(f"{where}[{i}]: must be a non-empty string")
        else:
            out.append(str(item))
    if not out and not empty_ok:
        problems.append(f"{where}: must list at least one string")
    return out


def _compile(pattern: str, where: str, problems: list[str]) -> bool:
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        problems.append(f"{where}: invalid regular expression {pattern!r} ({error}); fix it")
        return False
    if compiled.fullmatch(""):
        problems.append(f"{where}: {pattern!r} matches the empty string; it would tag every answer")
        return False
    return True


def _unknown_keys(node: Mapping, allowed: set[str], where: str, problems: list[str]) -> None:
    for key in node:
        if key not in allowed:
            problems.append(f"{where}{key}: unknown key; expected one of {', '.join(sorted(allowed))}")


def problems(raw: Any, path: Path | str) -> list[str]:
    """Every problem of a codebook mapping, one line each: 'file: key: what is wrong; what to do'."""
    path = Path(path)
    if not isinstance(raw, dict):
        return [f"{path}: (top level): a codebook must be a YAML mapping with question and tags"]
    out: list[str] = []
    _unknown_keys(raw, TOP_KEYS, "", out)
    question = raw.get("question")
    if not isinstance(question, str) or not question:
        out.append("question: missing; name the question id this codebook codes")
    elif question != path.stem:
        out.append(f"question: {question!r} does not match the file name; name the file {question}.yaml")
    min_mentions = raw.get("min_mentions", 1)
    if isinstance(min_mentions, bool) or not isinstance(min_mentions, int) or min_mentions < 1:
        out.append(f"min_mentions: {min_mentions!r} is not a whole number of at least 1")
    meaningful = raw.get("meaningful") or {}
    if not isinstance(meaningful, dict):
        out.append("meaningful: must be a mapping with non_answers, patterns, min_letters")
    else:
        _unknown_keys(meaningful, MEANINGFUL_KEYS, "meaningful.", out)
        _strings(meaningful.get("non_answers"), "meaningful.non_answers", out)
        for i, pattern in enumerate(_strings(meaningful.get("patterns"), "meaningful.patterns", out)):
            _compile(pattern, f"meaningful.patterns[{i}]", out)
        letters = meaningful.get("min_letters", 1)
        if isinstance(letters, bool) or not isinstance(letters, int) or letters < 0:
            out.append(f"meaningful.min_letters: {letters!r} is not a whole number of at least 0")
    manual = raw.get("manual") or {}
    if not isinstance(manual, dict):
        out.append("manual: must be a mapping with baseline, adjudicator")
    else:
        _unknown_keys(manual, MANUAL_KEYS, "manual.", out)
        if manual.get("baseline", "automatic") not in BASELINES:
            out.append(f"manual.baseline: {manual['baseline']!r} is not one of {', '.join(BASELINES)}")
        adjudicator = manual.get("adjudicator", "adjudicator")
        if adjudicator is not None and (not isinstance(adjudicator, str) or not adjudicator.strip()):
            out.append(f"manual.adjudicator: {adjudicator!r} must be a coder name or null")
    tags = raw.get("tags")
    if not isinstance(tags, list) or not tags:
        out.append("tags: missing or empty; list at least one tag with id, label and synonyms or patterns")
        tags = []
    ids: set[str] = set()
    labels: dict[str, str] = {}
    phrases: dict[str, str] = {}
    for i, tag in enumerate(tags):
        if not isinstance(tag, dict):
            out.append(f"tags[{i}]: must be a mapping with id, label, synonyms, patterns, exclude")
            continue
        tag_id = tag.get("id")
        where = f"tags[{tag_id if isinstance(tag_id, str) and tag_id else i}]"
        _unknown_keys(tag, TAG_KEYS, f"{where}.", out)
        if not isinstance(tag_id, str) or not TAG_ID.match(tag_id):
            out.append(f"{where}.id: {tag_id!r} must be lower case letters, digits and _, starting with a letter")
        elif tag_id in ids:
            out.append(f"{where}.id: duplicate tag id {tag_id!r}")
        else:
            ids.add(tag_id)
        label = tag.get("label")
        if not isinstance(label, str) or not label.strip():
            out.append(f"{where}.label: missing; give the label shown in tables and figures")
        elif label.casefold() in labels:
            out.append(f"{where}.label: {label!r} is also the label of tag {labels[label.casefold()]!r}")
        else:
            labels[label.casefold()] = str(tag_id)
        synonyms = _strings(tag.get("synonyms"), f"{where}.synonyms", out)
        patterns = _strings(tag.get("patterns"), f"{where}.patterns", out)
        if not synonyms and not patterns:
            out.append(f"{where}: no synonyms or patterns; a tag needs at least one")
        for j, synonym in enumerate(synonyms):
            key = " ".join(synonym.casefold().split())
            if key in phrases:
                out.append(f"{where}.synonyms[{j}]: {synonym!r} is also a synonym of tag {phrases[key]!r}; "
                           f"keep it in one tag")
            phrases[key] = str(tag_id)
            if synonym.strip() in ("*", "") or not re.search(r"\w", synonym):
                out.append(f"{where}.synonyms[{j}]: {synonym!r} has no letters; it would tag too much")
        for j, pattern in enumerate(patterns):
            _compile(pattern, f"{where}.patterns[{j}]", out)
        for j, pattern in enumerate(_strings(tag.get("exclude"), f"{where}.exclude", out)):
            _compile(pattern, f"{where}.exclude[{j}]", out)
    return [f"{path}: {line}" for line in out]


def _tag(raw: Mapping[str, Any]) -> Tag:
    synonyms = tuple(str(s) for s in raw.get("synonyms") or ())
    patterns = tuple(str(p) for p in raw.get("patterns") or ())
    exclude = tuple(str(p) for p in raw.get("exclude") or ())
    alternatives = [phrase_regex(s) for s in synonyms] + list(patterns)
    regex = re.compile(bounded(alternatives), re.IGNORECASE)
    exclude_regex = re.compile(bounded(list(exclude)), re.IGNORECASE) if exclude else None
    return Tag(raw["id"], raw["label"], synonyms, patterns, exclude, regex, exclude_regex,
               str(raw.get("description", "")), bounded_re2(alternatives),
               bounded_re2(list(exclude)) if exclude else None)


def from_mapping(raw: Any, path: Path | str) -> Codebook:
    """A validated Codebook from a parsed YAML mapping; PulseError lists every problem."""
    found = problems(raw, path)
    if found:
        raise PulseError(found)
    meaningful = raw.get("meaningful") or {}
    manual = raw.get("manual") or {}
    rule = MeaningfulRule(
        non_answers=tuple(str(v) for v in meaningful.get("non_answers", DEFAULT_NON_ANSWERS)),
        patterns=tuple(str(v) for v in meaningful.get("patterns", DEFAULT_PATTERNS)),
        min_letters=int(meaningful.get("min_letters", 1)),
    )
    return Codebook(
        question=raw["question"], tags=tuple(_tag(t) for t in raw["tags"]), meaningful=rule, path=Path(path),
        version=str(raw.get("version", "")), title=str(raw.get("title", "")),
        min_mentions=int(raw.get("min_mentions", 1)), baseline=manual.get("baseline", "automatic"),
        adjudicator=manual.get("adjudicator", "adjudicator"),
    )


def load(path: Path | str) -> Codebook:
    """Read and validate one codebook file; PulseError (one line per problem) if it is unreadable or wrong."""
    path = Path(path)
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PulseError(f"{path}: cannot read the codebook ({error.strerror}); check the path") from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise PulseError(f"{path}: not valid YAML{line}; fix the syntax") from None
    return from_mapping(raw, path)


def load_all(folder: Path | str, instrument: Any | None = None) -> dict[str, Codebook]:
    """Every `*.yaml` codebook in `folder` (e.g. `surveys/<survey>/codebooks/`) by question id, in file-name
    order; {} if the folder does not exist. With an `instrument`, each codebook must name one of its text
    questions. All problems of all files are raised together."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    books: dict[str, Codebook] = {}
    found: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            book = load(path)
        except PulseError as error:
            found.extend(error.messages)
            continue
        if instrument is not None:
            texts = {q.id for q in instrument.questions if q.type == "text"}
            if book.question not in texts:
                found.append(f"{path}: question: {book.question!r} is not a text question of {instrument.path}; "
                             f"rename the file or fix the instrument")
                continue
        books[book.question] = book
    if found:
        raise PulseError(found)
    return books


def _python_tag(values: pd.Series, t: Tag) -> np.ndarray:
    if t.exclude_regex is not None:
        values = values.map(lambda v: t.exclude_regex.sub("\x00", v) if isinstance(v, str) else v)
    return fast.python_search(values, t.regex)


def _tag_column(unique: pd.Series, array: pa.Array | None, t: Tag) -> np.ndarray:
    if t.re2 is None or array is None:
        return _python_tag(unique, t)
    hit = fast.search(array, t.re2)
    if t.exclude_regex is None or not hit.any():
        return hit
    rows = np.flatnonzero(hit)
    if t.exclude_re2 is not None:
        rows = rows[fast.search(array.take(pa.array(rows)), t.exclude_re2)]
    if len(rows):
        hit[rows] = _python_tag(unique.iloc[rows], t)
    return hit


def match_tags(texts: pd.Series, codebook: Codebook, engine: str = "auto") -> pd.DataFrame:
    """Which tags' synonyms or patterns each text contains outside its tag's exclusions, whatever the
    text (no meaningful-answer check): a boolean frame with the index of `texts` and one column per tag id
    in codebook order. Each distinct text is matched once. `engine`: `re2` (vectorised, see
    `pipeline.text.fast`; Python's `re` for a tag RE2 cannot run), `python`, or `auto` (`re2` from
    `pipeline.text.fast.RE2_FROM` distinct texts on, where it outruns compiling its patterns); all give the result of
    `explain`."""
    values = as_text(texts)
    unique = pd.Series(pd.unique(values.dropna().to_numpy(dtype=object)), dtype=object)
    use_re2 = engine == "re2" or (engine == "auto" and len(unique) >= fast.RE2_FROM)
    array = fast.strings(unique) if use_re2 else None
    columns = [_tag_column(unique, array, t) for t in codebook.tags]
    hits = np.column_stack(columns) if columns else np.zeros((len(unique), 0), dtype=bool)
    position = pd.Index(unique).get_indexer(values.to_numpy(dtype=object))
    out = np.zeros((len(values), len(codebook.tags)), dtype=bool)
    found = position >= 0
    out[found] = hits[position[found]]
    return pd.DataFrame(out, index=texts.index, columns=list(codebook.tag_ids))


def tag(texts: pd.Series, codebook: Codebook, meaningful: pd.Series | None = None) -> pd.DataFrame:
    """The automatic tags: `match_tags` for meaningful answers, all False for the others (blank answers
    and non-answers). A boolean frame with the index of `texts`, one column per tag id in codebook order.
    `meaningful` (aligned with `texts`) saves recomputing `is_meaningful` with the codebook's rule."""
    if meaningful is None:
        meaningful = is_meaningful(texts, codebook.meaningful)
    keep = meaningful.to_numpy(dtype=bool)
    matrix = pd.DataFrame(False, index=texts.index, columns=list(codebook.tag_ids))
    if keep.any():
        matrix.loc[keep] = match_tags(texts[keep], codebook).to_numpy()
    return matrix


def explain(text: str, codebook: Codebook) -> list[tuple[str, str]]:
    """(tag id, matched text) for every match in one answer, in tag order, exclusions applied: for
    reviewing a codebook on a few answers."""
    found = []
    for t in codebook.tags:
        target = text if t.exclude_regex is None else t.exclude_regex.sub("\x00", text)
        found.extend((t.id, m.group(0)) for m in t.regex.finditer(target))
    return found
