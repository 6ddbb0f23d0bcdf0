"""Horizontal 100% stacked bars of ordinal answers: one bar per group (or per question), one segment
per level, percentages written inside segments wide enough to hold them (and never below 3%)."""

from __future__ import annotations

import pandas as pd

from pipeline import format as fmt
from pipeline.figures import notes, style
from pipeline.figures.names import Names, lower_first
from pipeline.figures.spec import ALL, FigureSpec
from pipeline.figures.tables import Tables, order_questions, rows

COLUMNS = ["question", "breakdown", "group", "level", "n", "count", "pct", "suppressed", "dont_know", "refused",
           "blank", "not_asked"]
CAPTION = "Share of valid answers in each group; n is the number of valid answers."
MIN_LABEL = 3.0
BAR = 0.17
HEADING = 0.26


def _describe_pairs(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """Pairs side by side: one row per pair (`bar`: what the pair rates), the two sides (`side`: a or b,
    `side_name`) in two panels; rows in the instrument's order, or by side a's top-box share or mean."""
    pairs = [names.pair(p) for p in spec.pairs]
    order = order_questions(tuple(p.a for p in pairs), spec.sort, tables)
    pairs.sort(key=lambda p: order.index(p.a))
    parts = []
    for pair in pairs:
        row, side_a, side_b = names.pair_names(pair.id, spec.sides)
        for side, question, side_name in (("a", pair.a, side_a), ("b", pair.b, side_b)):
            part = rows(tables.distributions, question, ALL)[COLUMNS].copy()
            asked = names.instrument.question(question)
            top = {asked.scale.level(code).label for code in asked.topbox_codes} if asked.scale else set()
            part["topbox"] = part["level"].isin(top)
            part["block"] = ""
            part["bar"] = row
            part["pair"] = pair.id
            part["side"] = side
            part["side_name"] = fmt.sentence_case(side_name)
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def describe(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """The distribution rows drawn, in drawing order, with `block` (heading above a run of bars, or "")
    and `bar` (the bar's label with its n). Bars are questions when the figure has several questions and
    only the all-respondents breakdown; otherwise groups, in blocks per question and breakdown. With
    `pairs`, the two sides of each pair are drawn side by side (see `_describe_pairs`)."""
    if spec.pairs:
        return _describe_pairs(spec, tables, names)
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


def _topbox_edge(part: pd.DataFrame) -> float | None:
    """Where the top box ends on a 100% bar: after its levels when they open the scale, before them when
    they close it; None when the bar has no top box or it sits inside the scale."""
    if "topbox" not in part or not part["topbox"].any() or part["topbox"].all() or part["pct"].isna().any():
        return None
    flags = list(part["topbox"])
    k = sum(flags)
    if flags[:k] == [True] * k:
        return float(part["pct"].iloc[:k].sum())
    if flags[-k:] == [True] * k:
        return float(100 - part["pct"].iloc[-k:].sum())
    return None


def footnotes(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> list[str]:
    edge = ""
    if "topbox" in frame and frame["topbox"].any():
        labels = list(dict.fromkeys(names.topbox(q) for q in frame.loc[frame["topbox"], "question"]))
        edge = f"The black tick on each bar marks the edge of the top box ({fmt.join([f'“{t}”' for t in labels])})."
    return [notes.exclusions(frame, names), notes.suppression(frame, minimum),
            notes.unknown_breakdown(list(spec.breakdowns), names), edge, notes.ROUNDING]


HIDDEN_LABEL = "Hidden: too few respondents to show these answers separately (one grey segment per bar)"


def hidden_cells(part: pd.DataFrame) -> pd.Series:
    """True for a level whose share is hidden by disclosure control in a group that is shown."""
    return part["pct"].isna() & ~part["suppressed"].astype(bool) & (part["n"].fillna(0) > 0)


def _segments(ax, centre: float, part: pd.DataFrame, colours: dict, chart_width: float) -> None:
    """One 100% bar: a segment per level, its percentage written inside when it fits. The hidden levels of
    the bar are drawn as one grey hatched segment, as wide as their total share, where the first of them is."""
    left, drawn_hidden = 0.0, False
    hidden_total = 100.0 - part["pct"].sum()
    for level, pct, hidden in zip(part["level"], part["pct"], hidden_cells(part)):
        if hidden:
            if not drawn_hidden:
                ax.barh(centre, hidden_total, left=left, height=BAR, color=style.SUPPRESSED, edgecolor="#bbbbbb",
                        linewidth=0.4, hatch="////")
                left += hidden_total
                drawn_hidden = True
            continue
        colour = colours[level]
        ax.barh(centre, pct, left=left, height=BAR, color=colour, edgecolor="white", linewidth=0.6)
        text = fmt.percent(pct)
        room = pct / 100 * chart_width
        if pct >= MIN_LABEL and style.text_width(text, style.SIZE["value"]) + 0.04 <= room:
            ax.text(left + pct / 2, centre, text, ha="center", va="center", fontsize=style.SIZE["value"],
                    color=style.ink_on(colour))
        left += pct


def _suppressed_bar(ax, centre: float) -> None:
    ax.barh(centre, 100, height=BAR, color=style.SUPPRESSED, edgecolor="#bbbbbb", linewidth=0.4, hatch="////")


def _swatches(frame: pd.DataFrame, colours: dict, minimum: int) -> list:
    swatches = [style.Swatch(level, colours[level]) for level in dict.fromkeys(frame["level"])]
    if frame["suppressed"].any():
        swatches.append(style.Swatch(f"Fewer than {fmt.count(minimum)} valid answers: not shown", style.SUPPRESSED, "hatched"))
    if hidden_cells(frame).any():
        swatches.append(style.Swatch(HIDDEN_LABEL, style.SUPPRESSED, "hatched"))
    return swatches


N_ROOM = 0.46
PANEL_GAP = 0.14


def draw_pairs(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """Pairs side by side: a row per pair, side a's bar in the left panel and side b's in the right one,
    each bar's n written after it."""
    rows_ = list(dict.fromkeys(frame["bar"]))
    sides = list(dict.fromkeys(zip(frame["side"], frame["side_name"])))
    label_width = style.label_column(rows_, style.SIZE["label"], limit=2.0)
    chart_width = style.WIDTH - 2 * style.MARGIN - label_width
    panel = (chart_width - 2 * N_ROOM - PANEL_GAP) / 2
    header_lines = max(len(style.wrap(name, panel, style.SIZE["label"], "bold")) for _, name in sides)
    header = header_lines * style.line_height(style.SIZE["label"]) + 0.08
    heights = style.rows_height([len(style.wrap(r, label_width - 0.1, style.SIZE["label"])) for r in rows_],
                                minimum=0.27)
    y = sum(heights)
    page = style.page(texts, y, label_width, _swatches(frame, look.colours, look.minimum), top_pad=header)
    for i, (side, name) in enumerate(sides):
        ax = page.axes_at(i * (panel + N_ROOM + PANEL_GAP), panel)
        style.strip_axes(ax)
        ax.set_xlim(0, 100)
        ax.set_ylim(y, 0)
        wrapped = "\n".join(style.wrap(name, panel, style.SIZE["label"], "bold"))
        ax.annotate(wrapped, (0, 0), xytext=(0, 5), textcoords="offset points", ha="left", va="baseline",
                    fontsize=style.SIZE["label"], fontweight="bold", annotation_clip=False, linespacing=1.15)
        top = 0.0
        for row, height in zip(rows_, heights):
            centre = top + height / 2
            top += height
            if i == 0:
                style.row_label(ax, centre, row, label_width)
            part = frame[(frame["bar"] == row) & (frame["side"] == side)]
            if part.empty:
                continue
            if part["suppressed"].any():
                _suppressed_bar(ax, centre)
            else:
                _segments(ax, centre, part, look.colours, panel)
                edge = _topbox_edge(part)
                if edge is not None:
                    ax.plot([edge, edge], [centre - BAR * 0.85, centre + BAR * 0.85], color=style.INK, linewidth=1.4,
                            solid_capstyle="butt", zorder=3)
            ax.annotate(f"n={fmt.count(part['n'].iloc[0])}", (100, centre), xytext=(4, 0), textcoords="offset points",
                        ha="left", va="center", fontsize=style.SIZE["note"], color=style.MUTED, annotation_clip=False)
    return page.figure


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """The figure for a frame from `describe`."""
    if "side" in frame:
        return draw_pairs(frame, texts, look)
    colours, minimum = look.colours, look.minimum
    bars = _bars(frame)
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
    page = style.page(texts, y, label_width, _swatches(frame, colours, minimum))
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
            _suppressed_bar(ax, centre)
            continue
        _segments(ax, centre, part, colours, chart_width)
    return page.figure


def subtitle(frame: pd.DataFrame, spec: FigureSpec, names: Names) -> str | None:
    """With pairs: "Each of 16 rows rated for higher- and for lower-income countries, from … to …"; else
    the default wording (None)."""
    if "side" not in frame:
        return None
    levels = names.levels(frame["question"].iloc[0])
    sides = list(dict.fromkeys(frame["side_name"]))
    rows_ = frame["bar"].nunique()
    return (f"Each of {fmt.count(rows_)} items rated for {lower_first(sides[0])} and for {lower_first(sides[1])}, from "
            f"“{levels[0]}” (1) to “{levels[-1]}” ({fmt.count(len(levels))}).")


def eligibility_subject(frame: pd.DataFrame, spec: FigureSpec, names: Names) -> str | None:
    """With pairs, who was asked in the words of the figure ("The ratings for lower-income countries")."""
    if "side" not in frame:
        return None
    asked = {q.id: q for q in names.instrument.questions}
    restricted = {side for side, q in zip(frame["side"], frame["question"]) if asked[q].eligible}
    if len(restricted) != 1:
        return None
    name = frame.loc[frame["side"] == next(iter(restricted)), "side_name"].iloc[0]
    return f"The questions on {lower_first(name)}"


def alt(frame: pd.DataFrame, title: str) -> str:
    """A description for screen readers: what is drawn, the bars and the scale; the numbers are in the data table."""
    if "side" in frame:
        frame = frame.assign(bar=[f"{b}, {s} (n={fmt.count(n)})" for b, s, n in
                                  zip(frame["bar"], frame["side_name"], frame["n"])])
    bars = list(dict.fromkeys(frame["bar"]))
    levels = list(dict.fromkeys(frame["level"]))
    hidden = list(dict.fromkeys(frame.loc[frame["suppressed"], "bar"]))
    text = (f"Horizontal 100% stacked bar chart: {title}. {len(bars)} bars: {'; '.join(bars)}. "
            f"Segments from “{levels[0]}” to “{levels[-1]}” ({len(levels)} answers).")
    if hidden:
        text += f" Not shown (too few answers): {'; '.join(hidden)}."
    if hidden_cells(frame).any():
        text += " Some answers are hidden because too few respondents gave them; each bar shows them as one grey segment."
    return text + " Every percentage is in the data table."
