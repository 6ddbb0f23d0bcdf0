"""Which free-text answers say something: the "meaningful answer" rule and its counts.

An answer is

- `blank` when it is missing (None/NaN) or only whitespace;
- a `non_answer` when, once normalised (see `normalise`), it has fewer than `min_letters` letters
  (Unicode category L; e.g. "-", "?", "...", "0") or equals one of the rule's `non_answers` (e.g. "n/a", "none", "no")
  or fully matches one of its `patterns` (e.g. "no, not really");
- `meaningful` otherwise.

The rule lives in each question's codebook (`meaningful:`), with `DEFAULT_NON_ANSWERS` when it
is left out. Everything is vectorised (pyarrow compute, RE2: see `pipeline.text.fast`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from pipeline.text import fast

DEFAULT_NON_ANSWERS: tuple[str, ...] = (
    "n/a", "na", "n.a", "n. a", "none", "no", "nope", "nothing", "nil", "null", "-",
    "not applicable", "no comment", "no comments", "nothing to add", "no answer",
    "don't know", "do not know", "dont know", "not sure", "no opinion", "idk",
    "not particularly", "none in particular", "no one in particular", "nobody in particular",
)
DEFAULT_PATTERNS: tuple[str, ...] = (
    r"(?:no|none|nope),? not (?:really|particularly|specifically)",
    r"(?:no|none|nothing),? (?:thanks|thank you)",
)

_EDGE_RE2 = fast.to_re2(r"^[\s\.\,;:!?\-–—_'\"“”‘’()\[\]{}*]+|[\s\.\,;:!?\-–—_'\"“”‘’()\[\]{}*]+$")
_SPACES_RE2 = fast.to_re2(r"\s+")
_LETTER_RE2 = r"\pL"


def as_text(texts: pd.Series) -> pd.Series:
    """`texts` as an object Series of Python strings with None for missing values (same index), so that
    every `.str` method runs Python's `re` (lookbehinds, Unicode word boundaries) whatever the dtype."""
    values = texts.astype(object)
    return values.where(values.notna(), None)


def normalise(texts: pd.Series) -> pd.Series:
    """Answers as compared with the non-answer list: case-folded, inner whitespace collapsed to one
    space, and punctuation, brackets and quotes stripped from both ends ("N/A." -> "n/a", " - " -> "");
    None for missing values. Same index as `texts`."""
    folded = fast.strings(as_text(texts).str.casefold())
    folded = pc.replace_substring_regex(folded, _SPACES_RE2, " ")
    folded = pc.replace_substring_regex(folded, _EDGE_RE2, "")
    return pd.Series(folded.to_numpy(zero_copy_only=False), index=texts.index, dtype=object)


@dataclass(frozen=True)
class MeaningfulRule:
    """The non-answers of one question: literal answers (compared after `normalise`), full-match
    regular expressions (case-insensitive, on the normalised answer) and the minimum number of letters."""

    non_answers: tuple[str, ...] = DEFAULT_NON_ANSWERS
    patterns: tuple[str, ...] = DEFAULT_PATTERNS
    min_letters: int = 1
    _literal: frozenset[str] = field(init=False, repr=False, compare=False)
    _regex: re.Pattern | None = field(init=False, repr=False, compare=False)
    _re2: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        literal = normalise(pd.Series(list(self.non_answers), dtype=object)).fillna("")
        object.__setattr__(self, "_literal", frozenset(literal))
        either = "|".join(f"(?:{p})" for p in self.patterns)
        regex = re.compile(f"^(?:{either})$", re.IGNORECASE) if self.patterns else None
        object.__setattr__(self, "_regex", regex)
        object.__setattr__(self, "_re2", fast.to_re2(regex.pattern) if regex is not None else None)


@dataclass(frozen=True)
class MeaningfulCounts:
    """Counts of one question's answers. `answers` = non-blank answers = `non_answer` + `meaningful`;
    `total` = `blank` + `answers`; `non_answer_values` counts each non-answer as written
    (stripped), most frequent first."""

    total: int
    blank: int
    answers: int
    non_answer: int
    meaningful: int
    non_answer_values: dict[str, int]

    def as_dict(self) -> dict[str, int]:
        """The four counts as a flat mapping (for the ledger or a log line)."""
        return dict(total=self.total, blank=self.blank, answers=self.answers,
                    non_answer=self.non_answer, meaningful=self.meaningful)


def _classify_each(texts: pd.Series, rule: MeaningfulRule) -> np.ndarray:
    """`blank`, `non_answer` or `meaningful` for each answer, as an object array."""
    blank = as_text(texts).str.strip().fillna("").eq("").to_numpy(dtype=bool)
    norm = normalise(texts).fillna("")
    array = fast.strings(norm)
    if rule.min_letters == 1:
        non = ~fast.search(array, _LETTER_RE2, ignore_case=False)
    else:
        letters = pc.fill_null(pc.count_substring_regex(array, _LETTER_RE2), 0).to_numpy(zero_copy_only=False)
        non = letters < rule.min_letters
    non |= norm.isin(rule._literal).to_numpy(dtype=bool)
    if rule._regex is not None:
        non |= (fast.search(array, rule._re2) if rule._re2 is not None
                else fast.python_search(norm, rule._regex))
    return np.where(blank, "blank", np.where(non, "non_answer", "meaningful")).astype(object)


def classify(texts: pd.Series, rule: MeaningfulRule = MeaningfulRule()) -> pd.Series:
    """`blank`, `non_answer` or `meaningful` for each answer (same index as `texts`); each distinct answer
    is classified once."""
    codes, distinct = fast.distinct(texts)
    table = np.append(_classify_each(distinct, rule), "blank")
    return pd.Series(table[codes], index=texts.index, dtype=object)


def is_meaningful(texts: pd.Series, rule: MeaningfulRule = MeaningfulRule()) -> pd.Series:
    """True for meaningful answers (same index as `texts`)."""
    return classify(texts, rule).eq("meaningful")


def count(texts: pd.Series, rule: MeaningfulRule = MeaningfulRule(),
          kinds: pd.Series | None = None) -> MeaningfulCounts:
    """How many answers are blank, non-answers and meaningful under `rule` (`kinds`: the answers'
    `classify` result, if already computed)."""
    if kinds is not None:
        values = as_text(texts)[kinds.eq("non_answer")].str.strip().value_counts()
        by_value = {str(k): int(v) for k, v in values.items()}
        blank, non, meaningful = (int(kinds.eq(k).sum()) for k in ("blank", "non_answer", "meaningful"))
        return _counts(len(kinds), blank, non, meaningful, by_value)
    codes, distinct = fast.distinct(texts)
    kind = _classify_each(distinct, rule)
    n = np.bincount(codes[codes >= 0], minlength=len(distinct))
    by_value: dict[str, int] = {}
    for text, how_many in zip(distinct[kind == "non_answer"].str.strip(), n[kind == "non_answer"]):
        by_value[str(text)] = by_value.get(str(text), 0) + int(how_many)
    non, meaningful = (int(n[kind == k].sum()) for k in ("non_answer", "meaningful"))
    return _counts(len(codes), len(codes) - non - meaningful, non, meaningful, by_value)


def _counts(total: int, blank: int, non: int, meaningful: int, by_value: dict[str, int]) -> MeaningfulCounts:
    """MeaningfulCounts with `non_answer_values` ordered most frequent first, then alphabetically."""
    ordered = dict(sorted(by_value.items(), key=lambda kv: (-kv[1], kv[0])))
    return MeaningfulCounts(total, blank, non + meaningful, non, meaningful, ordered)
