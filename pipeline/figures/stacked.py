"""Horizontal 100% stacked bars of ordinal answers: one bar per group (or per question), one segment
per level, percentages written inside segments wide enough to hold them (and never below 3%)."""

from __future__ import annotations

import pandas as pd

from pipeline import format as fmt
from pipeline.figures import notes, style
from pipeline.figures.names import Names
from pipeline.figures.spec import ALL, FigureSpec
from pipeline.figures.tables import Tables, order_questions, rows

COLUMNS = ["question", "breakdown", "group", "level", "n", "count", "pct", "suppressed", "dont_know", "refused",
           "blank", "not_asked"]
CAPTION = "Share of valid answers in each group; n is the number of valid answers."
MIN_LABEL = 3.0
BAR = 0.17
HEADING = 0.26


def describe(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """The distribution rows drawn, in drawing order, with `block` (heading above a run of bars, or "")
    and `bar` (the bar's label with its n). Bars are questions when the figure has several questions and
    only the all-respondents breakdown; otherwise groups, in blocks per question and breakdown."""
    questions = order_questions(spec.questions, spec.sort, tables)
    by_question = len(questions) > 1 and spec.breakdowns == (ALL,)
    parts = []
    for question in questions:
        for breakdown in spec.breakdowns:
            part = rows(tables.distributions, question, breakdown)[COLUMNS].copy()
            heading = []
            if len(questions) > 1 and not by_question:
                heading.append(names.question_short(question))
            if len(spec.breakdowns) > 1 and breakdown != ALL:
                heading.append(names.breakdown_label(breakdown))
            part["block"] = " — ".join(heading)
            if by_question:
                part["bar"] = [fmt.n_label(names.question_short(q), n) for q, n in zip(part["question"], part["n"])]
            else:
                part["bar"] = [fmt.n_label(names.group(b, g), n) for b, g, n in
                               zip(part["breakdown"], part["group"], part["n"])]
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _bars(frame: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    groups = frame.groupby(["block", "question", "breakdown", "group"], sort=False)
    return [(key[0], part["bar"].iloc[0], part) for key, part in groups]


def look(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> style.Look:
    """Level colours from the scale's declared palette (sequential or diverging)."""
    levels = names.levels(spec.questions[0])
    return style.Look(dict(zip(levels, style.ramp(names.palette(spec.questions[0]), len(levels)))), minimum, alpha)


def footnotes(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> list[str]:
    return [notes.exclusions(frame, names), notes.suppression(frame, minimum),
            notes.unknown_breakdown(list(spec.breakdowns), names), notes.ROUNDING]


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """The figure for a frame from `describe`."""
    colours, minimum = look.colours, look.minimum
    bars = _bars(frame)
    levels = list(dict.fromkeys(frame["level"]))
    label_width = style.label_column([bar for _, bar, _ in bars], style.SIZE["label"], limit=2.5)
    layout, y, previous = [], 0.0, None
    for block, bar, part in bars:
        if block and block != previous:
            layout.append(("heading", block, y + HEADING / 2 + (0.04 if layout else 0)))
            y += HEADING + (0.04 if layout else 0)
        previous = block
        height = style.rows_height([len(style.wrap(bar, label_width - 0.1, style.SIZE["label"]))], minimum=0.27)[0]
        layout.append(("bar", (bar, part), y + height / 2))
        y += height
    swatches = [style.Swatch(level, colours[level]) for level in levels]
    if frame["suppressed"].any():
        swatches.append(style.Swatch(f"Fewer than {fmt.count(minimum)} valid answers: not shown", style.SUPPRESSED, "hatched"))
    page = style.page(texts, y, label_width, swatches)
    ax = page.axes()
    style.strip_axes(ax)
    ax.set_xlim(0, 100)
    ax.set_ylim(y, 0)
    chart_width = page.chart[2]
    for kind, content, centre in layout:
        if kind == "heading":
            style.heading(ax, centre, content, label_width)
            continue
        bar, part = content
        style.row_label(ax, centre, bar, label_width)
        if part["suppressed"].any():
            ax.barh(centre, 100, height=BAR, color=style.SUPPRESSED, edgecolor="#bbbbbb", linewidth=0.4, hatch="////")
            continue
        left = 0.0
        for level, pct in zip(part["level"], part["pct"]):
            colour = colours[level]
            ax.barh(centre, pct, left=left, height=BAR, color=colour, edgecolor="white", linewidth=0.6)
            text = fmt.percent(pct)
            room = pct / 100 * chart_width
            if pct >= MIN_LABEL and style.text_width(text, style.SIZE["value"]) + 0.04 <= room:
                ax.text(left + pct / 2, centre, text, ha="center", va="center", fontsize=style.SIZE["value"],
                        color=style.ink_on(colour))
            left += pct
    return page.figure


def alt(frame: pd.DataFrame, title: str) -> str:
    """A description for screen readers: what is drawn, the bars and the scale; the numbers are in the data table."""
    bars = list(dict.fromkeys(frame["bar"]))
    levels = list(dict.fromkeys(frame["level"]))
    hidden = list(dict.fromkeys(frame.loc[frame["suppressed"], "bar"]))
    text = (f"Horizontal 100% stacked bar chart: {title}. {len(bars)} bars: {'; '.join(bars)}. "
            f"Segments from “{levels[0]}” to “{levels[-1]}” ({len(levels)} answers).")
    if hidden:
        text += f" Not shown (too few answers): {'; '.join(hidden)}."
    return text + " Every percentage is in the data table."
