"""The report stage: report.html and report.pdf from the figures, on the tiny survey and on the bundled
Risk Pulse example wave."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
import yaml

from pipeline.figures import run_figures
from pipeline.params import load_params
from pipeline.report import run_report, sha256

from tests.figures.helpers import REPO, fact_problems, risk_pulse_project, tiny_project

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Checker(HTMLParser):
    """Collects links and ids, and every tag that is closed out of order or left open."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.links, self.ids, self.tags, self.text = [], [], [], set(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attributes = dict(attrs)
        self.links += [(tag, name, value) for name, value in attrs if name in ("src", "href", "xlink:href", "action")]
        if "id" in attributes:
            if attributes["id"] in self.ids:
                self.problems.append(f"duplicate id {attributes['id']}")
            self.ids.add(attributes["id"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [(tag, name, value) for name, value in attrs if name in ("src", "href", "xlink:href")]
        if "id" in dict(attrs):
            self.ids.add(dict(attrs)["id"])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] not in ("style", "script"):
            self.text.append(data)


def parse(html: str) -> Checker:
    checker = Checker()
    checker.feed(html)
    checker.close()
    if checker.stack:
        checker.problems.append(f"left open: {checker.stack}")
    return checker


def squash(text: str) -> str:
    return " ".join(text.split())


def pdf_pages(path) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return [squash(page) for page in text.split("\f") if page.strip()]


def check_report(wave):
    """Structure shared by every report: returns (index, checker, pages)."""
    index = json.loads((wave.out_dir / "figures" / "index.json").read_text(encoding="utf-8"))
    html = (wave.out_dir / "report.html").read_text(encoding="utf-8")
    checker = parse(html)
    assert checker.problems == []
    assert "script" not in checker.tags and "link" not in checker.tags and "img" not in checker.tags
    csv_links = set()
    for tag, name, value in checker.links:
        if value.startswith("#"):
            assert value[1:] in checker.ids, f"{value} points nowhere"
        else:
            assert re.fullmatch(r"figures/[a-z0-9_-]+\.csv", value), f"external link {tag} {name}={value}"
            assert (wave.out_dir / value).exists()
            csv_links.add(value)
    assert not re.search(r"@import|url\((?!#)", html), "CSS fetches something"
    text = squash(" ".join(checker.text))
    for entry in index["figures"]:
        assert f"figure-{entry['id']}" in checker.ids
        assert squash(entry["headline"]) in text
        assert f"figures/{entry['files']['csv']}" in csv_links
    assert checker.tags.count("svg") == len(index["figures"]) and checker.tags.count("details") >= 2 * len(index["figures"])
    pages = pdf_pages(wave.out_dir / "report.pdf")
    whole = " ".join(pages)
    for entry in index["figures"]:
        assert squash(entry["headline"]) in whole, entry["id"]
        assert squash(entry["title"]) in whole
        assert any(re.search(rf"\bfigure {entry['number']}\b", page, re.I) for page in pages)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    if wave.synthetic:
        assert "SYNTHETIC EXAMPLE DATA" in html.split("<main>")[0]
        assert all("SYNTHETIC EXAMPLE DATA — not the survey's real responses" in page for page in pages)
    if shutil.which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(wave.out_dir / "report.pdf")], check=True, capture_output=True, text=True).stdout
        rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
        assert rows and all(row[-5] == "yes" for row in rows), fonts
    return index, checker, pages


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    wave = tiny_project(tmp_path_factory.mktemp("tiny"))
    params = load_params(wave.root)
    run_figures(wave, params)
    lines = run_report(wave, params)
    return wave, lines


def test_tiny_report_holds_every_figure_in_html_and_pdf(tiny_report):
    wave, lines = tiny_report
    assert lines[0].startswith("report.html and report.pdf with 7 figures in 4 sections")
    index, checker, pages = check_report(wave)
    text = squash(" ".join(checker.text))
    assert "Free-text answers will be summarised here." in text
    assert "Respondents kept 4" in text and "Rows in the export 8" in text
    assert sha256(wave.export_path) in text
    for entry in index["figures"]:
        assert not fact_problems(entry, wave.out_dir / "tables")


def test_reruns_are_byte_identical(tiny_report):
    wave, _ = tiny_report
    before = {name: (wave.out_dir / name).read_bytes() for name in ("report.html", "report.pdf")}
    run_report(wave, load_params(wave.root))
    assert all((wave.out_dir / name).read_bytes() == data for name, data in before.items())


def test_text_from_the_instrument_is_escaped(tmp_path):
    wave = tiny_project(tmp_path)
    path = wave.instrument_path
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["title"] = "Tiny <b>survey</b>"
    raw["questions"][0]["short"] = "<script>alert(1)</script>"
    raw["questions"][0]["text"] = "Do you agree? <script>alert(2)</script>"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    report = wave.survey_dir / "report.yaml"
    report.write_text(report.read_text(encoding="utf-8").replace("title: Tiny survey report\n", ""), encoding="utf-8")
    params = load_params(wave.root)
    run_figures(wave, params)
    run_report(wave, params)
    html = (wave.out_dir / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<b>survey</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Tiny &lt;b&gt;survey&lt;/b&gt;" in html
    assert parse(html).problems == []


def test_missing_figures_are_reported_in_one_line(tmp_path):
    from pipeline.errors import PulseError

    wave = tiny_project(tmp_path)
    with pytest.raises(PulseError) as caught:
        run_report(wave, load_params(wave.root))
    assert caught.value.messages[0].endswith("run `pulse figures` for this wave first")


@pytest.mark.skipif(not (REPO / "surveys" / "risk-pulse" / "2024-05" / "responses.csv").exists(),
                    reason="the Risk Pulse example export has not been generated")
def test_risk_pulse_end_to_end(tmp_path):
    wave = risk_pulse_project(tmp_path)
    params = load_params(wave.root)
    lines = run_figures(wave, params)
    assert lines[0].startswith("20 figures, ")
    run_report(wave, params)
    index, checker, pages = check_report(wave)
    for entry in index["figures"]:
        assert not fact_problems(entry, wave.out_dir / "tables")
    headlines = {e["id"]: e["headline"] for e in index["figures"]}
    assert sum(e["claim"] for e in index["figures"]) >= 18
    assert all(e["headline"] == e["title"] for e in index["figures"] if not e["claim"])
    assert len(lines) - 1 == sum(not e["claim"] for e in index["figures"])
    assert re.fullmatch(r"\d+% of respondents are concerned or very concerned about harms from AI in the next 18 months",
                        headlines["concern-overall"])
    assert all(e["basis"] for e in index["figures"] if e["id"].startswith(("harm-weog", "harm-gender", "concern-region")))
    text = squash(" ".join(checker.text))
    for heading in ("Sample overview", "Views on acceleration", "Risk of harm over the next 18 months",
                    "Change in concern", "Groups of particular concern", "Methods"):
        assert heading in text and heading in " ".join(pages)
