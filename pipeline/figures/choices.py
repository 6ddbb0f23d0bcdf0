"""Shares choosing each choice, by group: a shaded grid with one row per choice of a multi-select question
(or per codebook tag of a free-text question, those shown in keywords.csv) and one column per group
(all respondents first), each cell the share of the group's respondents (or meaningful answers) naming
it. A row is marked when its per-choice test of independence for the breakdown has q below alpha."""

from __future__ import annotations

import pandas as pd

from pipeline import format as fmt
from pipeline.figures import keywords, notes, style
from pipeline.figures.headlines import TEST_NAMES
from pipeline.figures.names import Names
from pipeline.figures.spec import ALL, FigureSpec
from pipeline.figures.tables import Tables, choice_tests, rows, tags_variable

COLUMNS = ["question", "breakdown", "group", "level", "n", "count", "pct", "suppressed", "dont_know", "refused",
           "blank", "not_asked"]
CAPTION = ("Each cell is the share of the group's respondents naming the row's choice; they may name several, so "
           "columns do not add up to 100%. The darker the cell, the larger the share (darkest: the largest share in the figure).")
CELL_H = 0.25
MARK = " *"


def variable_and_choices(spec: FigureSpec, tables: Tables, names: Names) -> tuple[str, list[tuple[str, str]]]:
    """The variable described in the tables and its drawn choices as (code, label): the tags shown in
    keywords.csv for a free-text question, else the scale's choices."""
    question = spec.questions[0]
    kind = names.instrument.question(question).type
    if kind == "text":
        tags = keywords.shown(spec, tables)
        return tags_variable(question), list(zip(tags["tag"], tags["label"]))
    scale = names.instrument.question(question).scale
    return question, [(str(level.code), level.label) for level in scale.levels]


def describe(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """The distributions.csv rows drawn (all respondents, then each group of the breakdown), with `code`,
    `row` (the choice's short name), `column` (group name and n) and the choice's test for the breakdown
    (`test`, `q_value`, the same on every row of the choice)."""
    variable, choices = variable_and_choices(spec, tables, names)
    labels = [label for _, label in choices]
    code = {label: c for c, label in choices}
    parts = [rows(tables.distributions, variable, b) for b in (ALL, *[b for b in spec.breakdowns if b != ALL])]
    frame = pd.concat(parts, ignore_index=True)[COLUMNS]
    frame = frame[frame["level"].isin(labels)].copy()
    frame["code"] = frame["level"].map(code)
    frame["row"] = [names.level_short(spec.questions[0], label) for label in frame["level"]]
    frame["column"] = [fmt.n_label(names.group(b, g), n) for b, g, n in zip(frame["breakdown"], frame["group"], frame["n"])]
    breakdown = next((b for b in spec.breakdowns if b != ALL), None)
    frame["test"], frame["q_value"] = "", float("nan")
    if breakdown:
        tests = choice_tests(tables.tests, variable, breakdown).set_index("code")
        frame["test"] = frame["code"].map(tests["test"]).fillna("")
        frame["q_value"] = frame["code"].map(tests["q_value"])
    if spec.sort == "value":
        whole = frame[frame["breakdown"] == ALL].set_index("level")["pct"]
        order = sorted(labels, key=lambda label: (-whole.get(label, 0.0), labels.index(label)))
    else:
        order = labels
    frame["order"] = frame["level"].map({label: i for i, label in enumerate(order)})
    frame = frame.sort_values(["order"], kind="stable").drop(columns="order").reset_index(drop=True)
    return frame


def look(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> style.Look:
    return style.Look({}, minimum, alpha)


def footnotes(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float,
              tables: Tables | None = None) -> list[str]:
    tested = frame[frame["test"] != ""]
    mark = ""
    if len(tested):
        kinds = fmt.join([TEST_NAMES[t] for t in dict.fromkeys(tested["test"])], "or")
        if (tested["q_value"] < alpha).any():
            mark = (f"* The groups differ significantly in how often they name the row's choice ({kinds} of "
                    f"independence, q < {alpha:g} after correction for multiple tests).")
        else:
            mark = (f"The groups do not differ significantly in how often they name any row's choice ({kinds} of "
                    f"independence, q ≥ {alpha:g} for every row after correction for multiple tests).")
    text = names.instrument.question(spec.questions[0]).type == "text"
    base = ("Shares of the group's meaningful answers; blank answers and non-answers are not counted."
            if text else notes.exclusions(frame, names))
    extra = keywords.not_shown(spec, tables) if text and tables is not None else ""
    return [mark, base, extra, notes.suppression(frame, minimum), notes.unknown_breakdown(list(spec.breakdowns), names)]


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """The figure for a frame from `describe`."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    cmap = colormaps["Blues"]
    significant = frame["q_value"].fillna(1.0) < look.alpha
    marked = {row for row, s in zip(frame["row"], significant) if s}
    row_labels = list(dict.fromkeys(frame["row"]))
    shown_labels = [r + (MARK if r in marked else "") for r in row_labels]
    weights = ["bold" if r in marked else "normal" for r in row_labels]
    columns = list(dict.fromkeys(frame["column"]))
    label_width = max(style.label_column([t], style.SIZE["label"], limit=2.1, weight=w)
                      for t, w in zip(shown_labels, weights))
    chart_width = style.WIDTH - 2 * style.MARGIN - label_width
    cell_w = chart_width / len(columns)
    header_lines = max(len(style.wrap(c, cell_w - 0.06, style.SIZE["label"], "bold")) for c in columns)
    header = header_lines * style.line_height(style.SIZE["label"]) + 0.08
    heights = style.rows_height([len(style.wrap(t, label_width - 0.1, style.SIZE["label"], w))
                                 for t, w in zip(shown_labels, weights)], minimum=CELL_H)
    swatches = []
    if frame["suppressed"].any():
        swatches.append(style.Swatch(f"Fewer than {fmt.count(look.minimum)} answers: not shown", style.SUPPRESSED,
                                     "hatched"))
    total = sum(heights)
    darkest = max(float(frame["pct"].max()), 1.0) if frame["pct"].notna().any() else 100.0
    page = style.page(texts, total, label_width, swatches, top_pad=header)
    ax = page.axes()
    style.strip_axes(ax)
    ax.set_xlim(0, len(columns))
    ax.set_ylim(total, 0)
    for j, column in enumerate(columns):
        wrapped = "\n".join(style.wrap(column, cell_w - 0.06, style.SIZE["label"], "bold"))
        ax.annotate(wrapped, (j + 0.5, 0), xytext=(0, 4), textcoords="offset points", ha="center", va="bottom",
                    fontsize=style.SIZE["label"], fontweight="bold", annotation_clip=False, linespacing=1.15)
    top = 0.0
    for row, label, weight, height in zip(row_labels, shown_labels, weights, heights):
        style.row_label(ax, top + height / 2, label, label_width, weight=weight)
        part = frame[frame["row"] == row]
        for j, column in enumerate(columns):
            record = part[part["column"] == column]
            if record.empty:
                continue
            record = record.iloc[0]
            if record["suppressed"] or pd.isna(record["pct"]):
                ax.add_patch(Rectangle((j, top), 1, height, facecolor=style.SUPPRESSED, edgecolor="white",
                                       linewidth=1.2, hatch="////"))
                continue
            colour = cmap(0.05 + 0.85 * record["pct"] / darkest)
            ax.add_patch(Rectangle((j, top), 1, height, facecolor=colour, edgecolor="white", linewidth=1.2))
            ax.text(j + 0.5, top + height / 2, fmt.percent(record["pct"]), ha="center", va="center",
                    fontsize=style.SIZE["value"], color=style.ink_on(to_hex(colour)),
                    fontweight="bold" if record["breakdown"] == ALL else "normal")
        top += height
    return page.figure


def alt(frame: pd.DataFrame, title: str) -> str:
    row_labels = list(dict.fromkeys(frame["row"]))
    columns = list(dict.fromkeys(frame["column"]))
    return (f"Shaded table: {title}. Rows: {'; '.join(row_labels)}. Columns: {'; '.join(columns)}. Each cell is the "
            f"share of the column's group naming the row; rows marked with an asterisk differ significantly between "
            f"groups. Every value and q-value is in the data table.")
