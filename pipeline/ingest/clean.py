"""The ingest stage as one pure function: raw export + instrument → clean data, ledger, recodes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.errors import PulseError
from pipeline.ingest.derive import derive
from pipeline.ingest.read import Export
from pipeline.ingest.recode import recode
from pipeline.ingest.screen import screen
from pipeline.instrument import Instrument

RECODE_COLUMNS = ["question", "rule", "value_exported", "value_used", "count"]
MAX_PROBLEM_LINES = 20


@dataclass(frozen=True)
class Ingested:
    """What ingest returns: `clean` (one row per kept respondent, `row` = export row number, typed
    answer columns, `<question>__status` columns and derived columns), `ledger` (one row per export row),
    `recodes` (one row per recode applied, with its count) and `warnings` (one line each)."""

    clean: pd.DataFrame
    ledger: pd.DataFrame
    recodes: pd.DataFrame
    warnings: tuple[str, ...]

    @property
    def summary(self) -> str:
        kept = int((self.ledger["outcome"] == "kept").sum())
        return f"{len(self.ledger)} rows in = {kept} kept + {len(self.ledger) - kept} excluded"


def required_columns(instrument: Instrument) -> list[str]:
    """Every export column the instrument reads: administrative columns, then answer columns."""
    export = instrument.export
    admin = [export.get("respondent_id"), export.get("submitted_at"), export.get("duplicate_key"),
             export.get("preview", {}).get("column"), export.get("consent", {}).get("column")]
    return list(dict.fromkeys([c for c in admin if c] + [q.column for q in instrument.questions]))


def check_columns(export: Export, instrument: Instrument) -> None:
    """Raise one line per column the instrument needs that the export lacks (with a close match if any)."""
    present = list(export.frame.columns)
    problems = []
    for column in required_columns(instrument):
        if column not in present:
            close = difflib.get_close_matches(column, present, n=1)
            hint = f" (the export has {close[0]!r}: renamed?)" if close else ""
            problems.append(f"{export.path}: column {column!r} is missing{hint}; "
                            f"fix the export or the column named in {instrument.path}")
    if problems:
        raise PulseError(problems)


def _arrow_backed(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow"


def kept_rows_of(frame: pd.DataFrame, kept: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """The rows of `frame` where `kept` is true, only `columns`, on a fresh RangeIndex. Arrow-backed text
    columns (CSV exports) are selected by pyarrow as one table (`_kept_table`), so that no cell becomes a Python
    object and dtypes stay as read; other frames go through `.loc`."""
    if not all(_arrow_backed(frame[c]) for c in columns):
        return frame.loc[kept, columns].reset_index(drop=True)
    table = pa.table([pa.array(frame[c].array) for c in columns], names=columns)
    if not kept.all():
        table = _kept_table(table, kept)
    return table.to_pandas()


MAX_SLICES = 64


def _kept_table(table: pa.Table, kept: np.ndarray) -> pa.Table:
    """The kept rows of `table`: when they form a few runs (a handful of rows excluded) the runs are sliced and
    chained without copying any cell; otherwise the table is filtered (one copy)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], kept.astype(np.int8), [0]])))
    starts, stops = edges[0::2], edges[1::2]
    if len(starts) > MAX_SLICES:
        return table.filter(pa.array(kept, type=pa.bool_()))
    return pa.concat_tables([table.slice(int(a), int(b - a)) for a, b in zip(starts, stops)]) if len(starts) \
        else table.slice(0, 0)


def _problem_lines(export: Export, kept_rows: pd.Series, problems: list) -> list[str]:
    lines = []
    for position, column, _value, message in problems[:MAX_PROBLEM_LINES]:
        row = int(kept_rows.iloc[position])
        lines.append(f"{export.path}: row {row} (line {row - 1 + export.first_line}), column {column!r}: {message}")
    if len(problems) > MAX_PROBLEM_LINES:
        lines.append(f"{export.path}: … and {len(problems) - MAX_PROBLEM_LINES} more cells like these")
    return lines


def redact_text(clean: pd.DataFrame, instrument: Instrument, redaction, recodes: list[dict],
                flags: dict[int, list[str]]) -> None:
    """Replace personal data in every free-text answer by placeholders (pipeline.text.redact), in place;
    count each kind per question in the recodes (never the redacted text) and flag each row."""
    from pipeline.text import redact_answers

    if redaction.phone_region and redaction.phone_region not in clean.columns:
        raise PulseError(f"{redaction.path}: phone_region: {redaction.phone_region!r} is not a variable of the "
                         f"clean data; name the derived variable holding the country of residence")
    regions = clean[redaction.phone_region] if redaction.phone_region else None
    for question in instrument.questions_of("text"):
        values, per_answer = redact_answers(clean[question.id], regions, redaction.flat)
        clean[question.id] = values.astype(object).where(values.notna(), None)
        for kind in per_answer.columns:
            if per_answer[kind].sum():
                recodes.append(dict(question=question.id, rule=f"redacted_{kind}", value_exported="",
                                    value_used=f"[{kind}]", count=int(per_answer[kind].sum())))
        found = per_answer.to_numpy() > 0
        rows = clean["row"].to_numpy()
        for position in np.flatnonzero(found.any(axis=1)):
            kinds = "+".join(k for k, hit in zip(per_answer.columns, found[position]) if hit)
            flags.setdefault(int(rows[position]), []).append(f"redacted:{question.id}={kinds}")


def _flag_column(n: int, flags: dict[int, list[str]]) -> np.ndarray:
    """The ledger's `flags` column for export rows 1..n: each row's flags joined by ";", "" without any."""
    column = np.full(n, "", dtype=object)
    for row, found in flags.items():
        column[row - 1] = ";".join(found)
    return column


def count_non_answers(clean: pd.DataFrame, codebooks: dict, recodes: list[dict]) -> None:
    """Count, per free-text question with a codebook, each non-answer ("n/a", "none", "-", …) as written."""
    from pipeline.text import count

    for question, codebook in codebooks.items():
        counts = count(clean[question], codebook.meaningful)
        for value, n in counts.non_answer_values.items():
            recodes.append(dict(question=question, rule="non_answer", value_exported=value,
                                value_used="not a meaningful answer", count=int(n)))


def ingest(export: Export, instrument: Instrument, redaction=None, codebooks: dict | None = None,
           panel_salt: str | None = None) -> Ingested:
    """Screen, recode and derive; with a redaction list (pipeline.text.RedactionList), replace personal data
    in free text; with codebooks, count non-answers. Raises PulseError (one line per cell) if an answer
    cannot be read. With `panel_salt`, each respondent gets `panel_id`, a salted hash of the invitation key
    (`duplicate_key`) that links the same person across waves without storing the key."""
    check_columns(export, instrument)
    if export.frame.empty:
        raise PulseError(f"{export.path}: the export has column names but no response rows; export the responses again")
    ledger = screen(export.frame, instrument, export.first_line)
    kept = ledger["outcome"].to_numpy() == "kept"
    kept_rows = ledger.loc[kept, "row"].reset_index(drop=True)
    frame = kept_rows_of(export.frame, kept, required_columns(instrument))
    recoded = recode(frame, instrument)
    if recoded.problems:
        raise PulseError(_problem_lines(export, kept_rows, recoded.problems))
    derive(instrument, recoded)
    clean = pd.DataFrame({"row": kept_rows.to_numpy()})
    key = instrument.export.get("duplicate_key")
    if panel_salt and key:
        from pipeline.ingest.panel import panel_ids

        clean["panel_id"] = panel_ids(frame[key], panel_salt).to_numpy()
    clean = pd.concat([clean, pd.DataFrame({k: v for k, v in recoded.columns.items()})], axis=1)
    flags: dict[int, list[str]] = {}
    for position, flag in recoded.flags:
        flags.setdefault(int(kept_rows.iloc[position]), []).append(flag)
    if redaction is not None:
        redact_text(clean, instrument, redaction, recoded.recodes, flags)
    if codebooks:
        count_non_answers(clean, codebooks, recoded.recodes)
    ledger["flags"] = pd.Series(_flag_column(len(ledger), flags), index=ledger.index, dtype=object)
    recodes = pd.DataFrame(recoded.recodes, columns=RECODE_COLUMNS)
    recodes = recodes.sort_values(["question", "rule", "value_exported"], kind="stable").reset_index(drop=True)
    warnings = []
    unknown = recodes[recodes["rule"] == "unknown_country"]
    if len(unknown):
        rows = [r for r, fl in flags.items() if any(f.startswith("unknown_country") for f in fl)]
        spellings = ", ".join(repr(v) for v in dict.fromkeys(unknown["value_exported"]))
        warnings.append(f"{export.path}: {int(unknown['count'].sum())} answer(s) name an unknown country ({spellings}; "
                        f"rows {', '.join(map(str, sorted(rows)[:10]))}): kept with UN group Unknown and flagged in "
                        f"ledger.csv; add the spelling to the country alias table if it is a real country")
    return Ingested(clean, ledger, recodes, tuple(warnings))
