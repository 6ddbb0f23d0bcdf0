"""Trend figures (kind "trend"): a question's headline share (or mean rating) in every wave with its interval as a
band, for all respondents and by each breakdown of the trends tables (one panel each, e.g. WEOG/non-WEOG, gender).

Nothing is computed here: `rows_drawn` picks rows of a `trends` table (a wave's own tables/trends.csv: that wave and
the one before it; or the survey's combined table in the cross-wave report) and `draw` places them; the headline
quotes cells of `trend_tests`. In a wave's report.yaml, `kind: trend` draws one ordinal question with its
`breakdowns` as panels (`describe` reads the wave's tables/trends.csv)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline import format as fmt
from pipeline.figures import palette, style
from pipeline.figures.names import Names
from pipeline.figures.tables import ALL, read_table

COLUMNS = ["question", "measure", "breakdown", "group", "wave", "n", "estimate", "ci_low", "ci_high", "ci_method",
           "suppressed"]
CAPTION = ("Each wave's estimate with its interval (band); waves are independent samples, some respondents "
           "answered in several. Groups with too few answers in a wave are left out of that wave.")
PANEL_HEIGHT = 2.1
GAP = 0.35


def measure_of(trends: pd.DataFrame, question: str) -> str:
    """`topbox` when the question has top-box rows in the table, else `mean`."""
    rows = trends[trends["question"] == question]
    return "topbox" if (rows["measure"] == "topbox").any() else "mean"


def rows_drawn(trends: pd.DataFrame, question: str, names: Names, waves: list[str],
               breakdowns: list[str]) -> pd.DataFrame:
    """The rows drawn: `question`'s headline measure for the whole sample and each breakdown in `breakdowns`,
    every wave in `waves` order, with `panel` (breakdown label) and `series` (group name) added."""
    measure = measure_of(trends, question)
    picked = trends[(trends["question"] == question) & (trends["measure"] == measure)
                    & trends["breakdown"].isin([ALL, *breakdowns]) & trends["wave"].isin(waves)]
    order = {w: i for i, w in enumerate(waves)}
    panels = {b: i for i, b in enumerate([ALL, *breakdowns])}
    frame = picked[COLUMNS].copy()
    frame["_order"] = [(panels[b], order[w]) for b, w in zip(frame["breakdown"], frame["wave"])]
    frame = frame.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    frame["panel"] = [names.breakdown_label(b) for b in frame["breakdown"]]
    frame["series"] = [names.group(b, g) for b, g in zip(frame["breakdown"], frame["group"])]
    return frame


def describe(spec, tables, names: Names) -> pd.DataFrame:
    """The rows a report.yaml figure of kind trend draws: its question in the waves of the wave's trends.csv."""
    from pipeline.errors import PulseError

    path = tables.folder / "trends.csv" if tables.folder else None
    if path is None or not path.exists():
        raise PulseError(f"{path or 'trends.csv'}: not found; run `pulse trends` for this wave first")
    trends = read_table(path)
    trends["wave"] = trends["wave"].astype(str)
    waves = list(dict.fromkeys(trends["wave"]))
    return rows_drawn(trends, spec.questions[0], names, waves, [b for b in spec.breakdowns if b != ALL])


def look(frame: pd.DataFrame, spec, names: Names, minimum: int, alpha: float) -> style.Look:
    """The colour of each group, the same as in every other figure of the survey (pipeline.figures.palette)."""
    keys = list(dict.fromkeys(zip(frame["breakdown"], frame["group"])))
    found = palette.colours(names, keys)
    return style.Look({names.group(b, g): found[(b, g)] for b, g in keys}, minimum, alpha)


def _panel(ax, rows: pd.DataFrame, waves: list[str], colours: dict, topbox: bool, limits: tuple[float, float],
           labelled: bool) -> None:
    """One breakdown's lines and bands; values written next to the points when `labelled` (a single series)."""
    for series, part in rows.groupby("series", sort=False):
        shown = part[~part["suppressed"] & part["estimate"].notna()]
        x = [waves.index(w) for w in shown["wave"]]
        colour = colours[series]
        ax.fill_between(x, shown["ci_low"], shown["ci_high"], color=colour, alpha=0.15, linewidth=0)
        ax.plot(x, shown["estimate"], color=colour, linewidth=1.4, marker="o", markersize=3.5)
        for xi, value in zip(x, shown["estimate"] if labelled else []):
            ax.annotate(fmt.percent(value) if topbox else fmt.mean(value), (xi, value), xytext=(0, 5),
                        textcoords="offset points", ha="center", fontsize=style.SIZE["value"], color=colour)
    ax.set_xticks(range(len(waves)))
    ax.set_xticklabels(waves, fontsize=style.SIZE["label"])
    ax.set_xlim(-0.4, len(waves) - 0.6)
    ax.set_ylim(*limits)
    ax.tick_params(axis="y", labelsize=style.SIZE["value"], colors=style.MUTED, length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """One panel per breakdown side by side, one line per group across the frame's waves, its interval as a band."""
    waves = list(dict.fromkeys(frame["wave"]))
    panels = list(dict.fromkeys(frame["panel"]))
    topbox = (frame["measure"] == "topbox").any()
    shown = frame[~frame["suppressed"] & frame["estimate"].notna()]
    if topbox:
        limits = (0.0, 100.0)
    else:
        low = min(shown["ci_low"].min(), shown["estimate"].min()) if len(shown) else 1.0
        high = max(shown["ci_high"].max(), shown["estimate"].max()) if len(shown) else 5.0
        limits = (max(low - 0.3, 0.5), high + 0.3)
    series = list(dict.fromkeys(shown["series"]))
    swatches = [style.Swatch(s, look.colours[s], "dot") for s in series]
    page = style.page(texts, PANEL_HEIGHT, 0.3, swatches, top_pad=0.25)
    width = page.chart[2]
    each = (width - GAP * (len(panels) - 1)) / len(panels)
    for i, name in enumerate(panels):
        ax = page.axes_at(i * (each + GAP), each)
        rows = frame[frame["panel"] == name]
        _panel(ax, rows, waves, look.colours, topbox, limits, rows["series"].nunique() == 1)
        ax.set_title(name, fontsize=style.SIZE["heading"], fontweight="bold", loc="left", color=style.INK)
        if i:
            ax.set_yticklabels([])
    return page.figure


def footnotes(frame: pd.DataFrame, spec, names: Names, minimum: int, alpha: float,
              confidence: float = 0.95) -> list[str]:
    """The interval method and level, and the groups left out of a wave for their size."""
    methods = sorted(set(frame["ci_method"].dropna()))
    small = frame[frame["suppressed"]]
    lines = [f"Bands: {fmt.number(100 * confidence)}% intervals ({', '.join(m.replace('-', ' ') for m in methods)})."]
    if len(small):
        lines.append(f"Not shown (fewer than {fmt.count(minimum)} answers): " + "; ".join(
            f"{s} in {w}" for s, w in zip(small["series"], small["wave"])) + ".")
    return lines


def alt(frame: pd.DataFrame, title: str) -> str:
    waves = list(dict.fromkeys(frame["wave"]))
    panels = list(dict.fromkeys(frame["panel"]))
    return (f"Line chart with interval bands: {title}. Waves {', '.join(waves)}; panels: {'; '.join(panels)}. "
            f"Every estimate and interval is in the data table.")


def headline(tests: pd.DataFrame, question: str, measure: str, names: Names, alpha: float,
             source: str) -> tuple[str | None, list[dict[str, Any]]]:
    """The headline of a trend figure: the significant whole-sample change between consecutive waves (independent
    samples) with the smallest q-value, and its facts (table, row key, column, value), or (None, [])."""
    rows = tests[(tests["question"] == question) & (tests["measure"] == measure) & (tests["breakdown"] == ALL)
                 & (tests["design"] == "independent") & ~tests["suppressed"] & (tests["q_value"] < alpha)]
    if rows.empty:
        return None, []
    row = rows.sort_values(["q_value", "wave_b"], kind="stable").iloc[0]
    topbox = measure == "topbox"
    show = fmt.percent if topbox else fmt.mean
    change = fmt.points(row["difference"]) if topbox else fmt.signed(row["difference"])
    what = f"the share {names.topbox(question)}" if topbox else "the mean rating"
    verb = "rose" if row["difference"] > 0 else "fell"
    text = (f"{names.question_short(question)}: {what} {verb} from {show(row['estimate_a'])} in {row['wave_a']} to "
            f"{show(row['estimate_b'])} in {row['wave_b']} ({change}, {fmt.pvalue_clause('q', row['q_value'])})")
    key = {k: row[k] for k in ("question", "measure", "breakdown", "group", "wave_a", "wave_b", "design")}
    facts = [{"table": source.format(wave=row["wave_b"]), "row": key, "column": column, "value": float(row[column])}
             for column in ("estimate_a", "estimate_b", "difference", "q_value")]
    return text, facts


def title(spec, names: Names) -> str:
    """The figure's title: the question's short name and what is drawn."""
    question = spec.questions[0]
    topbox = names.topbox(question)
    return f"{names.question_short(question)}: {'share ' + topbox if topbox else 'mean rating'} by wave"


def table(frame: pd.DataFrame, names: Names) -> tuple[list, list[list]]:
    """The drawn rows as the report's data table: (head, rows) of report Cells."""
    from pipeline.report import Cell

    topbox = (frame["measure"] == "topbox").any()
    show = fmt.percent if topbox else fmt.mean
    head = [Cell("Breakdown"), Cell("Group"), Cell("Wave"), Cell("n", True), Cell("Estimate", True),
            Cell("Interval", True)]
    rows = [[Cell(r["panel"]), Cell(r["series"]), Cell(str(r["wave"])), Cell(fmt.count(r["n"]), True),
             Cell("not shown" if r["suppressed"] else show(r["estimate"]), True),
             Cell("" if r["suppressed"] else f"{show(r['ci_low'])}–{show(r['ci_high'])}", True)]
            for r in frame.to_dict("records")]
    return head, rows
