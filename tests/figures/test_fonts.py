"""The figures' fonts embedded in the HTML reports (pipeline/figures/fonts.py)."""

import base64
import io
import re

from fontTools.ttLib import TTFont

from pipeline.figures.fonts import faces, font_face_css, font_file

SVG = """<svg><g><text style="font-size: 7px; font-family: 'DejaVu Sans', sans-serif; fill: #1a1a1a">Men &amp; 58%</text>
<text style="font-weight: 700; font-size: 7.5px; font-family: 'DejaVu Sans', sans-serif">Total</text></g></svg>"""
OTHER = """<svg><text style="font-family: 'DejaVu Sans'">Ωz</text><path d="M 0 0"/></svg>"""


def embedded(css: str) -> dict[int, TTFont]:
    rules = re.findall(r"font-weight: (\d+);.*?base64,([A-Za-z0-9+/=]+)", css)
    return {int(weight): TTFont(io.BytesIO(base64.b64decode(data))) for weight, data in rules}


def test_faces_collects_the_characters_of_each_face():
    assert faces([SVG, OTHER]) == {("DejaVu Sans", 400, "normal"): " %&58MenzΩ",
                                   ("DejaVu Sans", 700, "normal"): "Talot"}


def test_each_embedded_face_holds_exactly_the_characters_drawn_with_it():
    css = font_face_css([SVG, OTHER])
    assert css.count("@font-face") == 2
    fonts = embedded(css)
    regular = set(chr(code) for code in fonts[400].getBestCmap())
    bold = set(chr(code) for code in fonts[700].getBestCmap())
    assert regular == set(" %&58MenzΩ")
    assert bold == set("Tlaot")
    assert fonts[700]["name"].getDebugName(2) == "Bold"
    assert fonts[400]["name"].getDebugName(1) == "DejaVu Sans"


def test_the_rules_are_the_same_bytes_on_every_run():
    assert font_face_css([SVG]) == font_face_css([SVG])


def test_no_text_or_an_unknown_family_embeds_nothing():
    assert font_face_css(["<svg><path d='M 0 0'/></svg>"]) == ""
    assert font_file("No Such Family Anywhere", 400, "normal") is None
    assert font_face_css(["<svg><text style=\"font-family: 'No Such Family Anywhere'\">a</text></svg>"]) == ""
