"""The figures' fonts for the HTML reports.

The figures' SVGs keep their text as text (selectable, searchable, read by screen readers, and a fifth of
the size of text drawn as outlines), laid out by matplotlib with the metrics of its own fonts. A browser
without those fonts would substitute others of different widths, so the HTML report embeds the faces the
figures use, cut down to the characters they use, as WOFF2 in `@font-face` rules.
"""

from __future__ import annotations

import base64
import html
import io
import re
from functools import lru_cache
from typing import Iterable

_TEXT = re.compile(r"<text\b([^>]*)>(.*?)</text>", re.S)
_STYLE = re.compile(r'\bstyle="([^"]*)"')
_TAG = re.compile(r"<[^>]+>")
WEIGHTS = {"normal": 400, "bold": 700}


def _declarations(style: str) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in style.split(";") if ":" in part)
    return {key.strip(): value.strip() for key, value in pairs}


def faces(svgs: Iterable[str]) -> dict[tuple[str, int, str], str]:
    """The characters each face draws, by (family, weight, style), over the `<text>` elements of `svgs`
    (family: the first of the element's font-family list; weight 400 and style normal unless stated)."""
    found: dict[tuple[str, int, str], set[str]] = {}
    for svg in svgs:
        for attributes, content in _TEXT.findall(svg):
            style = _STYLE.search(attributes)
            declared = _declarations(html.unescape(style.group(1))) if style else {}
            family = declared.get("font-family", "sans-serif").split(",")[0].strip().strip("'\"")
            weight = declared.get("font-weight", "normal")
            key = (family, WEIGHTS.get(weight) or int(weight), declared.get("font-style", "normal"))
            found.setdefault(key, set()).update(html.unescape(_TAG.sub("", content)))
    return {key: "".join(sorted(characters - {"\n"})) for key, characters in sorted(found.items())}


@lru_cache(maxsize=None)
def font_file(family: str, weight: int, style: str) -> str | None:
    """The path of the font file matplotlib draws this face with; None when it has no font of that family
    (then the browser's own substitute is left to show the text)."""
    from matplotlib import font_manager

    try:
        return font_manager.findfont(font_manager.FontProperties(family=family, weight=weight, style=style),
                                     fallback_to_default=False)
    except ValueError:
        return None


def woff2(path: str, characters: str) -> bytes:
    """The font at `path` cut down to `characters` (with kerning and ligature tables), as WOFF2 bytes; the same
    bytes for the same font and characters."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["kern", "liga"]
    options.notdef_outline = True
    font = subset.load_font(path, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


def font_face_css(svgs: Iterable[str]) -> str:
    """`@font-face` rules embedding, for each face the SVGs' text uses and matplotlib has, exactly the
    characters drawn with it ("" when there is no text)."""
    import logging

    logging.getLogger("fontTools").setLevel(logging.ERROR)
    rules = []
    for (family, weight, style), characters in faces(svgs).items():
        path = font_file(family, weight, style)
        if path is None or not characters:
            continue
        data = base64.b64encode(woff2(path, characters)).decode("ascii")
        rules.append(f"@font-face {{ font-family: '{family}'; font-weight: {weight}; font-style: {style}; "
                     f"src: url(data:font/woff2;base64,{data}) format('woff2'); }}")
    return "\n".join(rules)
