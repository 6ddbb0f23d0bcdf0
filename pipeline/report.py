"""The report stage: figures/index.json + figure files + tables + ledger → report.html and report.pdf.

Both documents come from the same Jinja templates (`templates/report.html.j2`, medium "html" or "pdf"),
rendered with autoescaping and StrictUndefined. Everything shown is prepared here as formatted text
(pipeline.format); templates only place it. The HTML is self-contained: figures are inlined SVG (their
element ids prefixed per figure, their text kept as text in the embedded subset of their fonts,
pipeline.figures.fonts), CSS is inline, and the only links leaving the page are the relative links to
each figure's CSV. The PDF is A4 with page numbers, a running header and, for synthetic
data, a banner on every page; its HTML (never written) links each figure's SVG as an image rather
than inlining it, so WeasyPrint parses it as SVG, not as HTML to style (pipeline.pdf writes it).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import format as fmt
from pipeline.errors import PulseError
from pipeline.figures.notes import fielding
from pipeline.project import Wave

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE = "report.html.j2"
BANNER = "SYNTHETIC EXAMPLE DATA — not the survey's real responses"
SOFTWARE = ("pulse-pipeline", "pandas", "numpy", "scipy", "statsmodels", "pyarrow", "matplotlib", "jinja2", "weasyprint")
REASONS = {
    "test_or_preview": "Test or preview responses",
    "no_consent": "Consent not given",
    "empty": "No answer to any question",
    "duplicate_submission": "Earlier submissions superseded by a later one from the same respondent",
}
FLAGS = {
    "unknown_country": "a country name that could not be matched (kept, regional group Unknown)",
    "answered_when_not_asked": "an answer to a question the respondent was not meant to see (set to not asked)",
}
RULES = {
    "country": "the country named, normalised to its ISO 3166 alpha-3 code through the package's alias table",
    "nationality": ("one nationality per respondent: the only one given; else the country of residence if it is "
                    "one of them; else the one held by the fewest respondents in the sample"),
    "un_group": "the UN regional group of the country (African, Asia-Pacific, Eastern European, GRULAC, WEOG)",
    "income_group": "the World Bank income group of the country",
    "recode": "a recode of another variable",
    "selected": "whether a choice was selected in a multi-select question",
}
TESTS = {
    "mann-whitney": "Mann–Whitney U test (two groups, ordinal answers); effect: rank-biserial correlation",
    "kruskal-wallis": "Kruskal–Wallis test (three or more groups, ordinal answers); effect: epsilon-squared",
    "chi-square": "Pearson chi-square test of independence; effect: Cramér's V",
    "fisher-exact": "Fisher's exact test (2 × 2 tables with small expected counts)",
    "monte-carlo": "Monte Carlo exact test of independence (tables with small expected counts)",
    "two-proportion-z": "two-proportion z-test of top-box shares, with a Newcombe interval for the difference",
}
SHORT_TESTS = {"mann-whitney": "Mann–Whitney", "kruskal-wallis": "Kruskal–Wallis", "chi-square": "Chi-square",
               "fisher-exact": "Fisher's exact", "monte-carlo": "Monte Carlo exact"}
CORRECTIONS = {"fdr_bh": "Benjamini–Hochberg false discovery rate", "holm": "Holm–Bonferroni"}
LEVEL_KINDS = ("stacked", "crosstab", "bars")
POOLED = "all"  # the `tag` of the pooled row of coding_agreement.csv
READ_TABLES = ("distributions", "topbox", "means", "tests", "models", "paired", "keywords", "coding_agreement")


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool = False


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Figures ----------------------------------------------------------------------------------------------

_XML_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>", re.S)


def inline_svg(text: str, prefix: str) -> str:
    """A matplotlib SVG ready to inline in HTML: no prolog, doctype, comments or metadata, ids prefixed
    with `prefix` (so several figures can share a page), sized by CSS (viewBox kept), hidden from
    assistive technology (the surrounding element carries the alt text)."""
    svg = _XML_PROLOG.sub("", text).strip()
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}-{m.group(2)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    svg = re.sub(r'<svg\b([^>]*?)\s+width="[^"]*"\s+height="[^"]*"', r"<svg\1", svg, count=1)
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" preserveAspectRatio="xMinYMin meet" ', 1)


def _names(wave: Wave):
    from pipeline.figures.names import Names
    from pipeline.figures.spec import load as load_spec
    from pipeline.instrument import load

    instrument = load(wave.instrument_path)
    spec = load_spec(wave.survey_dir / "report.yaml", instrument)
    return instrument, spec, Names(instrument, spec.nouns)


def _answer_rows(frame: pd.DataFrame, names) -> tuple[list[Cell], list[list[Cell]]]:
    groups = list(dict.fromkeys(zip(frame["breakdown"], frame["group"])))
    sizes = {key: part.iloc[0] for key, part in frame.groupby(["breakdown", "group"], sort=False)}
    head = [Cell("Answer")] + [Cell(fmt.n_label(names.group(b, g), sizes[(b, g)]["n"]), True) for b, g in groups]
    body = []
    for level, part in frame.groupby("level", sort=False):
        by_group = {(r.breakdown, r.group): r for r in part.itertuples(index=False)}
        body.append([Cell(level)] + [Cell("not shown" if by_group[key].suppressed else
                                          f"{fmt.percent(by_group[key].pct)} ({fmt.count(by_group[key].count)})", True)
                                     for key in groups])
    return head, body


def _level_table(frame: pd.DataFrame, kind: str, names) -> tuple[list[Cell], list[list[Cell]]]:
    if kind == "bars":
        return _answer_rows(frame, names)
    several_questions = frame["question"].nunique() > 1
    levels = list(dict.fromkeys(frame["level"]))
    head = [Cell(c) for c in (["Question"] if several_questions else []) + ["Group"]]
    head += [Cell("n", True)] + [Cell(level, True) for level in levels]
    body = []
    keys = ["question", "breakdown", "group"]
    for key, part in frame.groupby(keys, sort=False):
        first = part.iloc[0]
        row = [Cell(names.question_short(first["question"]))] if several_questions else []
        row += [Cell(names.group(first["breakdown"], first["group"])), Cell(fmt.count(first["n"]), True)]
        if bool(first["suppressed"]):
            row += [Cell("not shown", True) for _ in levels]
        else:
            by_level = dict(zip(part["level"], part["pct"]))
            row += [Cell(fmt.percent(by_level[level]), True) for level in levels]
        body.append(row)
    return head, body


def _mean_table(frame: pd.DataFrame, names) -> tuple[list[Cell], list[list[Cell]]]:
    head = [Cell("Item"), Cell("Group"), Cell("n", True), Cell("Mean", True), Cell("Interval", True), Cell("Test"),
            Cell("q", True)]
    body = []
    for record in frame.itertuples(index=False):
        hidden = bool(record.suppressed)
        body.append([
            Cell(names.question_short(record.question)), Cell(names.group(record.breakdown, record.group)),
            Cell(fmt.count(record.n), True), Cell("not shown" if hidden else fmt.mean(record.mean), True),
            Cell("" if hidden else f"{fmt.mean(record.ci_low)}–{fmt.mean(record.ci_high)}", True),
            Cell(SHORT_TESTS.get(record.test, record.test) if isinstance(record.test, str) else ""),
            Cell("" if pd.isna(record.q_value) else fmt.pvalue(record.q_value), True),
        ])
    return head, body


def _tag_table(frame: pd.DataFrame, names) -> tuple[list[Cell], list[list[Cell]]]:
    head = [Cell("Tag"), Cell("Answers naming it", True), Cell("Share of meaningful answers", True)]
    body = [[Cell(r.label), Cell(fmt.count(r.mentions), True), Cell(fmt.percent(r.pct), True)]
            for r in frame.itertuples(index=False)]
    if len(frame):
        body.append([Cell("Meaningful answers"), Cell(fmt.count(frame["meaningful_answers"].iloc[0]), True), Cell("", True)])
    return head, body


def _choice_table(frame: pd.DataFrame, names) -> tuple[list[Cell], list[list[Cell]]]:
    columns = list(dict.fromkeys(frame["column"]))
    tested = (frame["test"] != "").any()
    head = [Cell("Choice")] + [Cell(c, True) for c in columns] + ([Cell("Test"), Cell("q", True)] if tested else [])
    body = []
    for row, part in frame.groupby("row", sort=False):
        cells = {r.column: r for r in part.itertuples(index=False)}
        line = [Cell(row)] + [Cell("not shown" if c not in cells or cells[c].suppressed else
                                   f"{fmt.percent(cells[c].pct)} ({fmt.count(cells[c].count)})", True) for c in columns]
        if tested:
            first = part.iloc[0]
            q_value = "" if pd.isna(first["q_value"]) else fmt.pvalue(first["q_value"])
            line += [Cell(SHORT_TESTS.get(first["test"], str(first["test"]))), Cell(q_value, True)]
        body.append(line)
    return head, body


def _model_table(frame: pd.DataFrame, names) -> tuple[list[Cell], list[list[Cell]]]:
    head = [Cell("Item"), Cell("Comparison"), Cell("n", True), Cell("Odds ratio", True), Cell("Interval", True),
            Cell("p", True), Cell("Proportional-odds test p", True)]
    body = []
    for r in frame.itertuples(index=False):
        flag = " (assumption rejected)" if r.po_violated else ""
        body.append([Cell(names.question_short(r.question)), Cell(r.panel), Cell(fmt.count(r.n), True),
                     Cell(fmt.statistic(r.odds_ratio), True),
                     Cell(f"{fmt.statistic(r.ci_low)}–{fmt.statistic(r.ci_high)}", True),
                     Cell(fmt.pvalue(r.p_value), True), Cell(f"{fmt.pvalue(r.po_p_value)}{flag}", True)])
    return head, body


def _pair_table(frame: pd.DataFrame, names) -> tuple[list[Cell], list[list[Cell]]]:
    side_a, side_b = frame["side_a"].iloc[0], frame["side_b"].iloc[0]
    head = [Cell("Row"), Cell("n pairs", True), Cell(f"Mean, {side_a}", True), Cell(f"Mean, {side_b}", True),
            Cell("Gap (a − b)", True), Cell("Interval", True), Cell("q", True)]
    body = [[Cell(r.row), Cell(fmt.count(r.n_pairs), True), Cell(fmt.mean(r.mean_a), True), Cell(fmt.mean(r.mean_b), True),
             Cell(fmt.signed(r.mean_diff), True), Cell(f"{fmt.signed(r.ci_low)} to {fmt.signed(r.ci_high)}", True),
             Cell("" if pd.isna(r.q_value) else fmt.pvalue(r.q_value), True)] for r in frame.itertuples(index=False)]
    return head, body


def _trend_table(frame: pd.DataFrame, names) -> tuple[list[Cell], list[list[Cell]]]:
    """The trend figure's table; its module (and matplotlib with it) is imported only when a report has one."""
    from pipeline.figures.trend import table

    return table(frame, names)


TABLES = {"keywords": _tag_table, "keyword-bars": _tag_table, "choices": _choice_table, "models": _model_table,
          "pairs": _pair_table, "trend": _trend_table}


def data_table(frame: pd.DataFrame, kind: str, names) -> dict[str, Any]:
    """A figure's CSV as a formatted table: groups by answers for distributions, one row per group and
    item for means, and a table of the drawn rows for the other kinds."""
    if kind in TABLES:
        head, body = TABLES[kind](frame, names)
    elif kind in LEVEL_KINDS:
        head, body = _level_table(frame, kind, names)
    else:
        head, body = _mean_table(frame, names)
    return {"head": head, "rows": body}


def figure_context(entry: dict, folder: Path, names) -> dict[str, Any]:
    """What the template shows for one figure (all strings formatted)."""
    from markupsafe import Markup

    svg_path = folder / entry["files"]["svg"]
    if not svg_path.exists():
        raise PulseError(f"{svg_path}: figure file missing; run `pulse figures` for this wave first")
    from pipeline.figures.tables import read_table

    frame = read_table(folder / entry["files"]["csv"])
    for column in ("excludes_one",):
        if column in frame:
            frame[column] = frame[column].astype(str).str.lower().eq("true")
    return {
        "id": entry["id"],
        "anchor": f"figure-{entry['id']}",
        "label": f"Figure {entry['number']}",
        "title": entry["title"],
        "headline": entry["headline"],
        "basis": entry["basis"],
        "caption": entry["caption"],
        "alt": entry["alt"],
        "svg": Markup(inline_svg(svg_path.read_text(encoding="utf-8"), f"f{entry['number']}")),
        "src": f"figures/{entry['files']['svg']}",
        "csv": f"figures/{entry['files']['csv']}",
        "table": data_table(frame, entry["kind"], names),
    }


# Methods ----------------------------------------------------------------------------------------------

def _ledger_rows(ledger: pd.DataFrame) -> tuple[list[list[Cell]], list[str]]:
    rows = [[Cell("Rows in the export"), Cell(fmt.count(len(ledger)), True)]]
    excluded = ledger[ledger["outcome"] == "excluded"]
    for reason, count in excluded["reason"].value_counts(sort=False).items():
        rows.append([Cell(f"Excluded: {REASONS.get(reason, reason.replace('_', ' '))}"), Cell(fmt.count(count), True)])
    rows.append([Cell("Respondents kept"), Cell(fmt.count((ledger["outcome"] == "kept").sum()), True)])
    flags: dict[str, int] = {}
    for value in ledger["flags"]:
        if pd.isna(value):
            continue
        for flag in {f.split(":", 1)[0] for f in str(value).split(";") if f}:
            flags[flag] = flags.get(flag, 0) + 1
    notes = [f"{fmt.count(n)} kept respondent{'s' if n != 1 else ''} flagged for {FLAGS.get(flag, flag.replace('_', ' '))}."
             for flag, n in sorted(flags.items())]
    return rows, notes


def _n_per_question(instrument, distributions: pd.DataFrame) -> list[list[Cell]]:
    whole = distributions[distributions["breakdown"] == "all"].drop_duplicates("question")
    by_question = whole.set_index("question")
    rows = []
    for question in instrument.questions:
        if question.id not in by_question.index:
            continue
        record = by_question.loc[question.id]
        rows.append([Cell(question.short), Cell(fmt.count(record["n"]), True)] +
                    [Cell(fmt.count(record[k]), True) for k in ("dont_know", "refused", "blank", "not_asked")])
    return rows


def _derivations(instrument, recodes: pd.DataFrame) -> list[dict[str, Any]]:
    items = []
    for derived in instrument.derived:
        cases = recodes[recodes["question"] == derived.id]
        items.append({
            "label": derived.label,
            "rule": RULES.get(derived.rule, derived.rule),
            "source": derived.source,
            "cases": [f"{row.value_exported}: {fmt.count(row.count)}" for row in cases.itertuples(index=False)],
        })
    return items


def _recode_rows(recodes: pd.DataFrame) -> list[list[Cell]]:
    """One row per recode (rule, value as exported, value as used), with the answers recoded in each
    question: the same spelling resolved in two country questions is one row."""
    shown = recodes[~recodes["rule"].astype(str).str.startswith("nationality_rule")]
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for r in shown.itertuples(index=False):
        key = (str(r.rule).replace("_", " "), str(r.value_exported), str(r.value_used))
        grouped.setdefault(key, []).append(f"{r.question} {fmt.count(r.count)}")
    return [[Cell(rule), Cell(exported), Cell(used), Cell("; ".join(counts))]
            for (rule, exported, used), counts in grouped.items()]


def _tests_used(tests: pd.DataFrame) -> list[str]:
    counts = tests["test"].value_counts(sort=False)
    return [f"{TESTS.get(test, test)}: {fmt.count(n)} test{'s' if n != 1 else ''}" for test, n in counts.items()]


def _software() -> list[list[Cell]]:
    rows = [[Cell("Python"), Cell(platform.python_version())]]
    for name in SOFTWARE:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        rows.append([Cell(name), Cell(version)])
    from pipeline.countries import REFERENCE_VERSION

    rows.append([Cell("country reference data"), Cell(REFERENCE_VERSION)])
    return rows


def input_files(wave: Wave) -> list[Path]:
    """The files the report rests on, hashed in the methods appendix (those the figures and report
    stages read, and the export and instrument behind them)."""
    out = wave.out_dir
    files = [wave.export_path, wave.wave_dir / "wave.yaml", wave.instrument_path, wave.survey_dir / "report.yaml",
             out / "ledger.csv", out / "recodes.csv", *(out / "tables" / f"{name}.csv" for name in READ_TABLES)]
    return [f for f in files if f.exists()]


def params_hash(params: dict) -> str:
    """sha256 of the parameter groups the report depends on (analyze, report), as canonical JSON."""
    from pipeline.figures import report_params

    used = {"analyze": params["analyze"], "report": report_params(params)}
    return hashlib.sha256(json.dumps(used, sort_keys=True, default=str).encode()).hexdigest()


def coding_context(question: str, instrument, tables_dir: Path) -> dict[str, Any]:
    """How a free-text question was coded, from keywords.csv and coding_agreement.csv: a paragraph, and the
    agreement between coders (Cohen's kappa, Krippendorff's alpha) when answers were double-coded."""
    from pipeline.figures.tables import read_table

    keywords = read_table(tables_dir / "keywords.csv")
    keywords = keywords[keywords["question"] == question]
    path = tables_dir / "coding_agreement.csv"
    agreement = read_table(path) if path.exists() else pd.DataFrame(columns=["question"])
    agreement = agreement[agreement["question"] == question]
    short = instrument.question(question).short
    if keywords.empty:
        return {"title": f"Coding of “{short}”", "paragraphs": [
            "keywords.csv has no tags for this question: no codebook was applied."], "head": [], "rows": []}
    shown = keywords[keywords["shown"]]
    n = fmt.count(keywords["meaningful_answers"].iloc[0])
    added, removed = int(keywords["added"].sum()), int(keywords["removed"].sum())
    paragraphs = [
        f"The {n} meaningful answers (not blank, not a non-answer) were tagged with the codebook's "
        f"{fmt.count(len(keywords))} tags; {fmt.count(len(shown))} tags are named often enough to be shown. "
        f"Manual coding added {fmt.count(added)} and removed {fmt.count(removed)} tags "
        f"(keywords.csv, columns added and removed). The answers themselves are not published.",
    ]
    head, rows = [], []
    if agreement.empty:
        paragraphs.append("No manual double-coding was done: no answer was coded by two coders, so no agreement "
                          "between coders (Cohen's kappa, Krippendorff's alpha) can be reported.")
    else:
        head = [Cell("Tag"), Cell("Coders"), Cell("Answers", True), Cell("Agreement", True), Cell("Cohen's kappa", True),
                Cell("Krippendorff's alpha", True)]
        labels = dict(zip(keywords["tag"], keywords["label"]))
        for r in agreement.itertuples(index=False):
            tag = "All tags (pooled over answers and tags)" if r.tag == POOLED else labels.get(r.tag, r.tag)
            rows.append([Cell(str(tag)), Cell(f"{r.coder_a} and {r.coder_b}"), Cell(fmt.count(r.units), True),
                         Cell(fmt.percent(r.agreement_pct), True), Cell(fmt.statistic(r.kappa), True),
                         Cell(fmt.statistic(r.alpha), True)])
        per_tag = agreement[agreement["tag"] != POOLED]
        answers = fmt.count(per_tag["units"].max() if len(per_tag) else agreement["units"].max())
        paragraphs.append(f"Answers coded by two coders: {answers}. Their agreement per tag, and pooled, is below "
                          f"(coding_agreement.csv).")
    return {"title": f"Coding of “{short}”", "paragraphs": paragraphs, "head": head, "rows": rows}


def _models_and_pairs(kinds: set[str], tables_dir: Path, names) -> list[str]:
    """Lines of the methods' list of tests for the adjusted comparisons and paired tests the report draws."""
    from pipeline.figures.tables import read_table

    lines = []
    if "models" in kinds and (tables_dir / "models.csv").exists():
        models = read_table(tables_dir / "models.csv")
        fitted = models[models["odds_ratio"].notna()]
        terms = [t for t in dict.fromkeys(fitted["term"]) if t]
        lines.append(f"Proportional-odds (cumulative logit) models of each ordinal question on "
                     f"{fmt.join([names.term(t) for t in terms])} together: odds ratios with Wald intervals, and a "
                     f"likelihood-ratio test of the proportional-odds assumption per term: "
                     f"{fmt.count(fitted['question'].nunique())} models")
    if "pairs" in kinds and (tables_dir / "paired.csv").exists():
        paired = read_table(tables_dir / "paired.csv")
        tested = paired[paired["q_value"].notna()]
        lines.append(f"Wilcoxon signed-rank test of paired ratings (two questions answered by the same respondents), "
                     f"with a t interval for the mean paired difference; effect: matched-pairs rank-biserial "
                     f"correlation: {fmt.count(len(tested))} tests")
    return lines


def _disclosure(params: dict, tables_dir: Path) -> dict[str, Any]:
    """The disclosure-control account of the methods appendix, from tables/suppressions.csv (empty if absent)."""
    from pipeline.disclosure import methods_summary

    path = tables_dir / "suppressions.csv"
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""]) if path.exists() else None
    return methods_summary(frame, params["disclosure"])


def methods_context(wave: Wave, params: dict, instrument, tables_dir: Path, kinds: set[str] = frozenset(),
                    names=None) -> dict[str, Any]:
    """The methods appendix as formatted text and tables."""
    from pipeline.figures import report_params

    analyze = params["analyze"]
    ledger = pd.read_csv(wave.out_dir / "ledger.csv", keep_default_na=False, na_values=[""])
    recodes = pd.read_csv(wave.out_dir / "recodes.csv", keep_default_na=False, na_values=[""])
    distributions = pd.read_csv(tables_dir / "distributions.csv", keep_default_na=False, na_values=[""])
    tests = pd.read_csv(tables_dir / "tests.csv", keep_default_na=False, na_values=[""])
    meta = wave.meta
    ledger_rows, flag_notes = _ledger_rows(ledger)
    weights = analyze.get("weights")
    confidence = fmt.number(100 * float(analyze["confidence"]))
    correction = CORRECTIONS.get(analyze["multiplicity"], analyze["multiplicity"])
    return {
        "fielded": fielding(meta) or "not recorded",
        "wave": str(meta.get("label", wave.wave)),
        "organiser": instrument.organiser,
        "invitation": instrument.invitation,
        "instrument": f"{instrument.title}, instrument version {instrument.version}",
        "note": " ".join(str(meta.get("note", "")).split()),
        "ledger": ledger_rows,
        "flags": flag_notes,
        "n_head": ["Question", "Valid answers", "Don't know", "Refused", "Blank", "Not asked"],
        "n_rows": _n_per_question(instrument, distributions),
        "derivations": _derivations(instrument, recodes),
        "recodes": _recode_rows(recodes),
        "tests": _tests_used(tests) + (_models_and_pairs(kinds, tables_dir, names) if names else []),
        "multiplicity": (f"{correction} correction of p-values within each family of tests (one family per "
                         f"question group, breakdown and kind of test); q-values are the corrected p-values. "
                         f"Headlines call a difference significant when q < {report_params(params)['alpha']:g}."),
        "intervals": (f"{confidence}% intervals: {analyze['ci_method'].replace('-', ' ').title()} for shares, "
                      f"{'Student t' if analyze['mean_ci'] == 't' else 'percentile bootstrap'} for means."),
        "minimum": (f"Groups with fewer than {fmt.count(analyze['min_group_size'])} valid answers are not shown "
                    f"and are left out of tests."),
        "weights": f"Weighted by {weights}." if weights else "Unweighted: every respondent counts once.",
        "disclosure": _disclosure(params, tables_dir),
        "software": _software(),
        "hashes": [[Cell(str(path.relative_to(wave.root))), Cell(sha256(path))] for path in input_files(wave)]
        + [[Cell("parameters: analyze and report groups (canonical JSON)"), Cell(params_hash(params))]],
    }


# Rendering --------------------------------------------------------------------------------------------

def environment(root: Path):
    """Jinja with autoescaping for every template and StrictUndefined; the project's templates/ first."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    folders = [str(p) for p in (root / "templates", TEMPLATES) if p.is_dir()]
    return Environment(loader=FileSystemLoader(folders), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def context(wave: Wave, params: dict) -> dict[str, Any]:
    """Everything both documents show, formatted."""
    from pipeline.figures import report_params
    from pipeline.figures.trendtext import changes_context

    folder = wave.out_dir / "figures"
    index_path = folder / "index.json"
    if not index_path.exists():
        raise PulseError(f"{index_path}: not found; run `pulse figures` for this wave first")
    index = json.loads(index_path.read_text(encoding="utf-8"))
    instrument, spec, names = _names(wave)
    entries = {entry["id"]: entry for entry in index["figures"]}
    sections = []
    for section in spec.sections:
        missing = [f.id for f in section.figures if f.id not in entries]
        if missing:
            raise PulseError(f"{index_path}: no figure {missing[0]!r}; run `pulse figures` again after changing report.yaml")
        sections.append({
            "id": section.id,
            "anchor": f"section-{section.id}",
            "title": section.title,
            "intro": section.intro,
            "placeholder": section.placeholder or "",
            "methods": section.methods,
            "figures": [figure_context(entries[f.id], folder, names) for f in section.figures],
            "coding": coding_context(section.coding, instrument, wave.out_dir / "tables") if section.coding else None,
        })
    meta = wave.meta
    kept = pd.read_csv(wave.out_dir / "ledger.csv", usecols=["outcome"])["outcome"].eq("kept").sum()
    when = fielding(meta)
    return {
        "title": spec.title or instrument.title,
        "subtitle": spec.subtitle or "",
        "survey": instrument.short_title,
        "wave": str(meta.get("label", wave.wave)),
        "facts": f"{fmt.count(kept)} respondents" + (f" · fielded {when}" if when else ""),
        "synthetic": wave.synthetic,
        "banner": BANNER,
        "sections": sections,
        "methods": methods_context(wave, params, instrument, wave.out_dir / "tables", {f.kind for f in spec.figures},
                                   names),
        "changes": changes_context(wave.out_dir / "tables", names, report_params(params)["alpha"],
                                   float(params["analyze"].get("confidence", 0.95))),
    }


def write_documents(env, template: str, data: dict[str, Any], svgs: list[str], out: Path, pdf) -> None:
    """report.html and report.pdf in `out` from `template` and `data`; the HTML embeds the fonts of the
    figures' `svgs`. `pdf(html, path, base)` writes the PDF (pipeline.pdf.pdf_writer: WeasyPrint, the slow part,
    in a forked process meanwhile; reproducible: no dates, fixed identifier, the figures' labels drawn as whole
    runs)."""
    from markupsafe import Markup

    from pipeline.figures.fonts import font_face_css
    from pipeline.outputs import write_text

    page = env.get_template(template)
    pdf(page.render(**data, medium="pdf"), out / "report.pdf", out)
    fonts = Markup(font_face_css(svgs))
    write_text(page.render(**data, fonts=fonts, medium="html"), out / "report.html")


def run_report(wave: Wave, params: dict[str, Any]) -> list[str]:
    """Write report.html and report.pdf for one wave; returns lines to print (a one-line summary first)."""
    import logging

    from pipeline.pdf import pdf_writer

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    with pdf_writer() as pdf:
        data = context(wave, params)
        svgs = [figure["svg"] for section in data["sections"] for figure in section["figures"]]
        write_documents(environment(wave.root), TEMPLATE, data, svgs, wave.out_dir, pdf)
    figures = sum(len(s["figures"]) for s in data["sections"])
    where = wave.out_dir.relative_to(wave.root)
    return [f"report.html and report.pdf with {figures} figures in {len(data['sections'])} sections ({where})"]
