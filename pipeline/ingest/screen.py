"""Decide which export rows are respondents: every row leaves with an outcome and a reason."""

from __future__ import annotations

from enum import Enum

import numpy as np
import pandas as pd

from pipeline.instrument import Instrument


class Reason(str, Enum):
    """Why a row was excluded (the ledger's `reason` column); `kept` rows have an empty reason."""

    HEADER = "extra_header_row"
    PREVIEW = "test_or_preview"
    NO_CONSENT = "no_consent"
    EMPTY = "empty"
    DUPLICATE = "duplicate_submission"
    DUPLICATE_ID = "duplicate_respondent_id"


LEDGER_COLUMNS = ["row", "line", "outcome", "reason", "detail", "flags"]


def answer_columns(instrument: Instrument) -> list[str]:
    """The export columns that hold answers (not identifiers, dates, status or consent)."""
    return [q.column for q in instrument.questions]


HEADER_WORDS = ("importid", "responseid", "respondentid", "response", "openendedresponse")
MAX_HEADER_ROWS = 2


def _folded(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def header_rows(frame: pd.DataFrame, instrument: Instrument) -> np.ndarray:
    """Which of the first rows are extra header rows that survey tools add under the column names
    (Qualtrics: question texts and `{"ImportId": …}`; SurveyMonkey: a row of "Response" / option labels).

    A leading row counts as a header when its respondent-id cell is blank or header-like and none of its
    single-choice cells holds a label of its question's scale. Only the first MAX_HEADER_ROWS rows are
    looked at, and they must be consecutive from the top.
    """
    mask = np.zeros(len(frame), dtype=bool)
    id_column = instrument.export["respondent_id"]
    single = [q for q in instrument.questions if q.type in ("ordinal", "nominal")]
    for i in range(min(MAX_HEADER_ROWS, len(frame))):
        identifier = _folded(str(frame.iloc[i][id_column]))
        id_like_header = identifier == "" or any(word in identifier for word in HEADER_WORDS) \
            or identifier == _folded(id_column)
        labels = any(frame.iloc[i][q.column] in q.scale.labels for q in single)
        if not id_like_header or labels:
            break
        mask[i] = True
    return mask


def _text(values) -> pd.Series:
    return values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object), dtype=object)


def superseded(key, order, candidate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose non-blank `key` is shared by a later candidate row (later by `order`, then by position),
    and for each the 1-based row that supersedes it. `key` and `order` are text (Series or arrays), compared
    as Python compares strings; only the rows whose key occurs more than once are sorted."""
    n = len(key)
    key, order = _text(key).reset_index(drop=True), _text(order).reset_index(drop=True)
    key_codes = pd.factorize(key)[0]
    eligible = candidate & (key != "").to_numpy(dtype=bool) & (key_codes >= 0)
    repeats = np.bincount(key_codes[eligible], minlength=key_codes.max(initial=-1) + 1)
    rows = np.flatnonzero(eligible & (repeats[np.maximum(key_codes, 0)] > 1))
    group = key_codes[rows]
    at = pd.factorize(order.iloc[rows], sort=True)[0]
    ranked = rows[np.lexsort((rows, at, group))]
    group = key_codes[ranked]
    last = np.r_[group[1:] != group[:-1], True] if len(ranked) else np.zeros(0, dtype=bool)
    latest = ranked[last][np.cumsum(np.r_[0, last[:-1]])] if len(ranked) else ranked
    old = ranked != latest
    mask = np.zeros(n, dtype=bool)
    mask[ranked[old]] = True
    by = np.zeros(n, dtype=np.int64)
    by[ranked[old]] = latest[old] + 1
    return mask, by


def _where(mask: np.ndarray, text) -> np.ndarray:
    """An object array with `text(rows)` at the rows where `mask` is true and "" elsewhere, so that per-row
    detail text is only built for the rows it describes."""
    out = np.full(len(mask), "", dtype=object)
    rows = np.flatnonzero(mask)
    if len(rows):
        out[rows] = text(rows)
    return out


def screen(frame: pd.DataFrame, instrument: Instrument, first_line: int) -> pd.DataFrame:
    """The ledger: one row per export row with `row` (1-based data row), `line` (line in the file),
    `outcome` (kept/excluded), `reason` (a `Reason` value or ""), `detail` and `flags` ("").

    Rules, applied in this order so each row has one reason: an extra header row of the survey tool; a
    test/preview status; consent not given; no answer to any question; a duplicate submission (same
    `duplicate_key`: the latest `submitted_at` is kept, ties to the later row); a repeated respondent id
    (the same rule on `respondent_id`).
    """
    n = len(frame)
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    export = instrument.export

    def exclude(mask: np.ndarray, why: Reason, text: str | np.ndarray) -> None:
        todo = mask & (reason == "")
        reason[todo] = why.value
        detail[todo] = text[todo] if isinstance(text, np.ndarray) else text

    exclude(header_rows(frame, instrument), Reason.HEADER, "header row added by the survey tool")
    if "preview" in export:
        column = frame[export["preview"]["column"]]
        preview = column.isin(export["preview"]["values"]).to_numpy(dtype=bool)
        exclude(preview, Reason.PREVIEW, _where(preview, lambda rows: "status " + column.iloc[rows].to_numpy(dtype=object)))
    if "consent" in export:
        column = frame[export["consent"]["column"]]
        refused = ~column.isin(export["consent"]["accept"]).to_numpy(dtype=bool)
        exclude(refused, Reason.NO_CONSENT, _where(refused, lambda rows: np.where(
            column.iloc[rows].to_numpy(dtype=object) == "", "consent blank", "consent refused")))
    empty = np.logical_and.reduce([(frame[c] == "").to_numpy(dtype=bool) for c in answer_columns(instrument)])
    exclude(empty, Reason.EMPTY, "no answer to any question")
    order = frame[export["submitted_at"]] if "submitted_at" in export else np.full(n, "", dtype=object)
    for column, why in ((export.get("duplicate_key"), Reason.DUPLICATE), (export["respondent_id"], Reason.DUPLICATE_ID)):
        if column:
            mask, by = superseded(frame[column], order, reason == "")
            exclude(mask, why, _where(mask, lambda rows: np.array([f"superseded by row {b}" for b in by[rows]],
                                                                  dtype=object)))
    return pd.DataFrame({
        "row": np.arange(1, n + 1),
        "line": np.arange(first_line, first_line + n),
        "outcome": np.where(reason == "", "kept", "excluded"),
        "reason": reason,
        "detail": detail,
        "flags": np.full(n, "", dtype=object),
    })
