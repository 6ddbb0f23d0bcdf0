"""Dot plots of mean ratings: one row per question, one dot per group, a line from the lowest to the
highest group, and rows whose groups differ significantly (rank test, after correction) marked."""

from __future__ import annotations

import math

import pandas as pd

from pipeline import format as fmt
from pipeline.figures import notes, palette, style
from pipeline.figures.headlines import TEST_NAMES
from pipeline.figures.names import Names
from pipeline.figures.spec import ALL, FigureSpec
from pipeline.figures.tables import RANK_TESTS, Tables, is_split, order_questions, table_breakdowns

COLUMNS = ["question", "breakdown", "group", "n", "mean", "ci_low", "ci_high", "suppressed"]
TEST_COLUMNS = ["test", "q_value"]
CAPTION = ("Mean rating of valid answers, the answers scored 1, 2, … in the order of the scale; a line joins the "
           "lowest and the highest group in each row.")
ROW = 0.27
MARK = " *"


def describe(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """The means.csv rows drawn, each with the tests.csv rank test of its question and breakdown split
    (`test`, `q_value`; empty for all respondents), plus `row` (question name) and `series` (group name).
    Which q-values count as significant is the report's alpha, applied when drawing."""
    questions = pd.DataFrame({"question": order_questions(spec.questions, spec.sort, tables)}, dtype=object)
    splits = pd.DataFrame({"breakdown": [table_breakdown for breakdown in spec.breakdowns
                                         for table_breakdown in table_breakdowns(tables.means, breakdown)]},
                          dtype=object)
    keys = questions.merge(splits, how="cross").reset_index(names="key")
    means = tables.means[COLUMNS].reset_index(drop=True).reset_index(names="position")
    tests = tables.tests[tables.tests["test"].isin(RANK_TESTS)][["question", "breakdown", *TEST_COLUMNS]]
    frame = (keys.merge(means, on=["question", "breakdown"]).sort_values(["key", "position"], kind="stable")
             .merge(tests, on=["question", "breakdown"], how="left")[[*COLUMNS, *TEST_COLUMNS]])
    frame["row"] = frame["question"].map(names.question_short)
    frame["series"] = [names.group(b, g) for b, g in zip(frame["breakdown"], frame["group"])]
    frame["test"] = frame["test"].fillna("")
    return frame


def _series(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(dict.fromkeys(zip(frame["breakdown"], frame["series"])))


def look(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> style.Look:
    """Each group's colour in every figure of the report (pipeline.figures.palette); all respondents in ink."""
    keys = list(dict.fromkeys(zip(frame["breakdown"], frame["group"])))
    found = palette.colours(names, keys)
    colours = {series: found[key] for key, series in zip(zip(frame["breakdown"], frame["group"]), frame["series"])}
    levels = [names.level_short(spec.questions[0], level) for level in names.levels(spec.questions[0])]
    return style.Look(colours, minimum, alpha, tuple(levels))


def footnotes(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> list[str]:
    tested = frame[frame["test"] != ""]
    mark = ""
    if len(tested):
        test = TEST_NAMES[tested["test"].iloc[0]]
        splits = tested["breakdown"].map(is_split).any()
        mark = (f"* The groups differ significantly in this row ({test}, q < {alpha:g} after correction for multiple "
                f"tests)." if not splits else
                f"* At least one group differs significantly from the other respondents in this row; a ringed dot marks "
                f"which ({test}, q < {alpha:g} after correction for multiple tests).")
    levels = names.levels(spec.questions[0])
    scale = f"Scale: 1 = “{levels[0]}” … {fmt.count(len(levels))} = “{levels[-1]}”."
    return [scale, mark, f"{notes.excluded_kinds(spec.questions, names)} n varies by row; the legend gives its range.",
            notes.suppression(frame, minimum), notes.unknown_breakdown(list(spec.breakdowns), names)]


def _legend_label(part: pd.DataFrame, name: str) -> str:
    if part["n"].isna().all():
        return name
    low, high = int(part["n"].min()), int(part["n"].max())
    n = fmt.count(low) if low == high else f"{fmt.count(low)}–{fmt.count(high)}"
    return f"{name} (n={n})"


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """The figure for a frame from `describe`; rows with a q-value below `look.alpha` are marked."""
    from matplotlib.lines import Line2D

    alpha = look.alpha
    questions = list(dict.fromkeys(frame["question"]))
    labels = [frame.loc[frame["question"] == q, "row"].iloc[0] for q in questions]
    significant = frame["q_value"].fillna(1.0) < alpha
    row_marked = {q: bool(significant[frame["question"] == q].any()) for q in questions}
    texts_rows = [label + (MARK if row_marked[q] else "") for q, label in zip(questions, labels)]
    weights = ["bold" if row_marked[q] else "normal" for q in questions]
    label_width = max(style.label_column([text], style.SIZE["label"], limit=2.6, weight=weight)
                      for text, weight in zip(texts_rows, weights))
    heights = style.rows_height([len(style.wrap(t, label_width - 0.1, style.SIZE["label"], w))
                                 for t, w in zip(texts_rows, weights)], minimum=ROW)
    centres, y = [], 0.0
    for h in heights:
        centres.append(y + h / 2)
        y += h
    series = _series(frame)
    swatches = []
    for breakdown, name in series:
        part = frame[(frame["breakdown"] == breakdown) & (frame["series"] == name)]
        if part["suppressed"].all():
            label = f"{_legend_label(part, name)}: hidden (too few respondents), not shown"
            swatches.append(style.Swatch(label, style.SUPPRESSED, "hatched"))
        else:
            swatches.append(style.Swatch(_legend_label(part, name), look.colours[name],
                                         "diamond" if breakdown == ALL else "dot"))
    splits = frame["breakdown"].map(is_split).any()
    if splits and significant.any():
        swatches.append(style.Swatch("Differs significantly from the other respondents", "#ffffff", "ring"))
    axis_height = 0.36
    page = style.page(texts, y + axis_height, label_width, swatches, right_width=0.25)
    ax = page.axes()
    style.strip_axes(ax)
    shown = frame[~frame["suppressed"] & frame["mean"].notna()]
    low = math.floor(shown["mean"].min() * 2) / 2 if len(shown) else 1.0
    high = math.ceil(shown["mean"].max() * 2) / 2 if len(shown) else float(len(look.levels))
    low, high = max(1.0, min(low, high - 1.0)), high if high > low else low + 1.0
    ax.set_xlim(low - 0.05, high + 0.05)
    ax.set_ylim(y + axis_height, 0)
    ticks = [t / 2 for t in range(int(low * 2), int(high * 2) + 1)]
    for tick in ticks:
        ax.plot([tick, tick], [0, y], color="#e3e3e3" if tick % 1 else "#cccccc", linewidth=0.6, zorder=0)
        named = not tick % 1 and 1 <= tick <= len(look.levels)
        tick_label = f"{fmt.count(tick)}\n{look.levels[int(tick) - 1]}" if named else fmt.mean(tick)
        ax.text(tick, y + 0.06, tick_label, ha="center", va="top", fontsize=style.SIZE["note"], color=style.MUTED,
                linespacing=1.2)
    for question, label, centre in zip(questions, texts_rows, centres):
        style.row_label(ax, centre, label, label_width, weight="bold" if row_marked[question] else "normal")
        part = shown[shown["question"] == question]
        groups = part[part["breakdown"] != ALL]
        if len(groups) > 1:
            ax.plot([groups["mean"].min(), groups["mean"].max()], [centre, centre], color="#b5b5b5", linewidth=1.6,
                    zorder=1, solid_capstyle="round")
        for record in part.itertuples(index=False):
            colour = look.colours[record.series]
            if record.breakdown == ALL:
                ax.plot(record.mean, centre, marker="D", markersize=4.2, color=colour, zorder=3, linestyle="none")
                continue
            ring = splits and not pd.isna(record.q_value) and record.q_value < alpha
            ax.plot(record.mean, centre, marker="o", markersize=6.2, color=colour, zorder=2, linestyle="none",
                    markeredgecolor=style.INK if ring else "white", markeredgewidth=1.1 if ring else 0.6)
    ax.add_line(Line2D([low - 0.05, high + 0.05], [y, y], color=style.RULE, linewidth=0.6))
    return page.figure


def alt(frame: pd.DataFrame, title: str) -> str:
    rows_ = list(dict.fromkeys(frame["row"]))
    series = list(dict.fromkeys(frame["series"]))
    return (f"Dot plot: {title}. One row per item ({len(rows_)}: {'; '.join(rows_)}), one dot per group "
            f"({'; '.join(series)}) at its mean rating; rows marked with an asterisk differ significantly "
            f"between groups. Every mean and q-value is in the data table.")
