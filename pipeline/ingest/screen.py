"""Decide which export rows are respondents: every row leaves with an outcome and a reason."""

from __future__ import annotations

from enum import Enum

import numpy as np
import pandas as pd

from pipeline.instrument import Instrument


class Reason(str, Enum):
    """Why a row was excluded (the ledger's `reason` column); `kept` rows have an empty reason."""

    PREVIEW = "test_or_preview"
    NO_CONSENT = "no_consent"
    EMPTY = "empty"
    DUPLICATE = "duplicate_submission"


LEDGER_COLUMNS = ["row", "line", "outcome", "reason", "detail", "flags"]


def answer_columns(instrument: Instrument) -> list[str]:
    """The export columns that hold answers (not identifiers, dates, status or consent)."""
    return [q.column for q in instrument.questions]


def screen(frame: pd.DataFrame, instrument: Instrument, first_line: int) -> pd.DataFrame:
    """The ledger: one row per export row with `row` (1-based data row), `line` (line in the file),
    `outcome` (kept/excluded), `reason` (a `Reason` value or ""), `detail` and `flags` ("").

    Rules, applied in this order so each row has one reason: a test/preview status; consent not given;
    no answer to any question; a duplicate submission (same `duplicate_key`, the latest `submitted_at`
    is kept, ties to the later row).
    """
    n = len(frame)
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    export = instrument.export

    def exclude(mask: np.ndarray, why: Reason, text: str | np.ndarray) -> None:
        todo = mask & (reason == "")
        reason[todo] = why.value
        detail[todo] = text[todo] if isinstance(text, np.ndarray) else text

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
    if "duplicate_key" in export:
        key = frame[export["duplicate_key"]].to_numpy(dtype=object)
        order = frame[export["submitted_at"]] if "submitted_at" in export else pd.Series("", index=frame.index)
        candidates = pd.DataFrame({"key": key, "at": order.to_numpy(dtype=object), "row": np.arange(n)})
        candidates = candidates[(reason == "") & (key != "")]
        candidates = candidates.sort_values(["key", "at", "row"], kind="stable")
        latest = candidates.groupby("key", sort=False)["row"].transform("last")
        superseded = candidates[candidates["row"] != latest]
        mask = np.zeros(n, dtype=bool)
        mask[superseded["row"].to_numpy()] = True
        text = np.full(n, "", dtype=object)
        text[superseded["row"].to_numpy()] = "superseded by row " + (latest[superseded.index] + 1).astype(str).to_numpy()
        exclude(mask, Reason.DUPLICATE, text)
    return pd.DataFrame({
        "row": np.arange(1, n + 1),
        "line": np.arange(first_line, first_line + n),
        "outcome": np.where(reason == "", "kept", "excluded"),
        "reason": reason,
        "detail": detail,
        "flags": np.full(n, "", dtype=object),
    })
