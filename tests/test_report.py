"""The report stage: report.html and report.pdf from the figures, on the tiny survey and on the bundled
Risk Pulse example wave."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
import yaml

from pipeline import format as fmt
from pipeline.figures import run_figures
from pipeline.params import load_params
from pipeline.report import run_report, sha256

from pipeline.figures.tables import read_table

from tests.figures.helpers import REPO, bundled_project, fact_problems, risk_pulse_project, tiny_project

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


def unhyphenated(text: str) -> str:
    """Text without hyphens: pdftotext joins a word hyphenated at a line end ("lower-|income" → "lowerincome")."""
    return text.replace("-", "")


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
    assert not re.search(r"@import|url\((?!#|data:)", html), "CSS fetches something"
    text = squash(" ".join(checker.text))
    for entry in index["figures"]:
        assert f"figure-{entry['id']}" in checker.ids
        assert squash(entry["headline"]) in text
        assert f"figures/{entry['files']['csv']}" in csv_links
    assert checker.tags.count("svg") == len(index["figures"]) and checker.tags.count("details") >= 2 * len(index["figures"])
    pages = pdf_pages(wave.out_dir / "report.pdf")
    whole = unhyphenated(" ".join(pages))
    for entry in index["figures"]:
        assert unhyphenated(squash(entry["headline"])) in whole, entry["id"]
        assert unhyphenated(squash(entry["title"])) in whole
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


def test_the_html_embeds_each_font_face_its_figures_use(tiny_report):
    from pipeline.figures.fonts import faces

    wave, _ = tiny_report
    html = (wave.out_dir / "report.html").read_text(encoding="utf-8")
    used = faces([html])
    assert ("DejaVu Sans", 700, "normal") in used and ("DejaVu Sans", 400, "normal") in used
    declared = re.findall(r"@font-face \{ font-family: '([^']+)'; font-weight: (\d+); font-style: (\w+);", html)
    assert sorted((family, int(weight), style) for family, weight, style in declared) == sorted(used)


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


RISK_EXPORT = REPO / "surveys" / "risk-pulse" / "2024-05" / "responses.csv"
SCAN_EXPORT = REPO / "surveys" / "opportunity-scan" / "2024-08" / "responses.csv"


@pytest.fixture(scope="module")
def risk_report(tmp_path_factory):
    if not RISK_EXPORT.exists():
        pytest.skip("the Risk Pulse example export has not been generated")
    wave = risk_pulse_project(tmp_path_factory.mktemp("risk"))
    params = load_params(wave.root)
    lines = run_figures(wave, params)
    run_report(wave, params)
    index, checker, pages = check_report(wave)
    return wave, lines, index, checker, pages


def test_risk_pulse_end_to_end(risk_report):
    wave, lines, index, checker, pages = risk_report
    assert lines[0].startswith("25 figures, ")
    for entry in index["figures"]:
        assert not fact_problems(entry, wave.out_dir / "tables")
    headlines = {e["id"]: e["headline"] for e in index["figures"]}
    assert sum(e["claim"] for e in index["figures"]) >= 23
    assert all(e["headline"] == e["title"] for e in index["figures"] if not e["claim"])
    assert len(lines) - 1 == sum(not e["claim"] for e in index["figures"])
    assert re.fullmatch(r"\d+% of respondents are concerned or very concerned about harms from AI in the next 18 months",
                        headlines["concern-overall"])
    assert all(e["basis"] for e in index["figures"] if e["id"].startswith(("harm-weog", "harm-gender", "concern-region")))
    text = squash(" ".join(checker.text))
    for heading in ("Sample overview", "Views on acceleration", "Risk of harm over the next 18 months",
                    "Change in concern", "Groups of particular concern", "Methods"):
        assert heading in text and heading in " ".join(pages)


NEW_KINDS = ("keywords", "keyword-bars", "choices", "models", "pairs")


def test_new_figures_are_in_the_html_and_the_pdf(risk_report):
    wave, _, index, checker, pages = risk_report
    new = [e for e in index["figures"] if e["kind"] in NEW_KINDS]
    assert {e["kind"] for e in new} == {"keywords", "keyword-bars", "choices", "models"}
    html = (wave.out_dir / "report.html").read_text(encoding="utf-8")
    whole = unhyphenated(" ".join(pages))
    text = squash(" ".join(checker.text))
    for entry in new:
        assert f'id="figure-{entry["id"]}"' in html
        assert squash(entry["headline"]) in text and unhyphenated(squash(entry["headline"])) in whole
        assert unhyphenated(squash(entry["title"])) in whole


def test_groups_of_concern_headline_and_figure_follow_keywords_csv(risk_report):
    wave, _, index, checker, pages = risk_report
    keywords = read_table(wave.out_dir / "tables" / "keywords.csv")
    tags = keywords[keywords["question"] == "groups_of_concern"]
    shown = tags[tags["shown"]].sort_values("mentions", ascending=False, kind="stable")
    first, second = shown.iloc[0], shown.iloc[1]
    entry = next(e for e in index["figures"] if e["kind"] == "keywords")
    assert entry["headline"] == (f"The {first['label']} ({int(first['mentions'])} of {first['meaningful_answers']} meaningful "
                                 f"answers) and {second['label'][0].lower()}{second['label'][1:]} ({int(second['mentions'])}) "
                                 f"are the groups most often named")
    drawn = read_table(wave.out_dir / "figures" / entry["files"]["csv"])
    assert list(drawn["tag"]) == list(shown["tag"])
    assert set(drawn["tag"]) == set(tags.loc[tags["shown"], "tag"])
    order = drawn.sort_values("mentions", kind="stable")
    assert order["size"].is_monotonic_increasing
    assert (drawn.groupby("mentions")["size"].nunique() == 1).all()
    svg = (wave.out_dir / "figures" / entry["files"]["svg"]).read_text(encoding="utf-8")
    for label in shown["label"]:
        assert label.replace("&", "&amp;") in svg
    for label in tags.loc[~tags["shown"], "label"]:
        assert label not in svg
    ranked = next(e for e in index["figures"] if e["kind"] == "keyword-bars")
    bars = read_table(wave.out_dir / "figures" / ranked["files"]["csv"])
    assert list(bars["tag"]) == list(drawn["tag"])
    assert f"n = {first['meaningful_answers']} meaningful answers" in squash(" ".join(pages))


def test_choice_figures_mark_the_per_tag_tests(risk_report):
    wave, _, index, _, _ = risk_report
    tests = read_table(wave.out_dir / "tables" / "tests.csv")
    for entry in (e for e in index["figures"] if e["kind"] == "choices"):
        drawn = read_table(wave.out_dir / "figures" / entry["files"]["csv"])
        breakdown = next(b for b in entry["breakdowns"] if b != "all")
        for record in drawn[drawn["breakdown"] == breakdown].itertuples(index=False):
            row = tests[(tests["question"] == f"groups_of_concern_tags:{record.code}") & (tests["breakdown"] == breakdown)]
            assert len(row) == 1 and row.iloc[0]["q_value"] == pytest.approx(record.q_value)
        assert set(drawn["breakdown"]) <= {"all", breakdown}


def test_adjusted_comparison_headline_is_counted_from_models_csv(risk_report):
    wave, _, index, _, pages = risk_report
    entry = next(e for e in index["figures"] if e["kind"] == "models")
    models = read_table(wave.out_dir / "tables" / "models.csv")
    gender = models[models["question"].isin(entry["questions"]) & (models["term"] == "gender")]
    survives = int(((gender["ci_low"] > 1) | (gender["ci_high"] < 1)).sum())
    expected = "all 14" if survives == len(gender) == 14 else f"{survives} of {len(gender)}"
    assert entry["headline"].startswith("The gender gap survives adjustment for ")
    assert entry["headline"].endswith(f"in {expected} areas")
    drawn = read_table(wave.out_dir / "figures" / entry["files"]["csv"])
    assert set(drawn["term"]) == {"gender", "weog", "technical"}
    if drawn["po_violated"].astype(str).str.lower().eq("true").any():
        assert "proportional-odds test rejected" in squash(" ".join(pages))


def test_no_double_coding_is_said_and_no_answer_is_published(risk_report):
    import pandas as pd

    wave, _, _, checker, pages = risk_report
    text = squash(" ".join(checker.text))
    agreement = read_table(wave.out_dir / "tables" / "coding_agreement.csv")
    if agreement.empty:
        assert "No manual double-coding was done" in text and "No manual double-coding was done" in " ".join(pages)
    clean = pd.read_parquet(wave.out_dir / "clean.parquet")
    html = (wave.out_dir / "report.html").read_text(encoding="utf-8")
    answers = [a for a in clean["groups_of_concern"].dropna().astype(str) if len(a) > 40]
    assert answers and not [a for a in answers if squash(a) in text or a in html]


def test_the_last_pdf_page_is_not_nearly_empty(risk_report):
    _, _, _, _, pages = risk_report
    lines = [len(p.split()) for p in pages]
    assert lines[-1] >= 0.25 * sorted(lines)[len(lines) // 2], lines


def test_a_group_keeps_its_colour_across_figures(risk_report):
    from pipeline.figures import dots
    from pipeline.figures.names import Names
    from pipeline.figures.spec import load as load_spec
    from pipeline.figures.tables import load_tables
    from pipeline.instrument import load as load_instrument

    wave = risk_report[0]
    instrument = load_instrument(wave.instrument_path)
    spec = load_spec(wave.survey_dir / "report.yaml", instrument)
    names, tables = Names(instrument, spec.nouns), load_tables(wave.out_dir / "tables")
    seen = {}
    for figure in spec.figures:
        if figure.kind == "dots" and ({"weog", "un_group"} & set(figure.breakdowns)):
            frame = dots.describe(figure, tables, names)
            seen[figure.id] = dots.look(frame, figure, names, 10, 0.05).colours["WEOG"]
    assert len(seen) == 2 and len(set(seen.values())) == 1, seen


@pytest.fixture(scope="module")
def scan_report(tmp_path_factory):
    if not SCAN_EXPORT.exists():
        pytest.skip("the Opportunity Scan example export has not been generated")
    wave = bundled_project(tmp_path_factory.mktemp("scan"), "opportunity-scan", "2024-08")
    params = load_params(wave.root)
    lines = run_figures(wave, params)
    run_report(wave, params)
    index, checker, pages = check_report(wave)
    return wave, lines, index, checker, pages


def test_opportunity_scan_end_to_end(scan_report):
    wave, lines, index, checker, pages = scan_report
    assert len(lines) == 1, lines
    for entry in index["figures"]:
        assert not fact_problems(entry, wave.out_dir / "tables")
    assert all(e["claim"] for e in index["figures"])
    text = squash(" ".join(checker.text))
    for heading in ("Sample overview", "Contribution of AI so far", "Expected contribution over the next three years",
                    "When a major positive impact is likely", "Barriers faced by lower-income countries", "Methods"):
        assert heading in text and heading in " ".join(pages)
    assert {e["kind"] for e in index["figures"]} >= {"pairs", "stacked", "bars", "crosstab"}


def test_timing_headline_quotes_the_top_box_shares(scan_report):
    wave, _, index, _, _ = scan_report
    entry = next(e for e in index["figures"] if e["id"] == "timing-income")
    match = re.fullmatch(r"A major positive impact within three years or less is expected for (.+) by (\d+%) for "
                         r"higher-income countries but (\d+%) for lower-income countries", entry["headline"])
    assert match, entry["headline"]
    topbox = read_table(wave.out_dir / "tables" / "topbox.csv")
    values = [f for f in entry["facts"] if f["kind"] == "value"]
    assert [f["text"] for f in values] == [match.group(2), match.group(3)]
    for fact in values:
        row = topbox[(topbox["question"] == fact["where"]["question"]) & (topbox["breakdown"] == "all")].iloc[0]
        assert fact["text"] == fmt.percent(row["pct"])
    assert entry["basis"].startswith("Shares of all respondents")


def test_pairs_are_sorted_by_gap_and_marked_from_paired_csv(scan_report):
    wave, _, index, _, _ = scan_report
    paired = read_table(wave.out_dir / "tables" / "paired.csv")
    figures = [e for e in index["figures"] if e["kind"] == "pairs"]
    assert {tuple(sorted(set(paired.loc[paired["pair"].isin(read_table(wave.out_dir / "figures" / e["files"]["csv"])["pair"]),
                                        "group"]))) for e in figures} == {("so_far",), ("three_years",), ("timing",)}
    for entry in figures:
        drawn = read_table(wave.out_dir / "figures" / entry["files"]["csv"])
        gaps = list(drawn["mean_diff"].abs())
        assert gaps == sorted(gaps, reverse=True)
        merged = drawn.merge(paired, on="pair", suffixes=("", "_table"))
        assert (merged["mean_diff"] == merged["mean_diff_table"]).all()
        assert (merged["q_value"].fillna(-1) == merged["q_value_table"].fillna(-1)).all()


def test_not_asked_is_visible_with_the_number_from_the_tables(scan_report):
    wave, _, index, _, pages = scan_report
    distributions = read_table(wave.out_dir / "tables" / "distributions.csv")
    asked = distributions[(distributions["question"] == "lmic_expertise") & (distributions["breakdown"] == "all")
                          & (distributions["level"] == "Yes")]["count"].iloc[0]
    note = f"asked only of the {int(asked)} respondents who answered “Yes”"
    lower = [e for e in index["figures"] if any("_lo_" in q or q.startswith("barrier_") for q in e["questions"])]
    assert len(lower) >= 6
    for entry in lower:
        svg = (wave.out_dir / "figures" / entry["files"]["svg"]).read_text(encoding="utf-8")
        assert note in squash(svg.replace("\n", " ")) or note in squash(re.sub(r"<[^>]+>", " ", svg)), entry["id"]
    stacked = next(e for e in index["figures"] if e["id"] == "sofar-income")
    drawn = read_table(wave.out_dir / "figures" / stacked["files"]["csv"])
    svg = (wave.out_dir / "figures" / stacked["files"]["svg"]).read_text(encoding="utf-8")
    for n in drawn["n"].unique():
        assert f"n={int(n)}" in svg
    assert unhyphenated(note) in unhyphenated(" ".join(pages))
