"""Manual coding of free-text answers: the coders' CSV, each coder's judgement, and the final tags.

The coders' file (e.g. `surveys/<survey>/<wave>/coding.csv`, UTF-8) has one row per decision with the
columns `respondent` (the export row number, `row` in the clean data), `question` (a question id with
a codebook), `tag` and `coder` (a name). Other columns (e.g. `note`) are ignored. `tag` is one of

- `<tag>`: the tag applies to this answer;
- `-<tag>`: the tag does not apply (removes an automatic tag);
- `-*`: none of the automatic tags applies (tags the same coder lists for the answer still apply);
- `=`: the coder reviewed the answer and leaves the automatic tags as they are.

A coder *coded* an answer when the file has at least one row for that coder, respondent and question.
Their *judgement* on a coded answer is, for each tag of the codebook, present or absent:

- with the codebook's `manual.baseline: automatic` (the default: coders review the automatic tags):
  the automatic tags, minus those the coder removed (`-<tag>`, or all with `-*`), plus those they listed;
- with `manual.baseline: none` (coders code from scratch): exactly the tags the coder listed
  (`-<tag>`, `-*` and `=` only mark the answer as coded).

The *final* tags of an answer nobody coded are the automatic tags. For a coded answer, each tag is
decided in this order:

1. if the adjudicator (the codebook's `manual.adjudicator`, default `adjudicator`) coded the answer,
   their judgement;
2. else the majority of the coders who coded it;
3. a tie (e.g. two coders who disagree) leaves the automatic tag as it was.

Every tag where a coder's judgement differs from the automatic tag, or where coders disagree, is a row
of the decisions table, with the rule that settled it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pandas as pd

from pipeline.errors import PulseError
from pipeline.text.codebook import Codebook

CODING_COLUMNS = ("respondent", "question", "tag", "coder")
KEEP = "="
NONE = "-*"
DECISION_COLUMNS = ["respondent", "question", "tag", "automatic", "final", "present", "absent", "rule"]
RULES = {"adjudicator": "adjudicator", "single": "one coder", "agree": "coders agree",
         "majority": "majority", "tie": "tie: automatic tag kept"}


def read_coding(path: Path | str) -> pd.DataFrame:
    """The coders' CSV as a frame with `respondent` (int), `question`, `tag`, `coder` (stripped strings)
    and `line` (the line in the file, for messages); an empty frame with those columns if the file does
    not exist. Raises PulseError (one line per problem) for a missing column or a respondent that is not
    a whole number."""
    path = Path(path)
    columns = [*CODING_COLUMNS, "line"]
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype=int if c in ("respondent", "line") else object) for c in columns})
    try:
        reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
        records = [(reader.line_num, row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise PulseError(f"{path}: cannot read the coders' file ({error}); save it as UTF-8 CSV") from None
    header = [c.strip().lower() for c in records[0][1]] if records else []
    missing = [c for c in CODING_COLUMNS if c not in header]
    if missing:
        raise PulseError(f"{path}: column(s) {', '.join(missing)} missing; the header must be "
                         f"{','.join(CODING_COLUMNS)}")
    where = [header.index(c) for c in CODING_COLUMNS]
    rows = [[(row[i].strip() if i < len(row) else "") for i in where] + [line]
            for line, row in records[1:] if any(cell.strip() for cell in row)]
    frame = pd.DataFrame(rows, columns=columns).astype({c: object for c in CODING_COLUMNS})
    number = pd.to_numeric(frame["respondent"], errors="coerce")
    bad = number.isna() | (number % 1 != 0)
    if bad.any():
        raise PulseError([f"{path}: line {line}, column 'respondent': {value!r} is not an export row number"
                          for line, value in zip(frame.loc[bad, "line"], frame.loc[bad, "respondent"])])
    frame["respondent"] = number.astype(int)
    return frame[columns].reset_index(drop=True)


def check_coding(coding: pd.DataFrame, codebooks: Mapping[str, Codebook],
                 meaningful: Mapping[str, pd.Series], path: Path | str) -> list[str]:
    """Every problem of a coders' frame (from `read_coding`), one line each naming the file and line.
    `meaningful[question]` is a boolean Series indexed by export row number (the kept respondents):
    coding a respondent who was not kept, or an answer that is not meaningful, is a problem."""
    out: list[str] = []
    for row in coding.itertuples(index=False):
        where = f"{path}: line {row.line}"
        if not row.coder:
            out.append(f"{where}, column 'coder': empty; name the coder")
        book = codebooks.get(row.question)
        if book is None:
            known = ", ".join(sorted(codebooks)) or "none"
            out.append(f"{where}, column 'question': {row.question!r} has no codebook (codebooks: {known})")
            continue
        flags = meaningful.get(row.question)
        if flags is not None:
            if row.respondent not in flags.index:
                out.append(f"{where}, column 'respondent': {row.respondent} is not a kept respondent; "
                           f"check the row number against ledger.csv")
            elif not bool(flags.loc[row.respondent]):
                out.append(f"{where}: respondent {row.respondent} gave no meaningful answer to {row.question}; "
                           f"remove the line or change the codebook's meaningful rule")
        tag = row.tag[1:] if row.tag.startswith("-") and row.tag != NONE else row.tag
        if row.tag not in (KEEP, NONE) and tag not in book.tag_ids:
            out.append(f"{where}, column 'tag': unknown tag {row.tag!r} of {row.question}; use a tag id of "
                       f"{book.path}, -<tag>, {NONE} or {KEEP}")
    for (question, respondent, coder), group in coding.groupby(["question", "respondent", "coder"], sort=True):
        tags = set(group["tag"])
        for tag in sorted(t for t in tags if not t.startswith("-") and t != KEEP and f"-{t}" in tags):
            lines = ", ".join(str(x) for x in group.loc[group["tag"].isin([tag, f"-{tag}"]), "line"])
            out.append(f"{path}: lines {lines}: coder {coder!r} both adds and removes {tag!r} for respondent "
                       f"{respondent} ({question}); keep one")
    return out


def judgements(automatic: pd.DataFrame, coding: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Each coder's judgement on each answer they coded, for every tag of the codebook: a frame with
    `respondent`, `coder`, `tag`, `present` (bool), sorted. `automatic` is the automatic tag matrix
    indexed by export row number; `coding` holds only this question's (checked) rows."""
    rows = []
    tag_ids = list(codebook.tag_ids)
    for (respondent, coder), group in coding.groupby(["respondent", "coder"], sort=True):
        listed = set(group["tag"])
        added = {t for t in listed if t in tag_ids}
        if codebook.baseline == "none":
            present = added
        else:
            auto = {t for t in tag_ids if bool(automatic.at[respondent, t])}
            removed = set(tag_ids) if NONE in listed else {t[1:] for t in listed if t.startswith("-")}
            present = (auto - removed) | added
        rows.extend((respondent, coder, t, t in present) for t in tag_ids)
    return pd.DataFrame(rows, columns=["respondent", "coder", "tag", "present"]).astype(
        {"respondent": int, "coder": object, "tag": object, "present": bool})


def resolve(automatic: pd.DataFrame, judged: pd.DataFrame, codebook: Codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The final tag matrix (same index and columns as `automatic`) and the decisions table (columns
    `DECISION_COLUMNS`: `present` and `absent` list the coders, `;`-separated, whose judgement has the tag
    or not; `rule` is one of `RULES`' values), by the rules in the module docstring."""
    final = automatic.copy()
    decisions = []
    for (respondent, tag), group in judged.groupby(["respondent", "tag"], sort=True):
        auto = bool(automatic.at[respondent, tag])
        yes = sorted(group.loc[group["present"], "coder"])
        no = sorted(group.loc[~group["present"], "coder"])
        if codebook.adjudicator is not None and codebook.adjudicator in yes + no:
            value, rule = codebook.adjudicator in yes, RULES["adjudicator"]
        elif len(yes) == len(no):
            value, rule = auto, RULES["tie"]
        else:
            value = len(yes) > len(no)
            rule = RULES["single"] if len(yes) + len(no) == 1 else RULES["agree"] if not (yes and no) else RULES["majority"]
        final.at[respondent, tag] = value
        if (yes and no) or any(v != auto for v in group["present"]):
            decisions.append((respondent, codebook.question, tag, auto, value, ";".join(yes), ";".join(no), rule))
    table = pd.DataFrame(decisions, columns=DECISION_COLUMNS).astype(
        {"respondent": int, "automatic": bool, "final": bool})
    return final.astype(bool), table


@dataclass(frozen=True)
class ManualCoding:
    """`final`: the tag matrix after manual coding (index: export row number); `judgements`: each coder's
    judgement (see `judgements`); `decisions`: see `resolve`."""

    final: pd.DataFrame
    judgements: pd.DataFrame
    decisions: pd.DataFrame


def apply_coding(automatic: pd.DataFrame, coding: pd.DataFrame, codebook: Codebook) -> ManualCoding:
    """Merge the coders' rows of this codebook's question (others are ignored) into the automatic tag
    matrix (indexed by export row number). `coding` must already have passed `check_coding`."""
    rows = coding[coding["question"] == codebook.question]
    judged = judgements(automatic, rows, codebook)
    final, decisions = resolve(automatic, judged, codebook)
    return ManualCoding(final, judged, decisions)
