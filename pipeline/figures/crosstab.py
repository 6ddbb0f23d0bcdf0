"""A cross-tabulation drawn as a shaded grid: one row per group of a breakdown, one column per answer,
each cell the share of the row's respondents (darker = larger). Cells whose answer is named like the
row's group (the same region, say) are outlined."""

from __future__ import annotations

import pandas as pd

from pipeline import format as fmt
from pipeline.figures import notes, style
from pipeline.figures.names import Names
from pipeline.figures.spec import FigureSpec
from pipeline.figures.tables import Tables, rows

COLUMNS = ["question", "breakdown", "group", "level", "n", "count", "pct", "suppressed", "dont_know", "refused",
           "blank", "not_asked"]
CAPTION = "Each row adds up to 100% of the group's respondents who answered; cells give the share and shading follows it."
CELL_H = 0.3


def describe(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """The distribution rows of the question by the breakdown, with `row` (group and n) and `column`
    (the answer's short name)."""
    question = spec.questions[0]
    frame = rows(tables.distributions, question, spec.breakdowns[0])[COLUMNS].reset_index(drop=True)
    frame["row"] = [fmt.n_label(names.group(b, g), n) for b, g, n in zip(frame["breakdown"], frame["group"], frame["n"])]
    frame["column"] = [names.level_short(question, level) for level in frame["level"]]
    return frame


def look(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> style.Look:
    return style.Look({}, minimum, alpha)


def footnotes(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> list[str]:
    return [f"Rows: {names.breakdown_label(spec.breakdowns[0])}. Columns: {names.question_short(spec.questions[0])}.",
            notes.exclusions(frame, names), notes.suppression(frame, minimum), notes.ROUNDING]


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """The figure for a frame from `describe`."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    cmap = colormaps["Blues"]
    row_labels = list(dict.fromkeys(frame["row"]))
    columns = list(dict.fromkeys(frame["column"]))
    label_width = style.label_column(row_labels, style.SIZE["label"], limit=2.2)
    chart_width = style.WIDTH - 2 * style.MARGIN - label_width
    cell_w = chart_width / len(columns)
    header_lines = max(len(style.wrap(c, cell_w - 0.06, style.SIZE["label"])) for c in columns)
    header = header_lines * style.line_height(style.SIZE["label"]) + 0.08
    swatches = []
    if frame["suppressed"].any():
        swatches.append(style.Swatch(f"Fewer than {fmt.count(look.minimum)} answers: not shown", style.SUPPRESSED, "hatched"))
    page = style.page(texts, CELL_H * len(row_labels), label_width, swatches, top_pad=header)
    ax = page.axes()
    style.strip_axes(ax)
    ax.set_xlim(0, len(columns))
    ax.set_ylim(len(row_labels), 0)
    for j, column in enumerate(columns):
        wrapped = "\n".join(style.wrap(column, cell_w - 0.06, style.SIZE["label"]))
        ax.annotate(wrapped, (j + 0.5, 0), xytext=(0, 4), textcoords="offset points", ha="center", va="bottom",
                    fontsize=style.SIZE["label"], fontweight="bold", annotation_clip=False, linespacing=1.15)
    for i, label in enumerate(row_labels):
        style.row_label(ax, i + 0.5, label, label_width)
        part = frame[frame["row"] == label]
        for j, column in enumerate(columns):
            record = part[part["column"] == column].iloc[0]
            if record["suppressed"] or pd.isna(record["pct"]):
                ax.add_patch(Rectangle((j, i), 1, 1, facecolor=style.SUPPRESSED, edgecolor="white", linewidth=1.5,
                                       hatch="////"))
                continue
            colour = cmap(0.05 + 0.85 * record["pct"] / 100)
            same = record["level"] == record["group"]
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=colour, edgecolor="white", linewidth=1.5))
            if same:
                ax.add_patch(Rectangle((j + 0.04, i + 0.08), 0.92, 0.84, facecolor="none", edgecolor=style.INK,
                                       linewidth=1.0))
            ax.text(j + 0.5, i + 0.5, fmt.percent(record["pct"]), ha="center", va="center",
                    fontsize=style.SIZE["value"], color=style.ink_on(to_hex(colour)),
                    fontweight="bold" if same else "normal")
    return page.figure


def alt(frame: pd.DataFrame, title: str) -> str:
    row_labels = list(dict.fromkeys(frame["row"]))
    columns = list(dict.fromkeys(frame["column"]))
    return (f"Shaded table: {title}. Rows: {'; '.join(row_labels)}. Columns: {'; '.join(columns)}. "
            f"Each cell is the share of the row's respondents; every value is in the data table.")
