"""The keyword figure of a free-text question: the codebook tags shown in keywords.csv (`shown`: named in
at least the codebook's `min_mentions` meaningful answers), the type size growing with the number of
mentions. The layout is deterministic and free of overlaps by construction: words, most mentioned first,
fill centred lines from the top, each line's largest word in its middle; the position and box of every
word are in the figure's CSV. Answers themselves are never drawn.
"""

from __future__ import annotations

import pandas as pd

from pipeline import format as fmt
from pipeline.errors import PulseError
from pipeline.figures import style
from pipeline.figures.names import Names
from pipeline.figures.spec import FigureSpec
from pipeline.figures.tables import Tables

COLUMNS = ["question", "tag", "label", "mentions", "meaningful_answers", "pct", "shown", "automatic", "added",
           "removed"]
CAPTION = ("Groups named in the meaningful answers, as tagged with the survey's codebook; the larger the type, the "
           "more answers name the group. Counts are in the data table and in the ranked chart.")
SMALLEST, LARGEST = 8.0, 24.0  # type sizes (points) of the least and of the most mentioned tag
GAP = 0.16                     # inches between words on a line
LEADING = 1.2                  # line height as a multiple of the line's largest type size
HEIGHT = 1.18                  # a word's box height as a multiple of its type size (ascender to descender)
INSET = 0.15                   # inches kept free at the left and right of the chart


def tag_rows(spec: FigureSpec, tables: Tables) -> pd.DataFrame:
    """The keywords.csv rows of the figure's question, in table order (most mentioned first)."""
    question = spec.questions[0]
    keywords = tables.get("keywords")
    picked = keywords[keywords["question"] == question][COLUMNS].reset_index(drop=True)
    if picked.empty:
        raise PulseError(f"{spec.where}: keywords.csv has no tags for {question!r}; add a codebook "
                         f"(codebooks/{question}.yaml) and run `pulse analyze` again")
    return picked


def shown(spec: FigureSpec, tables: Tables) -> pd.DataFrame:
    """The tags drawn: those with `shown` true, most mentioned first (ties in table order)."""
    rows = tag_rows(spec, tables)
    return rows[rows["shown"]].sort_values("mentions", ascending=False, kind="stable").reset_index(drop=True)


def sizes(mentions: pd.Series) -> list[float]:
    """Type sizes growing linearly with mentions, from SMALLEST (fewest) to LARGEST (most)."""
    low, high = float(mentions.min()), float(mentions.max())
    if high == low:
        return [round((SMALLEST + LARGEST) / 2, 2)] * len(mentions)
    return [round(SMALLEST + (LARGEST - SMALLEST) * (float(m) - low) / (high - low), 2) for m in mentions]


def _centre_out(items: list) -> list:
    """[0, 1, 2, 3, 4] → [3, 1, 0, 2, 4]: the first (largest) item in the middle, the rest alternating."""
    left, right = [], []
    for i, item in enumerate(items):
        (right if i % 2 == 0 else left).append(item)
    return left[::-1] + right


def layout(labels: list[str], type_sizes: list[float], width: float) -> list[tuple[float, float, float, float]]:
    """(x centre, y centre, width, height) in inches from the top-left of the chart for each word."""
    boxes = [(style.text_width(label, size, "bold"), size * HEIGHT / 72) for label, size in zip(labels, type_sizes)]
    lines: list[list[int]] = [[]]
    used = 0.0
    for i, (w, _) in enumerate(boxes):
        if lines[-1] and used + GAP + w > width:
            lines.append([])
            used = 0.0
        used += (GAP if lines[-1] else 0.0) + w
        lines[-1].append(i)
    placed: dict[int, tuple[float, float, float, float]] = {}
    top = 0.0
    for line in lines:
        line_height = max(type_sizes[i] for i in line) * LEADING / 72
        order = _centre_out(line)
        total = sum(boxes[i][0] for i in order) + GAP * (len(order) - 1)
        x = (width - total) / 2
        for i in order:
            w, h = boxes[i]
            placed[i] = (round(x + w / 2, 4), round(top + line_height / 2, 4), round(w, 4), round(h, 4))
            x += w + GAP
        top += line_height
    return [placed[i] for i in range(len(labels))]


def describe(spec: FigureSpec, tables: Tables, names: Names) -> pd.DataFrame:
    """The keywords.csv rows drawn (shown tags, most mentioned first) with `size` (points) and the word's
    box: `x`, `y` (centre) and `width`, `height`, in inches from the top-left of the chart."""
    frame = shown(spec, tables)
    if frame.empty:
        raise PulseError(f"{spec.where}: no tag of {spec.questions[0]!r} is shown in keywords.csv (none is named "
                         f"often enough); drop the figure or lower the codebook's min_mentions")
    frame["size"] = sizes(frame["mentions"])
    chart_width = style.WIDTH - 2 * style.MARGIN
    boxes = layout(list(frame["label"]), list(frame["size"]), chart_width - 2 * INSET)
    frame["x"], frame["y"], frame["width"], frame["height"] = zip(*boxes)
    frame["x"] = frame["x"] + INSET
    return frame


def look(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float) -> style.Look:
    """Darker blue for more mentions, every shade dark enough to read on white."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    low, high = frame["mentions"].min(), frame["mentions"].max()
    cmap = colormaps["Blues"]
    share = (frame["mentions"] - low) / (high - low) if high > low else frame["mentions"] * 0 + 1
    return style.Look(dict(zip(frame["tag"], [to_hex(cmap(0.72 + 0.28 * float(s))) for s in share])), minimum, alpha)


def subtitle(frame: pd.DataFrame, spec: FigureSpec, names: Names) -> str:
    n = frame["meaningful_answers"].iloc[0]
    return f"{names.question_text(spec.questions[0])}\nn = {fmt.count(n)} meaningful answers"


def not_shown(spec: FigureSpec, tables: Tables) -> str:
    """"5 further tags of the codebook, named in no answer, are not shown." from keywords.csv."""
    rows = tag_rows(spec, tables)
    hidden = rows[~rows["shown"]]
    if hidden.empty:
        return ""
    most = int(hidden["mentions"].max())
    named = "in no answer" if most == 0 else f"in at most {fmt.count(most)} answer{'s' if most != 1 else ''}"
    count = len(hidden)
    return (f"{fmt.count(count)} further tag{'s' if count != 1 else ''} of the codebook, named {named}, "
            f"{'are' if count != 1 else 'is'} not shown.")


def footnotes(frame: pd.DataFrame, spec: FigureSpec, names: Names, minimum: int, alpha: float,
              tables: Tables | None = None) -> list[str]:
    low, high = frame["mentions"].min(), frame["mentions"].max()
    scale = (f"Type size grows linearly with the number of answers naming the group, from {fmt.number(SMALLEST)} pt "
             f"({fmt.count(low)} answers) to {fmt.number(LARGEST)} pt ({fmt.count(high)} answers).")
    return [scale, not_shown(spec, tables) if tables is not None else "",
            "An answer may name several groups. Blank answers and non-answers (“n/a”, “none”, …) are not counted; "
            "the answers themselves are not published."]


def draw(frame: pd.DataFrame, texts: style.Texts, look: style.Look):
    """The figure for a frame from `describe`."""
    height = float((frame["y"] + frame["height"] / 2).max()) + 0.05
    page = style.page(texts, height, 0.0)
    ax = page.axes()
    style.strip_axes(ax)
    ax.set_xlim(0, page.chart[2])
    ax.set_ylim(height, 0)
    for record in frame.itertuples(index=False):
        ax.text(record.x, record.y, record.label, ha="center", va="center_baseline", fontsize=record.size,
                fontweight="bold", color=look.colours[record.tag])
    return page.figure


def alt(frame: pd.DataFrame, title: str) -> str:
    words = "; ".join(f"{label} ({fmt.count(m)})" for label, m in zip(frame["label"], frame["mentions"]))
    n = fmt.count(frame["meaningful_answers"].iloc[0])
    return (f"Keyword figure: {title}. {len(frame)} groups, each in type sized by the number of the {n} meaningful "
            f"answers naming it, most named first: {words}.")
