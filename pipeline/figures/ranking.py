"""The tags of a free-text question ranked: one horizontal bar per tag shown in keywords.csv, most mentioned
first, with the number of answers naming it and their share of the meaningful answers. The readable
companion of the keyword figure (the same tags, the same order)."""

from __future__ import annotations

import pandas as pd

from pipeline import format as fmt
from pipeline.figures import bars, keywords, style
from pipeline.figures.names import Names
from pipeline.figures.spec import FigureSpec
from pipeline.figures.tables import Tables

CAPTION = ("Number of meaningful answers naming each group and their share of all meaningful answers; an answer may "
           "name several groups.")


def describe(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """The keywords.csv rows of the shown tags, most mentioned first, with what the bar drawing reads:
    `category` (the tag's label), `series` (meaningful answers and their n), `count` (= mentions)."""
    frame = keywords.shown(spec, tables)
    frame["category"] = frame["label"]
    frame["series"] = [fmt.n_label("Meaningful answers", n) for n in frame["meaningful_answers"]]
    frame["count"] = frame["mentions"]
    frame["breakdown"] = "all"
    frame["group"] = "All respondents"
    frame["suppressed"] = False
    return frame


def look(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> style.Look:
    return style.Look({frame["series"].iloc[0]: style.ramp("qualitative", 1)[0]}, minimum, alpha)


def subtitle(frame: pd.DataFrame, spec: FigureSpec, names: Names) -> str:
    return keywords.subtitle(frame, spec, names)


def footnotes(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float,
              tables: Tables | None = None) -> list[str]:
    return [keywords.not_shown(spec, tables) if tables is not None else "",
            "Blank answers and non-answers (“n/a”, “none”, …) are not counted; the answers themselves are not published."]


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    return bars.draw(frame, texts, look)


def alt(frame: pd.DataFrame, title: str) -> str:
    items = "; ".join(f"{label}: {fmt.count(m)} ({fmt.percent(p)})"
                      for label, m, p in zip(frame["label"], frame["mentions"], frame["pct"]))
    n = fmt.count(frame["meaningful_answers"].iloc[0])
    return f"Bar chart: {title}. Groups named in the {n} meaningful answers, most named first: {items}."
