"""The look shared by every figure: fonts, colour ramps, text measuring and wrapping, and the page
layout around a chart (synthetic banner, title, question wording, legend, chart, footnotes, source).

Sizes are in inches (figure geometry) and points (type). Figures are 7 in wide, the text width of an A4
page with 18 mm margins. Colours are colour-blind safe: ColorBrewer Blues (sequential), PuOr
(diverging, with a neutral grey middle) and Okabe–Ito (qualitative).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

import matplotlib
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

WIDTH = 7.0
MARGIN = 0.12
FONT = "DejaVu Sans"
INK = "#1a1a1a"
MUTED = "#555555"
RULE = "#bbbbbb"
SUPPRESSED = "#eeeeee"
SYNTHETIC = "#b00020"
SIZE = {"banner": 7.0, "title": 10.5, "subtitle": 8.0, "legend": 7.5, "label": 7.5, "heading": 7.5,
        "value": 7.0, "note": 6.5}
LINE = 1.3
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
NEUTRAL = "#d4d4d4"
RC = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "svg.hashsalt": "pulse",
    "svg.fonttype": "none",
    "path.simplify": False,
    "axes.unicode_minus": True,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "text.hinting": "no_hinting",
    "text.color": INK,
    "axes.edgecolor": RULE,
    "hatch.color": "#bbbbbb",
    "hatch.linewidth": 0.6,
}


def rc_context():
    """Matplotlib settings for every figure (a context manager, so tests do not leak settings). The PNGs' text
    is not hinted: at 200 dpi hinting shows no gain, it moves letters off the positions the SVG has, and
    FreeType's auto-hinter took a third of the time of drawing the PNGs."""
    return matplotlib.rc_context(RC)


@lru_cache(maxsize=None)
def _props(size: float, weight: str) -> FontProperties:
    return FontProperties(family=FONT, size=size, weight=weight)


UNITS = 100.0  # points: glyph metrics are read at this size, unhinted, and scale linearly


@lru_cache(maxsize=None)
def _face(weight: str):
    """The font file of FONT at `weight`, opened once, at UNITS points and 72 dpi."""
    from matplotlib.font_manager import findfont
    from matplotlib.ft2font import FT2Font

    face = FT2Font(findfont(_props(UNITS, weight)))
    face.set_size(UNITS, 72)
    return face


@lru_cache(maxsize=None)
def _glyph(char: str, weight: str) -> tuple[int, int]:
    """(glyph index, unhinted advance in 1/64 points at UNITS points) of one character; index 0 when the
    font has no glyph for it."""
    from matplotlib.ft2font import LoadFlags

    face = _face(weight)
    index = face.get_char_index(ord(char))
    try:
        return index, face.load_char(ord(char), flags=LoadFlags.NO_HINTING).horiAdvance if index else 0
    except RuntimeError:  # FreeType refused the glyph: measure the text with matplotlib instead
        return 0, 0


@lru_cache(maxsize=None)
def _kerning(left: int, right: int, weight: str) -> int:
    from matplotlib.ft2font import Kerning

    return _face(weight).get_kerning(left, right, Kerning.UNFITTED)


@lru_cache(maxsize=20000)
def text_width(text: str, size: float, weight: str = "normal") -> float:
    """The width of one line of `text` in inches at `size` points: the sum of the font's unhinted advances
    and kerning, which is how the renderers lay text out (within 0.05%, their shaper's kerning aside), read
    from a per-glyph cache instead of shaping each string. Text with a character DejaVu Sans lacks is
    measured by matplotlib itself (font fallback)."""
    if not text:
        return 0.0
    glyphs = [_glyph(char, weight) for char in text]
    if any(index == 0 for index, _ in glyphs):
        from matplotlib.textpath import TextToPath

        width, _, _ = TextToPath().get_text_width_height_descent(text, _props(size, weight), ismath=False)
        return width / 72.0
    units = sum(advance for _, advance in glyphs)
    units += sum(_kerning(left, right, weight) for (left, _), (right, _) in zip(glyphs, glyphs[1:]))
    return units / 64.0 * size / UNITS / 72.0


def line_height(size: float) -> float:
    """Baseline-to-baseline distance in inches for type of `size` points."""
    return size * LINE / 72.0


def wrap(text: str, width: float, size: float, weight: str = "normal") -> list[str]:
    """`text` broken at spaces into lines no wider than `width` inches (a single long word overflows)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size, weight) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines or [""]


def ramp(kind: str, n: int) -> list[str]:
    """`n` ordered colours: 'sequential' (light to dark blue), 'diverging' (orange, grey middle, purple)
    or 'qualitative' (Okabe–Ito, cycled)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    if kind == "qualitative" or n < 2:
        return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)]
    if kind == "sequential":
        cmap = colormaps["Blues"]
        return [to_hex(cmap(0.18 + 0.77 * i / (n - 1))) for i in range(n)]
    cmap = colormaps["PuOr"]
    colours = [to_hex(cmap(0.1 + 0.8 * i / (n - 1))) for i in range(n)]
    if n % 2:
        colours[n // 2] = NEUTRAL
    return colours


def ink_on(colour: str) -> str:
    """Black or white, whichever reads better on `colour` (relative luminance)."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in to_rgb(colour))
    return INK if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.25 else "#ffffff"


@dataclass(frozen=True)
class Texts:
    """The words around a chart. `footnotes` are separate paragraphs under it."""

    title: str
    subtitle: str  # paragraphs separated by "\n"
    footnotes: tuple[str, ...] = ()
    source: str = ""
    synthetic: bool = False
    banner: str = "SYNTHETIC EXAMPLE DATA — not the survey's real responses"


@dataclass(frozen=True)
class Look:
    """How a frame is coloured: a colour per level or series label, and the minimum group size."""

    colours: dict
    minimum: int
    alpha: float = 0.05
    levels: tuple = ()
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Swatch:
    """One legend entry: a filled square, a hatched square, a dot or a diamond."""

    label: str
    colour: str
    marker: str = "square"
    edge: str | None = None


@dataclass
class Page:
    """A laid-out figure: the matplotlib figure and the chart box (inches from the bottom-left)."""

    figure: "matplotlib.figure.Figure"
    chart: tuple[float, float, float, float]
    height: float
    items: list = field(default_factory=list)

    def axes(self, **kwargs):
        x, y, w, h = self.chart
        return self.figure.add_axes((x / WIDTH, y / self.height, w / WIDTH, h / self.height), **kwargs)

    def axes_at(self, left: float, width: float, **kwargs):
        """Axes over a vertical slice of the chart box: `left` inches from its left edge, `width` wide."""
        x, y, _, h = self.chart
        return self.figure.add_axes(((x + left) / WIDTH, y / self.height, width / WIDTH, h / self.height), **kwargs)


def _legend_lines(swatches: list[Swatch], width: float) -> list[list[tuple[Swatch, float]]]:
    box = SIZE["legend"] / 72.0
    lines: list[list[tuple[Swatch, float]]] = [[]]
    used = 0.0
    for swatch in swatches:
        entry = box * 1.5 + text_width(swatch.label, SIZE["legend"]) + 0.18
        if lines[-1] and used + entry > width:
            lines.append([])
            used = 0.0
        lines[-1].append((swatch, entry))
        used += entry
    return [line for line in lines if line]


def _draw_swatch(fig, swatch: Swatch, x: float, y: float, height: float) -> None:
    from matplotlib.patches import Circle, Rectangle, RegularPolygon

    box = SIZE["legend"] / 72.0
    cx, cy = x + box / 2, y + box * 0.35
    transform = fig.dpi_scale_trans
    if swatch.marker == "none":
        return
    if swatch.marker == "dot":
        patch = Circle((cx, cy), box * 0.42, facecolor=swatch.colour, edgecolor=swatch.edge or "none",
                       linewidth=0.9, transform=transform)
    elif swatch.marker == "diamond":
        patch = RegularPolygon((cx, cy), 4, radius=box * 0.55, facecolor=swatch.colour, edgecolor="none",
                               transform=transform)
    elif swatch.marker == "ring":
        patch = Circle((cx, cy), box * 0.42, facecolor="white", edgecolor=INK, linewidth=1.0, transform=transform)
    else:
        hatched = swatch.marker == "hatched"
        patch = Rectangle((x, cy - box / 2), box, box, facecolor=swatch.colour, transform=transform,
                          edgecolor="#999999" if hatched or swatch.colour.lower() in ("#ffffff", NEUTRAL) else "none",
                          linewidth=0.4, hatch="////" if hatched else None)
    fig.add_artist(patch)


def _paragraphs(texts: Texts, width: float) -> tuple[list, list]:
    header: list[tuple[str, float, str, str]] = []
    if texts.synthetic:
        header.append((texts.banner, SIZE["banner"], "bold", SYNTHETIC))
    header += [(line, SIZE["title"], "bold", INK) for line in wrap(texts.title, width, SIZE["title"], "bold")]
    for paragraph in texts.subtitle.split("\n"):
        header += [(line, SIZE["subtitle"], "normal", MUTED) for line in wrap(paragraph, width, SIZE["subtitle"])]
    footer = []
    for note in texts.footnotes:
        footer += [(line, SIZE["note"], "normal", MUTED) for line in wrap(note, width, SIZE["note"])]
    if texts.source:
        footer += [(line, SIZE["note"], "normal", MUTED) for line in wrap(texts.source, width, SIZE["note"])]
    return header, footer


def page(texts: Texts, chart_height: float, label_width: float, swatches: list[Swatch] = (),
         right_width: float = 0.0, top_pad: float = 0.0) -> Page:
    """A figure laid out top to bottom; the chart box starts `label_width` inches from the left edge
    (room for row labels) and stops `right_width` before the right margin. `top_pad` leaves room
    above the chart (column headings)."""
    width = WIDTH - 2 * MARGIN
    header, footer = _paragraphs(texts, width)
    legend = _legend_lines(list(swatches), width)
    gap = 0.1
    header_h = sum(line_height(size) for _, size, _, _ in header) + (gap if header else 0)
    legend_h = len(legend) * line_height(SIZE["legend"]) * 1.15 + (gap if legend else 0)
    footer_h = sum(line_height(size) for _, size, _, _ in footer) + (gap * 1.5 if footer else 0)
    height = MARGIN + header_h + legend_h + top_pad + chart_height + footer_h + MARGIN
    fig = Figure(figsize=(WIDTH, height))
    y = height - MARGIN
    for i, (line, size, weight, colour) in enumerate(header):
        y -= line_height(size)
        if i and header[i - 1][1] != size:
            y -= 0.02
        fig.text(MARGIN / WIDTH, (y + size * 0.25 / 72) / height, line, fontsize=size, fontweight=weight,
                 color=colour, ha="left", va="baseline")
    y -= gap
    for line in legend:
        y -= line_height(SIZE["legend"]) * 1.15
        x = MARGIN
        for swatch, entry in line:
            _draw_swatch(fig, swatch, x, y + 0.01, line_height(SIZE["legend"]))
            fig.text((x + SIZE["legend"] / 72 * 1.5) / WIDTH, (y + 0.01) / height, swatch.label,
                     fontsize=SIZE["legend"], color=INK, ha="left", va="baseline")
            x += entry
    if legend:
        y -= gap
    chart_top = y - top_pad
    chart = (MARGIN + label_width, chart_top - chart_height, width - label_width - right_width, chart_height)
    y = chart_top - chart_height - gap * 1.5
    for line, size, weight, colour in footer:
        y -= line_height(size)
        fig.text(MARGIN / WIDTH, y / height, line, fontsize=size, fontweight=weight, color=colour,
                 ha="left", va="baseline")
    return Page(fig, chart, height)


def label_column(labels: list[str], size: float, limit: float = 2.6, weight: str = "normal") -> float:
    """The width (inches) of a column holding `labels` wrapped at `limit` inches."""
    widest = max((text_width(line, size, weight) for label in labels for line in wrap(label, limit, size, weight)),
                 default=0.0)
    return min(widest, limit) + 0.1


def strip_axes(ax) -> None:
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.patch.set_alpha(0)


def row_label(ax, y: float, label: str, width: float, size: float = SIZE["label"], weight: str = "normal",
              colour: str = INK) -> int:
    """A label right-aligned against the chart's left edge, centred on data y; returns its line count."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    lines = wrap(label, width - 0.1, size, weight)
    base = blended_transform_factory(ax.transAxes, ax.transData)
    shift = ScaledTranslation(-0.08, 0, ax.figure.dpi_scale_trans)
    ax.text(0, y, "\n".join(lines), transform=base + shift, ha="right", va="center", fontsize=size,
            fontweight=weight, color=colour, linespacing=1.15)
    return len(lines)


def heading(ax, y: float, text: str, left: float) -> None:
    """A block heading starting at the figure's left margin, at data y."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    base = blended_transform_factory(ax.transAxes, ax.transData)
    ax.text(0, y, text, transform=base + ScaledTranslation(-left, 0, ax.figure.dpi_scale_trans), ha="left",
            va="center", fontsize=SIZE["heading"], fontweight="bold", color=INK)


def rows_height(lines: Iterator[int], size: float = SIZE["label"], minimum: float = 0.24) -> list[float]:
    """Per-row heights (inches) for rows whose labels take the given number of lines."""
    return [max(minimum, n * size * 1.15 / 72 + 0.08) for n in lines]
