"""The small print under figures: exclusions, rounding, suppression, significance marks and the source."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import format as fmt
from pipeline.figures.names import Names, lower_first
from pipeline.figures.tables import ALL
from pipeline.instrument import Instrument
from pipeline.project import Wave

EXCLUDED = ("dont_know", "refused", "blank", "not_asked")
ROUNDING = "Numbers may not sum to 100% due to rounding."


def _missing_label(names: Names, question: str, kind: str) -> str:
    q = next((q for q in names.instrument.questions if q.id == question), None)
    if kind == "blank":
        return "blank responses"
    if kind == "not_asked":
        return "respondents not asked the question"
    label = next((m.label for m in q.scale.missing if m.kind == kind), None) if q and q.scale else None
    return f"“{label}”" if label else kind.replace("_", " ")


def exclusions(frame: pd.DataFrame, names: Names) -> str:
    """"Excludes “Don't know / No opinion” (n=12) and blank responses (n=3)." from the frame's status counts.

    Counts are given when the frame holds the all-respondents row of a single question, and omitted
    otherwise (they differ between groups and questions); kinds with no answers anywhere are left out.
    """
    present = [k for k in EXCLUDED if k in frame and frame[k].fillna(0).sum() > 0]
    if not present:
        return ""
    questions = list(dict.fromkeys(frame["question"]))
    whole = frame[frame["breakdown"] == ALL]
    single = len(questions) == 1 and len(whole) > 0
    parts = []
    for kind in present:
        label = _missing_label(names, questions[0], kind)
        parts.append(f"{label} (n={fmt.count(whole.iloc[0][kind])})" if single else label)
    return f"Excludes {fmt.join(parts)}."


def excluded_kinds(questions, names: Names) -> str:
    """"Excludes “Don't know / No opinion” and blank responses." for the questions' scales, without counts."""
    labels = []
    for question in questions:
        q = next((q for q in names.instrument.questions if q.id == question), None)
        if q and q.scale:
            labels += [f"“{m.label}”" for m in q.scale.missing]
    return f"Excludes {fmt.join(list(dict.fromkeys(labels)) + ['blank responses'])}."


def suppression(frame: pd.DataFrame, minimum: int) -> str:
    """What disclosure control hid in a figure's table and why, read from its columns: groups left out
    (`suppressed` with `n` blank), estimates hidden for groups that are shown (`suppressed` with `n` published:
    a mean or share that would reveal hidden answers, or a group hidden in another wave of a trend) and hidden
    answers (`cell_suppressed`, or a blank share of a level in a shown group); empty when nothing was hidden."""
    if "suppressed" not in frame:
        return ""
    hidden = frame["suppressed"].fillna(False).astype(bool).to_numpy()
    blank_n = frame["n"].isna().to_numpy() if "n" in frame else np.ones(len(frame), dtype=bool)
    cells = frame["cell_suppressed"].fillna(False).astype(bool).to_numpy() if "cell_suppressed" in frame else \
        (frame["pct"].isna().to_numpy() & ~hidden & (pd.to_numeric(frame["n"]).fillna(0).to_numpy() > 0)
         if {"level", "pct", "n"} <= set(frame) else [])
    sentences = []
    if (hidden & blank_n).any():
        sentences.append(f"Groups with fewer than {fmt.count(minimum)} valid answers, and groups left out so that "
                         f"those cannot be worked out from the others, are not shown.")
    if (hidden & ~blank_n).any():
        sentences.append("Some estimates are not shown because they would reveal answers hidden to protect "
                         "respondents.")
    if np.any(cells):
        sentences.append("Answers given by very few respondents are hidden, together with others so that they "
                         "cannot be worked out.")
    return " ".join(sentences)


def unknown_breakdown(breakdowns: list[str], names: Names) -> str:
    shown = [names.breakdown_label(b) for b in breakdowns if b != ALL]
    if not shown:
        return ""
    words = fmt.join([lower_first(s) for s in shown])
    return f"Respondents without an answer for {words} are not in those groups."


def fielding(meta: dict) -> str:
    """The fielding period of a wave.yaml ("1–31 May 2024"), or "" when it is not recorded."""
    fielded = meta.get("fielded") or {}
    return fmt.date_range(fielded["start"], fielded["end"]) if fielded.get("start") and fielded.get("end") else ""


def source(instrument: Instrument, wave: Wave) -> str:
    """"Source: <survey title> (<wave label>), fielded 1–31 May 2024." and a note when the data are synthetic."""
    label = wave.meta.get("label", wave.wave)
    when = f", fielded {fielding(wave.meta)}" if fielding(wave.meta) else ""
    synthetic = " Synthetic example data." if wave.synthetic else ""
    return f"Source: {instrument.title} ({label}){when}.{synthetic}"


def _first_sentence(text: str) -> str:
    """A question's wording up to its first question mark ("Do you …?"), else all of it."""
    end = text.find("?")
    return " ".join((text[:end + 1] if end >= 0 else text).split())


def eligibility(questions, names: Names, distributions: pd.DataFrame, subject: str | None = None) -> str:
    """Who was asked, when skip logic kept some of the figure's questions from some respondents:
    "These questions were asked only of the 78 respondents who answered “Yes” to “Do you …?”; the other
    respondents were not asked and are not counted in n." The number is the all-respondents count of those
    answers in distributions.csv. `subject` names the restricted questions (e.g. one side of pairs)."""
    asked = {q.id: q for q in names.instrument.questions}
    drawn = [q for q in dict.fromkeys(questions) if q in asked]
    restricted = [q for q in drawn if asked[q].eligible]
    if not restricted:
        return ""
    conditions = list(dict.fromkeys(repr(sorted(asked[q].eligible.items())) for q in restricted))
    if len(conditions) > 1 or "question" not in asked[restricted[0]].eligible:
        who = "respondents selected by the survey's skip logic"
    else:
        condition = asked[restricted[0]].eligible
        source = asked.get(condition["question"])
        allowed = {str(v) for v in condition["in"]}
        labels = ([level.label for level in source.scale.levels if str(level.code) in allowed or level.label in allowed]
                  if source is not None and source.scale else [str(v) for v in condition["in"]])
        picked = distributions[(distributions["question"] == condition["question"]) & (distributions["breakdown"] == ALL)
                               & distributions["level"].isin(labels)]
        answers = fmt.join([f"“{label}”" for label in labels], "or")
        wording = _first_sentence(source.text) if source is not None else condition["question"]
        who = (f"the {fmt.count(picked['count'].sum())} respondents who answered {answers} to “{wording}”" if len(picked)
               else f"respondents who answered {answers} to “{wording}”")
    if subject:
        lead = f"{subject} were"
    elif len(restricted) == len(drawn):
        lead = "This question was" if len(drawn) == 1 else "These questions were"
    elif len(restricted) <= 3:
        lead = f"{fmt.join([f'“{names.question_short(q)}”' for q in restricted])} {'was' if len(restricted) == 1 else 'were'}"
    else:
        lead = f"{fmt.count(len(restricted))} of these {fmt.count(len(drawn))} questions were"
    return (f"{lead} asked only of {who}; the other respondents were not asked and are not counted in n.")
