"""Free-text questions coded end to end: meaningful answers, automatic and manual tags, agreement,
and the keywords table. Pure functions of the clean data, the codebooks and the coders' rows.

The tag matrix of a question is a boolean frame indexed by the export row number (`row`, index name
"row"), one column per tag id in codebook order, one row per kept respondent; answers that are not
meaningful have no tag. `matrix.reset_index()` merges on `row` with the clean data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from pipeline.errors import PulseError
from pipeline.text.agreement import AGREEMENT_COLUMNS, agreement
from pipeline.text.codebook import Codebook, tag
from pipeline.text.coders import DECISION_COLUMNS, apply_coding, check_coding
from pipeline.text.meaningful import MeaningfulCounts, classify, count, is_meaningful

KEYWORD_COLUMNS = ["question", "tag", "label", "mentions", "meaningful_answers", "pct", "shown",
                   "automatic", "added", "removed"]


@dataclass(frozen=True)
class Coded:
    """One coded question. `meaningful`: bool Series by row; `automatic` and `tags`: the tag matrix before
    and after manual coding; `counts`: blank / non-answer / meaningful counts; `judgements`, `decisions`:
    see `pipeline.text.coders`; `agreement`: see `pipeline.text.agreement`; `keywords`: see `keywords`."""

    question: str
    meaningful: pd.Series
    automatic: pd.DataFrame
    tags: pd.DataFrame
    counts: MeaningfulCounts
    judgements: pd.DataFrame
    decisions: pd.DataFrame
    agreement: pd.DataFrame
    keywords: pd.DataFrame


def keywords(tags: pd.DataFrame, meaningful: pd.Series, codebook: Codebook,
             automatic: pd.DataFrame | None = None) -> pd.DataFrame:
    """The keywords table of one question, one row per tag, most mentioned first (ties in codebook order):
    `mentions` = meaningful answers carrying the tag, `meaningful_answers` = meaningful answers to the
    question, `pct` = 100 · mentions / meaningful_answers (NaN without meaningful answers), `shown` =
    mentions ≥ the codebook's `min_mentions`, and `automatic`, `added`, `removed` = answers tagged
    automatically, and tags added and removed by manual coding (0 without `automatic`)."""
    ids = list(codebook.tag_ids)
    final = tags[ids].to_numpy(dtype=bool)
    auto = final if automatic is None else automatic[ids].to_numpy(dtype=bool)
    n = int(np.asarray(meaningful, dtype=bool).sum())
    mentions = final.sum(axis=0)
    table = pd.DataFrame(dict(
        question=codebook.question, tag=ids, label=[t.label for t in codebook.tags], mentions=mentions,
        meaningful_answers=n, pct=100.0 * mentions / n if n else np.full(len(ids), np.nan),
        shown=mentions >= codebook.min_mentions, automatic=auto.sum(axis=0),
        added=(final & ~auto).sum(axis=0), removed=(~final & auto).sum(axis=0),
    ), columns=KEYWORD_COLUMNS)
    return table.sort_values("mentions", ascending=False, kind="stable").reset_index(drop=True)


def _by_row(clean: pd.DataFrame, values: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    return values.set_axis(pd.Index(clean["row"].to_numpy(), name="row"), axis=0)


def code_question(clean: pd.DataFrame, codebook: Codebook, coding: pd.DataFrame | None = None) -> Coded:
    """Code one question of the clean data (columns `row` and the question id). `coding` holds rows of
    the coders' file (see `pipeline.text.coders.read_coding`) already checked with `check_coding`; rows of
    other questions are ignored. The adjudicator is left out of the agreement table."""
    texts = clean[codebook.question]
    kinds = classify(texts, codebook.meaningful)
    flags = kinds.eq("meaningful")
    meaningful = _by_row(clean, flags).rename(codebook.question)
    automatic = _by_row(clean, tag(texts, codebook, flags))
    coding = coding if coding is not None else pd.DataFrame(columns=["respondent", "question", "tag", "coder"])
    manual = apply_coding(automatic, coding, codebook)
    exclude = (codebook.adjudicator,) if codebook.adjudicator else ()
    agreed = agreement(manual.judgements, codebook.question, list(codebook.tag_ids), exclude=exclude)
    return Coded(
        question=codebook.question, meaningful=meaningful, automatic=automatic, tags=manual.final,
        counts=count(texts, codebook.meaningful, kinds), judgements=manual.judgements, decisions=manual.decisions,
        agreement=agreed, keywords=keywords(manual.final, meaningful, codebook, automatic),
    )


def code_all(clean: pd.DataFrame, codebooks: Mapping[str, Codebook], coding: pd.DataFrame | None = None,
             coding_path: Path | str = "coding.csv") -> dict[str, Coded]:
    """Every question with a codebook, by question id; the coders' rows are checked first (PulseError,
    one line per problem, naming `coding_path`)."""
    missing = [f"{book.path}: question: {q!r} is not a column of the clean data" for q, book in codebooks.items()
               if q not in clean.columns]
    if missing:
        raise PulseError(missing)
    if coding is not None and len(coding):
        flags = {q: _by_row(clean, is_meaningful(clean[q], book.meaningful)) for q, book in codebooks.items()}
        problems = check_coding(coding, codebooks, flags, coding_path)
        if problems:
            raise PulseError(problems)
    return {q: code_question(clean, book, coding) for q, book in codebooks.items()}


def keywords_table(coded: Mapping[str, Coded]) -> pd.DataFrame:
    """The keywords tables of several questions stacked (`keywords.csv`), in the mapping's order."""
    frames = [c.keywords for c in coded.values()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=KEYWORD_COLUMNS)


def decisions_table(coded: Mapping[str, Coded]) -> pd.DataFrame:
    """The manual-coding decisions of several questions stacked."""
    frames = [c.decisions for c in coded.values() if len(c.decisions)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=DECISION_COLUMNS)


def agreement_table(coded: Mapping[str, Coded]) -> pd.DataFrame:
    """The agreement tables of several questions stacked."""
    frames = [c.agreement for c in coded.values() if len(c.agreement)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=AGREEMENT_COLUMNS)


def as_multiselect(coded: Coded, prefix: str | None = None) -> pd.DataFrame:
    """The final tags in the clean data's multi-select convention, to merge on `row`: a column `row`,
    one boolean column `<prefix>__<tag>` per tag and `<prefix>__status` = `valid` for a meaningful answer,
    `blank` otherwise (prefix default `<question>_tags`). Tag shares by breakdown are then computed like
    the shares of a multi-select question's choices, among meaningful answers only."""
    prefix = prefix or f"{coded.question}_tags"
    out = coded.tags.add_prefix(f"{prefix}__")
    out[f"{prefix}__status"] = coded.meaningful.map({True: "valid", False: "blank"}).astype(object)
    return out.reset_index()
