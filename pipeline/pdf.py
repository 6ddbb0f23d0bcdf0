"""Writing the report's PDF with WeasyPrint, reproducibly and fast.

WeasyPrint (60 to 70 at least) draws an SVG `<text>` one letter at a time: every character gets its own
Pango layout, line break and text object, which made the figures' labels most of the report stage's time.
The figures' SVGs never position letters on their own (one `x` and one `y` per `<text>`, no `dx`, `dy`,
`rotate`, `textLength`, letter spacing or child `<tspan>`), so `whole_runs` draws each such `<text>` as one
run: one layout, one text object, the same font, size, weight, fill and anchor, with the font's kerning.
Any other text goes to WeasyPrint's own drawing. The patch is installed only while a PDF is written, and
only when WeasyPrint's SVG module has the shape it was written for; otherwise WeasyPrint draws as usual.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from math import inf
from pathlib import Path
from typing import Callable, Iterator

PER_LETTER = ("dx", "dy", "rotate", "textLength", "letter-spacing")


def _single(value: str | None) -> bool:
    return value is None or len(value.replace(",", " ").split()) <= 1


def _font_style(node, font_size, svg):
    """The dummy computed style WeasyPrint's own `text` builds for a node (same keys, same defaults)."""
    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.svg.text import Style

    style = Style()
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = [font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")]
    style["font_style"] = node.get("font-style", "normal")
    style["font_size"] = font_size
    if node.get("direction") in ("ltr", "rtl"):
        style["direction"] = node.get("direction")
    weight = node.get("font-weight", 400)
    weight = {"normal": 400, "bold": 700}.get(weight, weight)
    try:
        style["font_weight"] = int(weight)
    except ValueError:
        style["font_weight"] = 400
    return style


def _is_simple(node) -> bool:
    """Whether `node` is a `<text>` with one position, plain text and nothing placed letter by letter."""
    return (node.tag == "text" and bool(node.text) and not list(node) and _single(node.attrib.get("x"))
            and _single(node.attrib.get("y")) and not any(key in node.attrib or node.get(key) for key in PER_LETTER)
            and node.get("dominant-baseline", node.get("alignment-baseline")) in (None, "auto", "alphabetic")
            and node.get("display-anchor") is None)


def _draw_run(svg, node, font_size) -> None:
    """Draw a simple `<text>` as one run, leaving the cursor and bounding box as WeasyPrint's letters would."""
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.text import TextBox
    from weasyprint.svg.utils import size
    from weasyprint.text.line_break import split_first_line

    style = _font_style(node, font_size, svg)
    layout, _, _, width, height, baseline = split_first_line(node.text, style, svg.context, inf, 0)
    x, y = svg.cursor_position
    if "x" in node.attrib:
        x = size(node.attrib["x"].strip(), font_size, svg.inner_width)
        svg.cursor_d_position[0] = 0
    if "y" in node.attrib:
        y = size(node.attrib["y"].strip(), font_size, svg.inner_height)
        svg.cursor_d_position[1] = 0
    x_position, y_position = x + svg.cursor_d_position[0], y + svg.cursor_d_position[1]
    svg.cursor_position = x + width, y
    node.text_bounding_box = extend_bounding_box(
        node.text_bounding_box, ((x_position, y_position - baseline), (x_position + width, y_position - baseline + height)))
    svg.stream.push_state()
    fill, stroke = svg.set_graphical_state(node, font_size)
    svg.stream.begin_text()
    layout.reactivate(style)
    svg.fill_stroke(fill, stroke, text=True)
    box = TextBox(layout, style)
    box.baseline = baseline
    emojis = draw_first_line(svg.stream, box, "none", "none", Matrix(a=1, d=-1, e=x_position, f=y_position))
    svg.stream.end_text()
    svg.stream.pop_state()
    draw_emojis(svg.stream, style, x, y, emojis)


@contextlib.contextmanager
def whole_runs() -> Iterator[bool]:
    """While open, WeasyPrint draws simple SVG `<text>` elements as whole runs; yields whether it does
    (False when WeasyPrint's SVG module is not the shape this was written for)."""
    import weasyprint.svg as svg_module

    original = getattr(svg_module, "text", None)
    tags = getattr(svg_module, "TAGS", None)
    if not callable(original) or not isinstance(tags, dict) or tags.get("text") is not original:
        yield False
        return

    def text(svg, node, font_size):
        if _is_simple(node):
            return _draw_run(svg, node, font_size)
        return original(svg, node, font_size)

    patched = [key for key, value in tags.items() if value is original]
    svg_module.text = text
    tags.update(dict.fromkeys(patched, text))
    try:
        yield True
    finally:
        svg_module.text = original
        tags.update(dict.fromkeys(patched, original))


_SHARED: dict | None = None


@contextlib.contextmanager
def shared_pdf_process() -> Iterator[None]:
    """A block in which every `pdf_writer` hands its PDFs to one forked process, made when the first of them
    opens, so that WeasyPrint is loaded once for all the PDFs of a run; the process ends with the block, after
    the PDFs handed to it are written."""
    global _SHARED
    outer, _SHARED = _SHARED, {}
    try:
        yield
    finally:
        pool, _SHARED = _SHARED.get("pool"), outer
        if pool is not None:
            pool.shutdown()


@contextlib.contextmanager
def pdf_writer() -> Iterator[Callable[[str, Path, Path], None]]:
    """A function `pdf(html, path, base)` that has the PDF of `html` written (as `write_pdf`) by a forked process,
    which loads WeasyPrint while the caller builds the HTML: the process of the enclosing `shared_pdf_process`
    block, else one forked when this block opens. The PDFs are written by the time the block exits, and an error
    writing one is raised there. When only one CPU may be used they are written in this process as the block
    exits."""
    from pipeline.parallel import workers

    if workers(2) < 2:
        jobs: list[tuple] = []
        yield lambda *job: jobs.append(job)
        for job in jobs:
            write_pdf(*job)
    elif _SHARED is not None:
        if "pool" not in _SHARED:
            _SHARED["pool"] = _pdf_process()
        yield from _handing_to(_SHARED["pool"])
    else:
        with _pdf_process() as pool:
            yield from _handing_to(pool)


def _pdf_process():
    """A process pool of one forked process, already loading WeasyPrint."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    pool.submit(_load_weasyprint)
    return pool


def _handing_to(pool) -> Iterator[Callable[[str, Path, Path], None]]:
    """Yields `pdf(html, path, base)`, which submits `write_pdf` to `pool`; then waits for every PDF submitted."""
    written = []
    yield lambda *job: written.append(pool.submit(write_pdf, *job))
    for future in written:
        future.result()


def _load_weasyprint() -> None:
    """Import WeasyPrint and lay out a one-line page, which loads Pango and the system's font configuration."""
    import weasyprint

    weasyprint.HTML(string="<p>pulse</p>").render()


def write_pdf(html: str, path: Path, base: Path) -> None:
    """The PDF of `html` (WeasyPrint; relative URLs resolved against `base`), reproducible: no dates, an
    identifier from the HTML, SOURCE_DATE_EPOCH pinned while writing."""
    from pipeline.outputs import atomic_path

    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        import weasyprint

        with whole_runs():
            document = weasyprint.HTML(string=html, base_url=str(base)).render()
            with atomic_path(path) as temporary:
                document.write_pdf(temporary, pdf_identifier=hashlib.sha256(html.encode()).hexdigest()[:32].encode())
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
