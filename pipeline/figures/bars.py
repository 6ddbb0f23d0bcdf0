"""Horizontal bars of one question's answers: one bar per answer for all respondents (count and share),
or grouped bars with one bar per group of a breakdown (share of each group)."""

from __future__ import annotations

import pandas as pd

from pipeline import format as fmt
from pipeline.figures import notes, palette, style
from pipeline.figures.names import Names
from pipeline.figures.spec import FigureSpec
from pipeline.figures.tables import Tables, rows

COLUMNS = ["question", "breakdown", "group", "level", "n", "count", "pct", "suppressed", "dont_know", "refused",
           "blank", "not_asked"]
CAPTION = "Share of respondents who answered; n is the number who answered."
BAR = 0.15
GAP = 0.12


def describe(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """The distribution rows drawn: per answer (`category`, its short name) and group (`series`, with n),
    in the scale's order, or by descending count of all respondents when sort is 'value'."""
    question = spec.questions[0]
    parts = [rows(tables.distributions, question, b)[COLUMNS] for b in spec.breakdowns]
    frame = pd.concat(parts, ignore_index=True)
    frame["category"] = [names.level_short(question, level) for level in frame["level"]]
    frame["series"] = [fmt.n_label(names.group(b, g), n) for b, g, n in zip(frame["breakdown"], frame["group"], frame["n"])]
    if spec.sort == "value":
        first = frame[frame["breakdown"] == frame["breakdown"].iloc[0]]
        order = list(first.sort_values("count", ascending=False, kind="stable")["level"].drop_duplicates())
        frame = frame.sort_values("level", key=lambda s: s.map({l: i for i, l in enumerate(order)}), kind="stable")
        frame = frame.reset_index(drop=True)
    return frame


def _series(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["series"]))


def look(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> style.Look:
    """One blue for a single series; otherwise each group's colour in every figure of the report
    (pipeline.figures.palette)."""
    shown = frame[~frame["suppressed"]]
    series = _series(shown)
    if len(series) == 1:
        return style.Look({series[0]: style.ramp("qualitative", 1)[0]}, minimum, alpha)
    keys = list(dict.fromkeys(zip(shown["breakdown"], shown["group"])))
    found = palette.colours(names, keys)
    return style.Look({s: found[k] for k, s in zip(zip(shown["breakdown"], shown["group"]), shown["series"])},
                      minimum, alpha)


def footnotes(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> list[str]:
    multiple = ("Respondents could give more than one answer, so shares add up to more than 100%."
                if names.multiple(spec.questions[0]) else notes.ROUNDING)
    return [notes.exclusions(frame, names), notes.suppression(frame, minimum),
            notes.unknown_breakdown(list(spec.breakdowns), names), multiple]


HIDDEN = "hidden (too few respondents)"


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """The figure for a frame from `describe`; a count hidden by disclosure control is written as HIDDEN."""
    categories = list(dict.fromkeys(frame["category"]))
    series = [s for s in _series(frame) if s in look.colours]
    hidden = [s for s in _series(frame) if s not in look.colours]
    single = len(_series(frame)) == 1
    label_width = style.label_column(categories, style.SIZE["label"], limit=2.3)
    per_row = max(len(series), 1)
    line_rows = [len(style.wrap(c, label_width - 0.1, style.SIZE["label"])) for c in categories]
    heights = [max(per_row * BAR + GAP, lines * style.SIZE["label"] * 1.15 / 72 + 0.08) for lines in line_rows]
    swatches = [style.Swatch(s, look.colours[s]) for s in series]
    swatches += [style.Swatch(f"{s}: fewer than {fmt.count(look.minimum)} answers, not shown", style.SUPPRESSED, "hatched")
                 for s in hidden]
    value_room = 0.75 if single else 0.4
    page = style.page(texts, sum(heights), label_width, swatches, right_width=value_room)
    ax = page.axes()
    style.strip_axes(ax)
    shown = frame[frame["series"].isin(series)]
    top = max(float(shown["pct"].max()), 1.0) if shown["pct"].notna().any() else 100.0
    ax.set_xlim(0, top)
    ax.set_ylim(sum(heights), 0)
    y = 0.0
    for category, height in zip(categories, heights):
        centre = y + height / 2
        style.row_label(ax, centre, category, label_width)
        start = centre - len(series) * BAR / 2
        for i, name in enumerate(series):
            record = shown[(shown["category"] == category) & (shown["series"] == name)].iloc[0]
            middle = start + (i + 0.5) * BAR
            if pd.isna(record["pct"]):
                ax.annotate(HIDDEN, (0, middle), xytext=(3, 0), textcoords="offset points", ha="left", va="center",
                            fontsize=style.SIZE["value"], color=style.MUTED, annotation_clip=False)
                continue
            ax.barh(middle, record["pct"], height=BAR * 0.86, color=look.colours[name], linewidth=0)
            value = (f"{fmt.count(record['count'])} ({fmt.percent(record['pct'])})" if single
                     else fmt.percent(record["pct"]))
            ax.annotate(value, (record["pct"], middle), xytext=(3, 0), textcoords="offset points", ha="left",
                        va="center", fontsize=style.SIZE["value"], color=style.INK, annotation_clip=False)
        y += height
    ax.plot([0, 0], [0, y], color=style.RULE, linewidth=0.6)
    return page.figure


def alt(frame: pd.DataFrame, title: str) -> str:
    categories = list(dict.fromkeys(frame["category"]))
    series = _series(frame)
    kind = "Bar chart" if len(series) == 1 else f"Grouped bar chart, one bar per group ({'; '.join(series)})"
    return (f"{kind}: {title}. {len(categories)} answers: {'; '.join(categories)}. "
            f"Every count and percentage is in the data table.")
