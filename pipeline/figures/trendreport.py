"""The cross-wave report of one survey: `outputs/<survey>/trends/report.html` and `report.pdf`, with a trend figure
per followed question (figures/: SVG, PNG, the CSV of what is drawn, index.json), the wave-over-wave tests of each
pair of consecutive waves, and the methods. Everything is read from the waves' trends tables: each wave's own rows
of `trends.csv` (its estimates), and the `trend_tests.csv` / `trend_questions.csv` comparing it with the wave before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import format as fmt
from pipeline.errors import PulseError
from pipeline.figures import notes, style, trend
from pipeline.figures.names import Names
from pipeline.figures.tables import ALL, read_table
from pipeline.figures.trendtext import left_out, rest_table, significant_sentences
from pipeline.project import Wave, survey_waves

TEMPLATE = "trends.html.j2"
TABLES = ("trends", "trend_tests", "trend_questions")
TESTS = {"two-proportion-z": "two-proportion z test with Newcombe's hybrid score interval (top-box shares)",
         "mann-whitney": "Mann–Whitney test with the Welch interval of the difference of mean ratings",
         "mcnemar": "McNemar test with Newcombe's paired score interval (top-box shares, linked respondents)",
         "wilcoxon-signed-rank": "Wilcoxon signed-rank test with the paired t interval (ratings, linked respondents)"}


def out_dir(wave: Wave) -> Path:
    """outputs/<survey>/trends: where the cross-wave report of `wave`'s survey is written."""
    return wave.root / "outputs" / wave.survey / "trends"


def survey_tables(waves: list[Wave]) -> dict[str, pd.DataFrame]:
    """The survey's trends tables over all `waves`: each wave's own estimates from its trends.csv, and the tests
    and question comparisons its trends stage made against the wave before it (the first wave has none)."""
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in TABLES}
    for wave in waves:
        tables = {}
        for name in TABLES:
            path = wave.out_dir / "tables" / f"{name}.csv"
            if not path.exists():
                raise PulseError(f"{path}: not found; run `pulse trends {wave.wave_dir.relative_to(wave.root)}` "
                                 f"(or `pulse run`) first")
            tables[name] = read_table(path)
        parts["trends"].append(tables["trends"][tables["trends"]["wave"].astype(str) == wave.wave])
        parts["trend_tests"].append(tables["trend_tests"][tables["trend_tests"]["wave_b"].astype(str) == wave.wave])
        parts["trend_questions"].append(
            tables["trend_questions"][tables["trend_questions"]["wave_b"].astype(str) == wave.wave])
    combined = {}
    for name, frames in parts.items():
        frame = pd.concat(frames, ignore_index=True)
        for column in ("wave", "wave_a", "wave_b"):
            if column in frame:
                frame[column] = frame[column].astype(str)
        combined[name] = frame
    return combined


def _figures(tables: dict[str, pd.DataFrame], names: Names, waves: list[Wave], params: dict,
             folder: Path) -> list[dict[str, Any]]:
    """Draw and write one trend figure per question of the combined trends table, in the figure workers
    (`pipeline.figures.build.render_all`: the PNGs are written behind); their index entries (none while the
    survey has a single wave: there is no trend to draw)."""
    if len(waves) < 2:
        return []
    from pipeline.figures import report_params
    from pipeline.figures.build import render_all, write_vector

    labels = [w.wave for w in waves]
    estimates = tables["trends"]
    breakdowns = [b for b in params["trends"]["breakdowns"] if b in set(estimates["breakdown"])]
    alpha = report_params(params)["alpha"]
    minimum = int(params["analyze"]["min_group_size"])
    confidence = float(params["analyze"].get("confidence", 0.95))
    order = [q.id for q in names.instrument.questions if q.id in set(estimates["question"])]
    synthetic = any(w.synthetic for w in waves)
    source = (f"Source: {names.instrument.title}, waves {', '.join(labels)}."
              + (" Synthetic example data." if synthetic else ""))

    def draw(number: int) -> tuple[dict[str, Any], Any]:
        question = order[number - 1]
        frame = trend.rows_drawn(estimates, question, names, labels, breakdowns)
        measure = trend.measure_of(estimates, question)
        title = (f"{names.question_short(question)}: share {names.topbox(question)}" if measure == "topbox"
                 else f"{names.question_short(question)}: mean rating")
        headline, facts = trend.headline(tables["trend_tests"], question, measure, names, alpha,
                                         "outputs/" + waves[0].survey + "/{wave}/tables/trend_tests.csv")
        texts = style.Texts(title=title, subtitle=names.question_text(question),
                            footnotes=tuple(trend.footnotes(frame, None, names, minimum, alpha, confidence)),
                            source=source, synthetic=synthetic)
        figure = trend.draw(frame, texts, trend.look(frame, None, names, minimum, alpha))
        figure_id = f"trend-{question}"
        entry = {"id": figure_id, "number": number, "kind": "trend", "title": title,
                 "headline": headline or title, "claim": headline is not None, "caption": trend.CAPTION,
                 "alt": trend.alt(frame, title), "questions": [question], "breakdowns": [ALL, *breakdowns],
                 "facts": facts, "files": write_vector(figure, frame, folder, figure_id)}
        return entry, figure

    with style.rc_context():
        return render_all(len(order), draw, folder, int(report_params(params)["dpi"]))


def _figure_context(entry: dict, folder: Path, names: Names) -> dict[str, Any]:
    from markupsafe import Markup

    from pipeline.report import inline_svg

    frame = read_table(folder / entry["files"]["csv"])
    head, rows = trend.table(frame, names)
    return {"anchor": f"figure-{entry['id']}", "label": f"Figure {entry['number']}", "title": entry["title"],
            "headline": entry["headline"], "caption": entry["caption"], "alt": entry["alt"],
            "svg": Markup(inline_svg((folder / entry["files"]["svg"]).read_text(encoding="utf-8"),
                                     f"t{entry['number']}")),
            "csv": f"figures/{entry['files']['csv']}",
            "head": head, "rows": rows}


def _pairs(tables: dict[str, pd.DataFrame], names: Names, alpha: float) -> list[dict[str, Any]]:
    """Per pair of consecutive waves: significant changes in words, the other whole-sample comparisons, and the
    questions not compared."""
    tests, questions = tables["trend_tests"], tables["trend_questions"]
    pairs = []
    for (wave_a, wave_b), part in tests.groupby(["wave_a", "wave_b"], sort=False):
        asked = questions[(questions["wave_a"] == wave_a) & (questions["wave_b"] == wave_b)]
        pairs.append({"previous": wave_a, "current": wave_b,
                      "sentences": [s.text for s in significant_sentences(part, names, alpha)],
                      "none": f"No change between {wave_a} and {wave_b} reaches q < {alpha:g}.",
                      "rest": rest_table(part, names, alpha), "left_out": left_out(asked, names)})
    return pairs


def _methods(tables: dict[str, pd.DataFrame], params: dict, alpha: float, names: Names) -> list[str]:
    """The methods in paragraphs: questions compared, tests, families of the correction, the panel-link rule."""
    from pipeline.report import CORRECTIONS

    questions = tables["trend_questions"]
    compared = questions[questions["compared"].astype(str).str.lower().eq("true")]
    which = fmt.join([names.question_short(q) for q in dict.fromkeys(compared["question"])]) or "none"
    method = params["analyze"]["multiplicity"]
    tests = tables["trend_tests"]
    trends_params = params["trends"]
    overlap = ("Respondents who answered in both waves are in both samples of the independent tests"
               if trends_params["overlap"] == "all" else
               "Respondents who answered in both waves are left out of the independent tests")
    return [
        f"Questions compared: {fmt.count(compared['question'].nunique())} ordinal questions asked in both waves of a "
        f"pair, by the same id or through a comparable_with link of the instrument (levels matched by position); "
        f"the others are listed under each pair with the reason. Breakdown variables describe the sample and are "
        f"not followed. Compared: {which}.",
        "Tests: " + "; ".join(TESTS[t] for t in TESTS if t in set(tests["test"])) + ". Differences are later "
        "minus earlier wave.",
        f"Multiplicity: p-values are adjusted ({CORRECTIONS.get(method, method)}) within each "
        f"family <earlier wave>..<later wave>/<breakdown>/<measure>/<design>, all questions together; a change is "
        f"called significant when q < {alpha:g}. Groups with fewer than {fmt.count(params['analyze']['min_group_size'])} "
        f"answers are not shown and not tested.",
        f"Panel link: a respondent is linked across waves by panel_id, a salted sha256 hash of the invitation key "
        f"made at ingest (the key itself is never stored); a missing key is never linked and an id repeated within "
        f"a wave is left unlinked. Paired tests use the linked respondents with a valid answer in both waves, "
        f"grouped by the group they are in at the later wave. {overlap}"
        f"{' (McNemar with continuity correction)' if trends_params.get('mcnemar_correct', True) else ''}.",
    ]


def context(waves: list[Wave], params: dict, names: Names, entries: list[dict], tables: dict[str, pd.DataFrame],
            folder: Path) -> dict[str, Any]:
    """Everything the cross-wave report shows, formatted."""
    from pipeline.figures import report_params
    from pipeline.report import BANNER

    alpha = report_params(params)["alpha"]
    rows = [[str(w.meta.get("label", w.wave)), notes.fielding(w.meta) or fmt.MISSING,
             "synthetic example data" if w.synthetic else "survey export"] for w in waves]
    return {"title": f"{names.instrument.title}: trends across waves", "survey": names.instrument.short_title,
            "waves": rows, "synthetic": any(w.synthetic for w in waves), "banner": BANNER,
            "figures": [_figure_context(e, folder, names) for e in entries], "pairs": _pairs(tables, names, alpha),
            "methods": _methods(tables, params, alpha, names), "version": names.instrument.version}


def run_trend_report(wave: Wave, params: dict[str, Any]) -> list[str]:
    """Write the cross-wave report of `wave`'s survey (every wave with a wave.yaml, in fielding order); returns
    lines to print (a one-line summary first)."""
    from pipeline.figures.spec import load as load_spec
    from pipeline.instrument import load
    from pipeline.outputs import write_text
    from pipeline.pdf import pdf_writer
    from pipeline.report import environment, write_documents

    with pdf_writer() as pdf:
        waves = survey_waves(wave)
        instrument = load(wave.instrument_path)
        spec = load_spec(wave.survey_dir / "report.yaml", instrument) if (wave.survey_dir / "report.yaml").exists() else None
        names = Names(instrument, spec.nouns if spec else {})
        tables = survey_tables(waves)
        out = out_dir(wave)
        folder = out / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        entries = _figures(tables, names, waves, params, folder)
        keep = {name for entry in entries for name in entry["files"].values()}
        for stale in sorted(folder.iterdir()):
            if stale.suffix in (".svg", ".png", ".csv") and stale.name not in keep:
                stale.unlink()
        index = {"survey": wave.survey, "waves": [w.wave for w in waves], "synthetic": any(w.synthetic for w in waves),
                 "figures": entries}
        write_text(json.dumps(index, indent=1, ensure_ascii=False, allow_nan=False) + "\n", folder / "index.json")
        data = context(waves, params, names, entries, tables, folder)
        write_documents(environment(wave.root), TEMPLATE, data, [figure["svg"] for figure in data["figures"]], out, pdf)
    significant = sum(len(p["sentences"]) for p in data["pairs"])
    return [f"trend report with {len(entries)} figures over {len(waves)} waves, {significant} significant changes "
            f"({out.relative_to(wave.root)})"]
