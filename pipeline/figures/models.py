"""Adjusted comparisons: a forest plot of the odds ratios in models.csv. One row per question, one panel
per compared level of each drawn term (women vs men, non-WEOG vs WEOG, …), each odds ratio with its
interval on a log scale around 1. A filled dot: the interval excludes 1. A dagger: the proportional-odds
test rejected the assumption for that term, so the odds ratio is an average over the answer thresholds."""

from __future__ import annotations

import math

import pandas as pd

from pipeline import format as fmt
from pipeline.errors import PulseError
from pipeline.figures import style
from pipeline.figures.names import Names, lower_first
from pipeline.figures.spec import FigureSpec
from pipeline.figures.tables import Tables, order_questions

COLUMNS = ["question", "term", "level", "reference", "odds_ratio", "ci_low", "ci_high", "p_value", "estimate",
           "std_error", "n", "n_excluded", "converged", "po_statistic", "po_df", "po_p_value", "po_violated", "note"]
CAPTION = ("Odds ratios from proportional-odds models of each item on all model terms at once, with their intervals "
           "(log scale). Above 1: the first group tends to answer higher on the scale than the group it is compared "
           "with, holding the other terms fixed.")
ROW = 0.25
PANEL_GAP = 0.18
DAGGER = "†"
TICKS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def panel_name(names: Names, term: str, level: str, reference: str) -> str:
    """"Women vs men": the compared level and the reference by their short names."""
    return fmt.sentence_case(f"{names.level_short(term, level)} vs {lower_first(names.level_short(term, reference))}")


def describe(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """The models.csv rows of the figure's questions and terms, in row order (the figure's sort) and term
    order, with `row` (question and n), `panel` ("Women vs men") and `excludes_one` (the interval is
    entirely above or below 1)."""
    models = tables.get("models")
    questions = order_questions(spec.questions, spec.sort, tables)
    picked = models[models["question"].isin(questions) & models["term"].isin(spec.terms)][COLUMNS].copy()
    for term in spec.terms:
        if not (picked["term"] == term).any():
            raise PulseError(f"{spec.where}.terms: models.csv has no odds ratio for {term!r} (is it in the analyze "
                             f"params' model_terms?); run `pulse analyze` again or drop the term")
    picked["row_order"] = picked["question"].map({q: i for i, q in enumerate(questions)})
    picked["term_order"] = picked["term"].map({t: i for i, t in enumerate(spec.terms)})
    picked = picked.sort_values(["row_order", "term_order"], kind="stable").drop(columns=["row_order", "term_order"])
    picked["row"] = [fmt.n_label(names.question_short(q), n) for q, n in zip(picked["question"], picked["n"])]
    picked["panel"] = [panel_name(names, t, lv, r) for t, lv, r in zip(picked["term"], picked["level"], picked["reference"])]
    picked["excludes_one"] = (picked["ci_low"] > 1) | (picked["ci_high"] < 1)
    return picked.reset_index(drop=True)


def look(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> style.Look:
    return style.Look({}, minimum, alpha)


def subtitle(frame: pd.DataFrame, spec: FigureSpec, names: Names) -> str:
    levels = names.levels(spec.questions[0])
    return (f"Each item rated from “{levels[0]}” (1) to “{levels[-1]}” ({fmt.count(len(levels))}); one "
            f"proportional-odds model per item.")


def footnotes(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float,
              tables: Tables | None = None, confidence: float = 0.95) -> list[str]:
    terms = []
    if tables is not None and tables.models is not None:
        used = tables.models[tables.models["question"].isin(frame["question"])]
        terms = [t for t in dict.fromkeys(used["term"]) if t]
    held = (f"Each model holds {fmt.join([names.term(t) for t in terms])} fixed at once. " if terms else "")
    intervals = (f"{held}Lines: {fmt.number(100 * confidence)}% Wald intervals; filled dot: the interval excludes 1 "
                 f"(the difference survives adjustment); open dot: it includes 1.")
    violated = ""
    if frame["po_violated"].any():
        violated = (f"{DAGGER} The proportional-odds test rejected the assumption for this term and item (p < 0.05): "
                    f"read the odds ratio as an average over the answer thresholds.")
    left_out = sorted({part.strip() for note in frame["note"].fillna("") for part in str(note).split(";")
                       if "left out" in part})
    dropped = f"{fmt.sentence_case('; '.join(left_out))}." if left_out else ""
    excluded = (f"Respondents with a missing answer or term are excluded; n per item is in its label "
                f"({fmt.count(frame['n_excluded'].min())}–{fmt.count(frame['n_excluded'].max())} excluded).")
    return [intervals, violated, dropped, excluded]


def _ticks(low: float, high: float) -> list[float]:
    return [t for t in TICKS if low <= t <= high]


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """The figure for a frame from `describe`."""
    rows = list(dict.fromkeys(frame["row"]))
    panels = list(dict.fromkeys(frame["panel"]))
    label_width = style.label_column(rows, style.SIZE["label"], limit=2.2)
    heights = style.rows_height([len(style.wrap(r, label_width - 0.1, style.SIZE["label"])) for r in rows], minimum=ROW)
    centres, y = [], 0.0
    for h in heights:
        centres.append(y + h / 2)
        y += h
    axis_height = 0.3
    chart_width = style.WIDTH - 2 * style.MARGIN - label_width
    panel_width = (chart_width - PANEL_GAP * (len(panels) - 1)) / len(panels)
    header_lines = max(len(style.wrap(p, panel_width, style.SIZE["label"], "bold")) for p in panels)
    header = header_lines * style.line_height(style.SIZE["label"]) + 0.08
    swatches = [style.Swatch("Interval excludes 1", style.INK, "dot"),
                style.Swatch("Interval includes 1", "#ffffff", "ring")]
    if frame["po_violated"].any():
        swatches.append(style.Swatch(f"{DAGGER} proportional-odds assumption rejected", "#ffffff", "none"))
    page = style.page(texts, y + axis_height, label_width, swatches, top_pad=header)
    shown = frame[frame["odds_ratio"].notna()]
    low = min(float(shown["ci_low"].min()), 0.8) if len(shown) else 0.5
    high = max(float(shown["ci_high"].max()), 1.25) if len(shown) else 2.0
    low, high = 2 ** math.floor(math.log2(max(low, TICKS[0]))), 2 ** math.ceil(math.log2(min(high, TICKS[-1])))
    at = {row: centre for row, centre in zip(rows, centres)}
    for i, panel in enumerate(panels):
        ax = page.axes_at(i * (panel_width + PANEL_GAP), panel_width)
        style.strip_axes(ax)
        ax.set_xscale("log")
        ax.set_xlim(low / 1.15, high * 1.15)
        ax.set_ylim(y + axis_height, 0)
        ax.minorticks_off()
        ax.set_xticks([])
        for tick in _ticks(low, high):
            ax.plot([tick, tick], [0, y], color="#888888" if tick == 1 else "#e3e3e3",
                    linewidth=0.9 if tick == 1 else 0.6, zorder=0)
            ax.text(tick, y + 0.06, fmt.number(tick, 2).rstrip("0").rstrip("."), ha="center", va="top",
                    fontsize=style.SIZE["note"], color=style.MUTED)
        wrapped = "\n".join(style.wrap(panel, panel_width, style.SIZE["label"], "bold"))
        ax.annotate(wrapped, (math.sqrt(low / 1.15 * high * 1.15), 0), xytext=(0, 4), textcoords="offset points",
                    ha="center", va="bottom", fontsize=style.SIZE["label"], fontweight="bold", annotation_clip=False,
                    linespacing=1.15)
        part = shown[shown["panel"] == panel]
        for record in part.itertuples(index=False):
            centre = at[record.row]
            lo, hi = max(record.ci_low, low / 1.15), min(record.ci_high, high * 1.15)
            ax.plot([lo, hi], [centre, centre], color=style.INK, linewidth=1.0, zorder=1, solid_capstyle="butt")
            ax.plot(record.odds_ratio, centre, marker="o", markersize=5.0, linestyle="none", zorder=2,
                    color=style.INK if record.excludes_one else "white", markeredgecolor=style.INK, markeredgewidth=0.9)
            if record.po_violated:
                right = hi * 1.06 < high
                ax.annotate(DAGGER, (hi if right else lo, centre), xytext=(2 if right else -2, 0),
                            textcoords="offset points", ha="left" if right else "right", va="center",
                            fontsize=style.SIZE["value"], color=style.INK, annotation_clip=False)
        ax.plot([low / 1.15, high * 1.15], [y, y], color=style.RULE, linewidth=0.6)
        if i == 0:
            for row, centre in zip(rows, centres):
                style.row_label(ax, centre, row, label_width)
    return page.figure


def alt(frame: pd.DataFrame, title: str) -> str:
    panels = list(dict.fromkeys(frame["panel"]))
    parts = []
    for panel in panels:
        part = frame[frame["panel"] == panel]
        k = int(part["excludes_one"].sum())
        parts.append(f"{panel}: the interval excludes 1 for {k} of {len(part)} items")
    return (f"Forest plot: {title}. One row per item, one panel per comparison, odds ratios with intervals on a log "
            f"scale. {'; '.join(parts)}. Every odds ratio, interval and test is in the data table.")
