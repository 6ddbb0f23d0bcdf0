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


def superseded(key: np.ndarray, order: np.ndarray, candidate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose non-blank `key` is shared by a later candidate row (later by `order`, then by position),
    and for each the 1-based row that supersedes it."""
    n = len(key)
    frame = pd.DataFrame({"key": key, "at": order, "row": np.arange(n)})
    frame = frame[candidate & (key != "")].sort_values(["key", "at", "row"], kind="stable")
    latest = frame.groupby("key", sort=False)["row"].transform("last")
    old = frame[frame["row"] != latest]
    mask = np.zeros(n, dtype=bool)
    mask[old["row"].to_numpy()] = True
    by = np.zeros(n, dtype=np.int64)
    by[old["row"].to_numpy()] = latest[old.index].to_numpy() + 1
    return mask, by


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
        exclude(column.isin(export["preview"]["values"]).to_numpy(), Reason.PREVIEW,
                "status " + column.to_numpy(dtype=object))
    if "consent" in export:
        column = frame[export["consent"]["column"]]
        refused = ~column.isin(export["consent"]["accept"]).to_numpy()
        exclude(refused, Reason.NO_CONSENT, np.where(column.to_numpy(dtype=object) == "", "consent blank", "consent refused"))
    answers = frame[answer_columns(instrument)]
    exclude((answers == "").all(axis=1).to_numpy(), Reason.EMPTY, "no answer to any question")
    order = frame[export["submitted_at"]].to_numpy(dtype=object) if "submitted_at" in export else np.full(n, "")
    for column, why in ((export.get("duplicate_key"), Reason.DUPLICATE), (export["respondent_id"], Reason.DUPLICATE_ID)):
        if column:
            mask, by = superseded(frame[column].to_numpy(dtype=object), order, reason == "")
            exclude(mask, why, np.array([f"superseded by row {b}" for b in by], dtype=object))
    return pd.DataFrame({
        "row": np.arange(1, n + 1),
        "line": np.arange(first_line, first_line + n),
        "outcome": np.where(reason == "", "kept", "excluded"),
        "reason": reason,
        "detail": detail,
        "flags": np.full(n, "", dtype=object),
    })
