"""Vectorised regular-expression matching through RE2 (pyarrow compute), with Python's meaning.

Python's `re` scans a pattern that starts with a lookbehind at every position of every answer, which
takes minutes on a million answers. RE2 is linear-time and vectorised, but its `\\w`, `\\s` and `\\d`
are ASCII-only and it has no lookarounds. `to_re2` translates a Python pattern into an RE2 pattern that
matches the same strings (Unicode classes spelled out), or returns None when it cannot (lookarounds,
backreferences, `\\b`, verbose mode …): callers then fall back to Python's `re` for that pattern. A word
boundary `(?<!\\w)…(?!\\w)` becomes `(?:^|[^\\pL\\pN_])…(?:[^\\pL\\pN_]|$)`: the same test of whether an
answer contains a match (not the same span).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SPACE = r"\t-\r\x{1c}-\x{1f}\x{85}\pZ"
WORD = r"\pL\pN_"
NONWORD = rf"[^{WORD}]"
_UNSUPPORTED_ESCAPES = set("bBZGN0123456789")
_CLASS_ESCAPES = {"w": WORD, "s": SPACE, "d": r"\p{Nd}", "D": r"\P{Nd}"}
_OUTSIDE_ESCAPES = {"w": f"[{WORD}]", "W": NONWORD, "s": f"[{SPACE}]", "S": f"[^{SPACE}]", "d": r"\p{Nd}",
                    "D": r"\P{Nd}"}
_UNSUPPORTED_GROUPS = ("(?=", "(?!", "(?<=", "(?<!", "(?#", "(?(", "(?>", "(?P=", "(?x", "(?a", "(?L", "(?u")
_CHECK = pa.array([""], type=pa.string())
RE2_FROM = 1000


def to_re2(pattern: str) -> str | None:
    """An RE2 pattern matching exactly what the Python pattern matches on `str` (Unicode), or None."""
    if any(group in pattern for group in _UNSUPPORTED_GROUPS) or re.search(r"\{,", pattern):
        return None
    out: list[str] = []
    in_class = class_start = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                return None
            nxt = pattern[i + 1]
            if nxt in _UNSUPPORTED_ESCAPES:
                return None
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", pattern[i + 2:i + 6]):
                out.append(f"\\x{{{pattern[i + 2:i + 6]}}}")
                i += 6
                continue
            if nxt == "U" and re.fullmatch(r"[0-9a-fA-F]{8}", pattern[i + 2:i + 10]):
                out.append(f"\\x{{{pattern[i + 2:i + 10]}}}")
                i += 10
                continue
            if nxt in "uU":
                return None
            table = _CLASS_ESCAPES if in_class else _OUTSIDE_ESCAPES
            if nxt in table:
                out.append(table[nxt])
            elif in_class and nxt in "WS":
                return None
            else:
                out.append(pattern[i:i + 2])
            class_start = False
            i += 2
            continue
        if in_class:
            if char == "[":
                return None
            if char == "]" and not class_start:
                in_class = False
            class_start = False
            out.append(char)
            i += 1
            continue
        if char == "[":
            in_class = True
            out.append(char)
            i += 1
            if i < len(pattern) and pattern[i] == "^":
                out.append("^")
                i += 1
            class_start = True
            continue
        out.append(char)
        i += 1
    if in_class:
        return None
    translated = "".join(out)
    try:
        pc.match_substring_regex(_CHECK, translated)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return translated


def bounded_re2(alternatives: list[str]) -> str | None:
    """The RE2 form of `pipeline.text.codebook.bounded(alternatives)` for a contains-test, or None if an
    alternative cannot be translated."""
    translated = [to_re2(a) for a in alternatives]
    if not translated or any(t is None for t in translated):
        return None
    return rf"(?:^|{NONWORD})(?:" + "|".join(f"(?:{t})" for t in translated) + rf")(?:{NONWORD}|$)"


def arrow_strings(values) -> pa.Array:
    """An arrow large_string array of the values (a Series or array; None for missing or non-string values),
    in one chunk. Arrow-backed text columns are taken as they are; an object column is converted in C and
    only goes element by element when it holds something other than strings and missing values."""
    array = values.array if isinstance(values, pd.Series) else values
    try:
        converted = pa.array(array, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        converted = None
    if isinstance(converted, pa.ChunkedArray):
        converted = converted.combine_chunks()
    if converted is not None and pa.types.is_null(converted.type):
        return pa.nulls(len(converted), type=pa.large_string())
    if converted is None or not (pa.types.is_string(converted.type) or pa.types.is_large_string(converted.type)):
        data = [v if isinstance(v, str) else None for v in np.asarray(array, dtype=object)]
        return pa.array(data, type=pa.large_string())
    return converted.cast(pa.large_string())


def distinct(values) -> tuple[np.ndarray, pd.Series]:
    """(code of each value, the distinct strings in order of first appearance as an object Series), as
    `pd.factorize` gives them, found by arrow's hashing; missing and non-string values get code -1. Per-answer
    work then runs once per distinct answer, on Python strings."""
    encoded = pc.dictionary_encode(arrow_strings(values))
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, pd.Series(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)


def strings(values: pd.Series) -> pa.Array:
    """An arrow string array of the values (None for missing or non-string values)."""
    return arrow_strings(values)


def search(array: pa.Array, pattern: str, ignore_case: bool = True) -> np.ndarray:
    """Whether each string contains a match of the RE2 `pattern` (False for missing values)."""
    found = pc.match_substring_regex(array, pattern, ignore_case=ignore_case)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False).astype(bool)


def python_search(values: pd.Series, regex: re.Pattern) -> np.ndarray:
    """Whether each value contains a match of a compiled Python pattern (False for missing values)."""
    return np.fromiter((isinstance(v, str) and regex.search(v) is not None for v in values.to_numpy(dtype=object)),
                       dtype=bool, count=len(values))


@lru_cache(maxsize=256)
def _compiled(pattern: str, flags: int) -> re.Pattern:
    return re.compile(pattern, flags)


@lru_cache(maxsize=256)
def _translated(pattern: str) -> str | None:
    return to_re2(pattern)


def contains(values: pd.Series, pattern: str, ignore_case: bool = True) -> np.ndarray:
    """Whether each value contains a match of the Python `pattern` (False for missing values): through
    RE2 for `RE2_FROM` values or more when the pattern translates, else through Python's `re`, where
    compiling the RE2 pattern would cost more than the search."""
    re2 = _translated(pattern) if len(values) >= RE2_FROM else None
    if re2 is not None:
        return search(strings(values), re2, ignore_case)
    return python_search(values, _compiled(pattern, re.IGNORECASE if ignore_case else 0))
