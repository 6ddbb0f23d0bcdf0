"""Recipe for the corpus's large-export case (cases.yaml: `generate`): the bundled wave's export with its
data rows repeated up to a target size, every copy with fresh respondent ids and invitation keys and its
submission times shifted by one second per copy, so that no copy is a duplicate submission of another
while the exclusions inside one copy (preview, no consent, duplicates, …) repeat in every copy. Written at
test time into a temporary folder, never committed."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import yaml


def _quoted(field: str) -> str:
    """One CSV field as csv.writer writes it with minimal quoting."""
    if any(ch in field for ch in ',"\n\r'):
        return '"' + field.replace('"', '""') + '"'
    return field


def _times(values: list[str], seconds: int) -> list[str]:
    """ISO-like timestamps ("2024-05-02 10:21:26") moved `seconds` later; blank ones stay blank."""
    present = np.array([v != "" for v in values])
    moved = np.full(len(values), "", dtype=object)
    stamps = np.array([v.replace(" ", "T") for v in values if v], dtype="datetime64[s]") + seconds
    moved[present] = [str(s).replace("T", " ") for s in stamps]
    return moved.tolist()


def write_big_export(source: Path, instrument: Path, target: Path, megabytes: float,
                     last_row: dict | None = None) -> tuple[int, int]:
    """Write at least `megabytes` MB (10**6 bytes) of export to `target` in whole copies of the data rows of
    `source`, the copy number appended to every non-blank respondent id and invitation key; with `last_row`
    ({column, value}), then one more row: a further copy of the first data row with that cell changed.
    Return (data rows written, whole copies)."""
    export = yaml.safe_load(instrument.read_text(encoding="utf-8"))["export"]
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    unique = [header.index(export[key]) for key in ("respondent_id", "duplicate_key") if export.get(key)]
    when = header.index(export["submitted_at"])
    template = [[_quoted(field) for field in row] for row in body]
    goal, copies = int(megabytes * 1_000_000), 0
    with target.open("w", encoding="utf-8", newline="") as out:
        written = out.write(",".join(map(_quoted, header)) + "\n")
        while written < goal:
            times = _times([row[when] for row in body], copies)
            lines = []
            for fields, original, time in zip(template, body, times):
                fields = list(fields)
                for i in unique:
                    fields[i] = _quoted(f"{original[i]}C{copies}") if original[i] else fields[i]
                fields[when] = time
                lines.append(",".join(fields))
            written += out.write("\n".join(lines) + "\n")
            copies += 1
        if last_row is not None:
            fields = list(body[0])
            for i in unique:
                fields[i] = f"{fields[i]}C{copies}"
            fields[header.index(last_row["column"])] = last_row["value"]
            out.write(",".join(map(_quoted, fields)) + "\n")
    return copies * len(body) + (last_row is not None), copies
