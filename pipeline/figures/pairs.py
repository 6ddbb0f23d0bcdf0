"""Paired ratings: for each pair of questions (one domain rated for two sides, say higher- and lower-income
countries, by the same respondents), the two mean scores over the respondents who answered both, joined
by a line, rows sorted by the size of the gap (the mean of a − b), largest first. Rows whose paired test (Wilcoxon
signed-rank, after correction within the pair group) has q below alpha are marked. From paired.csv."""

from __future__ import annotations

import math

import pandas as pd

from pipeline import format as fmt
from pipeline.errors import PulseError
from pipeline.figures import palette, style
from pipeline.figures.names import Names, lower_first
from pipeline.figures.spec import FigureSpec
from pipeline.figures.tables import Tables

COLUMNS = ["pair", "question_a", "question_b", "label", "group", "n_pairs", "n_zero", "mean_a", "mean_b", "mean_diff",
           "ci_low", "ci_high", "test", "statistic", "p_value", "q_value", "family", "effect_size", "effect_measure",
           "note"]
CAPTION = ("Mean ratings of the respondents who answered both questions of each row, the answers scored 1, 2, … in the "
           "order of the scale; rows sorted by the size of the gap between the two means, largest first.")
ROW = 0.25
MARK = " *"


signed = fmt.signed


def describe(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """The paired.csv rows of the figure's pairs, sorted by the size of the gap |mean_diff|, largest first
    (`sort: value`, the default; ties in the instrument's order) or in the
    instrument's order (`sort: none`), with `row` (what the pair rates and its n of pairs) and `side_a`,
    `side_b` (what the two sides are called)."""
    paired = tables.get("paired")
    picked = paired[paired["pair"].isin(spec.pairs)][COLUMNS].copy()
    missing = [p for p in spec.pairs if p not in set(picked["pair"])]
    if missing:
        raise PulseError(f"{spec.where}.pairs: paired.csv has no row for {missing[0]!r}; run `pulse analyze` again")
    picked["order"] = picked["pair"].map({p: i for i, p in enumerate(spec.pairs)})
    if spec.sort == "value":
        picked["size"] = picked["mean_diff"].abs()
        picked = picked.sort_values(["size", "order"], ascending=[False, True], kind="stable").drop(columns="size")
    else:
        picked = picked.sort_values("order", kind="stable")
    parts = [names.pair_names(p, spec.sides) for p in picked["pair"]]
    picked["row"] = [fmt.n_label(row, n) for (row, _, _), n in zip(parts, picked["n_pairs"])]
    picked["side_a"] = [a for _, a, _ in parts]
    picked["side_b"] = [b for _, _, b in parts]
    return picked.drop(columns="order").reset_index(drop=True)


def look(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> style.Look:
    """The first two palette colours for the two sides; the scale's short level names for the axis."""
    question = frame["question_a"].iloc[0]
    levels = tuple(names.level_short(question, level) for level in names.levels(question))
    sides = (frame["side_a"].iloc[0], frame["side_b"].iloc[0])
    return style.Look(dict(zip(("a", "b"), palette.PALETTE[:2])), minimum, alpha, levels,
                      extra={"sides": tuple(fmt.sentence_case(s) for s in sides)})


def title(spec: FigureSpec, names: Names) -> str:
    pairs = [names.pair(p) for p in spec.pairs]
    groups = {p.group for p in pairs}
    what = names.instrument.question_groups.get(next(iter(groups)), "") if len(groups) == 1 else ""
    _, side_a, side_b = names.pair_names(spec.pairs[0], spec.sides)
    return f"{what or 'Paired ratings'}: {lower_first(side_a)} vs {lower_first(side_b)}"


def subtitle(frame: pd.DataFrame, spec: FigureSpec, names: Names) -> str:
    question = frame["question_a"].iloc[0]
    levels = names.levels(question)
    return (f"Mean rating from 1 = “{levels[0]}” to {fmt.count(len(levels))} = “{levels[-1]}”, for "
            f"{lower_first(frame['side_a'].iloc[0])} and for {lower_first(frame['side_b'].iloc[0])}, by the respondents "
            f"who rated both.")


def eligibility_subject(frame: pd.DataFrame, spec: FigureSpec, names: Names) -> str | None:
    """Who was asked, in the words of the figure: "The ratings for lower-income countries"."""
    asked = {q.id: q for q in names.instrument.questions}
    a = [q for q in frame["question_a"] if asked[q].eligible]
    b = [q for q in frame["question_b"] if asked[q].eligible]
    if b and not a and len(b) == len(frame):
        return f"The questions on {lower_first(frame['side_b'].iloc[0])}"
    if a and not b and len(a) == len(frame):
        return f"The questions on {lower_first(frame['side_a'].iloc[0])}"
    return None


def footnotes(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> list[str]:
    question = frame["question_a"].iloc[0]
    tested = frame[frame["q_value"].notna()]
    mark = ""
    if len(tested):
        mark = (f"* The two ratings differ significantly (Wilcoxon signed-rank test on the paired answers, q < {alpha:g} "
                f"after correction within the group of pairs).")
    untested = frame[frame["q_value"].isna()]
    small = (f"Not tested (fewer than {fmt.count(minimum)} complete pairs): {'; '.join(untested['row'])}."
             if len(untested) else "")
    levels = names.levels(question)
    gap = (f"Gap: mean of the paired differences ({lower_first(frame['side_a'].iloc[0])} minus "
           f"{lower_first(frame['side_b'].iloc[0])}), written at the right.")
    return [mark, small, gap, f"Scale: 1 = “{levels[0]}” … {fmt.count(len(levels))} = “{levels[-1]}”. n: respondents "
                              f"who gave a valid answer to both questions of the row."]


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """The figure for a frame from `describe`."""
    from matplotlib.lines import Line2D

    significant = frame["q_value"].fillna(1.0) < look.alpha
    labels = [row + (MARK if s else "") for row, s in zip(frame["row"], significant)]
    weights = ["bold" if s else "normal" for s in significant]
    label_width = max(style.label_column([t], style.SIZE["label"], limit=2.6, weight=w) for t, w in zip(labels, weights))
    heights = style.rows_height([len(style.wrap(t, label_width - 0.1, style.SIZE["label"], w))
                                 for t, w in zip(labels, weights)], minimum=ROW)
    centres, y = [], 0.0
    for h in heights:
        centres.append(y + h / 2)
        y += h
    side_a, side_b = look.extra["sides"]
    swatches = [style.Swatch(side_a, look.colours["a"], "dot"), style.Swatch(side_b, look.colours["b"], "dot")]
    axis_height = 0.36
    page = style.page(texts, y + axis_height, label_width, swatches, right_width=0.5, top_pad=0.18)
    ax = page.axes()
    style.strip_axes(ax)
    values = pd.concat([frame["mean_a"], frame["mean_b"]]).dropna()
    low = max(1.0, math.floor(values.min() * 2) / 2) if len(values) else 1.0
    high = min(float(len(look.levels)), math.ceil(values.max() * 2) / 2) if len(values) else float(len(look.levels))
    if high - low < 1:
        high = min(float(len(look.levels)), low + 1) if low + 1 <= len(look.levels) else high
        low = high - 1
    ax.set_xlim(low - 0.05, high + 0.05)
    ax.set_ylim(y + axis_height, 0)
    for tick in [t / 2 for t in range(int(low * 2), int(high * 2) + 1)]:
        ax.plot([tick, tick], [0, y], color="#e3e3e3" if tick % 1 else "#cccccc", linewidth=0.6, zorder=0)
        named = not tick % 1 and 1 <= tick <= len(look.levels)
        text = f"{fmt.count(tick)}\n{look.levels[int(tick) - 1]}" if named else fmt.mean(tick)
        ax.text(tick, y + 0.06, text, ha="center", va="top", fontsize=style.SIZE["note"], color=style.MUTED,
                linespacing=1.2)
    ax.annotate("Gap", (1, 0), xycoords=("axes fraction", "data"), xytext=(6, 2), textcoords="offset points",
                ha="left", va="bottom", fontsize=style.SIZE["note"], color=style.MUTED, annotation_clip=False)
    for record, label, weight, centre, marked in zip(frame.itertuples(index=False), labels, weights, centres,
                                                     significant):
        style.row_label(ax, centre, label, label_width, weight=weight)
        if pd.isna(record.mean_a) or pd.isna(record.mean_b):
            continue
        ax.plot([record.mean_a, record.mean_b], [centre, centre], color="#b5b5b5", linewidth=1.6, zorder=1,
                solid_capstyle="round")
        for value, side in ((record.mean_a, "a"), (record.mean_b, "b")):
            ax.plot(value, centre, marker="o", markersize=6.0, color=look.colours[side], linestyle="none", zorder=2,
                    markeredgecolor="white", markeredgewidth=0.6)
        ax.annotate(signed(record.mean_diff), (1, centre), xycoords=("axes fraction", "data"), xytext=(6, 0),
                    textcoords="offset points", ha="left", va="center", fontsize=style.SIZE["value"],
                    fontweight="bold" if marked else "normal", color=style.INK, annotation_clip=False)
    ax.add_line(Line2D([low - 0.05, high + 0.05], [y, y], color=style.RULE, linewidth=0.6))
    return page.figure


def alt(frame: pd.DataFrame, title: str) -> str:
    rows = "; ".join(f"{row}: {fmt.mean(a)} vs {fmt.mean(b)} (gap {signed(d)})"
                     for row, a, b, d in zip(frame["row"], frame["mean_a"], frame["mean_b"], frame["mean_diff"]))
    return (f"Dot plot of paired means: {title}. Each row has two dots, {frame['side_a'].iloc[0]} and "
            f"{frame['side_b'].iloc[0]}, sorted by the size of the gap, largest first: {rows}. Rows marked with an asterisk "
            f"differ significantly. Every mean, interval and q-value is in the data table.")
