"""The words and figures made from the trends tables: "What changed since last quarter" sentences (every number
checked against the table row it comes from), the compact table, the trend figure's frame and headline facts,
and the cross-wave report's combined tables."""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.figures import trend
from pipeline.figures.names import Names
from pipeline.figures.trendreport import survey_tables
from pipeline.figures.trendtext import changes_context, rest_table, significant_sentences
from pipeline.instrument import load
from pipeline.outputs import write_csv
from pipeline.project import Wave
from pipeline.trends import trends
from tests.test_trends import FIXTURE_INSTRUMENT, LINK, REF, clean_frame

NUMBER = re.compile(r"(?<![\w.])([<]\s?)?[−+]?\d[\d,]*(?:\.\d+)?")
CELLS = ("estimate_a", "estimate_b", "difference", "ci_low", "ci_high", "n_a", "q_value")


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    path = tmp_path_factory.mktemp("fixture") / "instrument.yaml"
    path.write_text(FIXTURE_INSTRUMENT, encoding="utf-8")
    instrument = load(path)
    data = pd.read_csv(REF / "fixture.csv", keep_default_na=False, na_values=[""])
    waves = {wave: clean_frame(rows.reset_index(drop=True), old_b=wave != "w3")
             for wave, rows in data.groupby("wave", sort=True)}
    return instrument, waves, trends(waves, instrument, links=LINK)


def tokens(text: str, drop: list[str]) -> list[str]:
    for word in sorted(drop, key=len, reverse=True):
        text = text.replace(word, " ")
    return [m.group(0) for m in NUMBER.finditer(text)]


def matches(token: str, rows: list[dict]) -> bool:
    """Whether a number as written equals a cell of one of `rows` up to its rounding ("<0.001": a q below it)."""
    if token.startswith("<"):
        return any(r["q_value"] < 0.001 for r in rows)
    shown = token.replace("−", "-").replace(",", "")
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    number = float(shown)
    tolerance = 0.5 * 10 ** -decimals + 1e-9
    for row in rows:
        for cell in CELLS:
            value = float(row[cell])
            if math.isfinite(value) and abs(value - number) <= tolerance:
                return True
    return False


@pytest.mark.parametrize("alpha", [0.05, 1.0])
def test_every_number_in_a_change_sentence_is_a_cell_of_its_table_rows(fixture, alpha):
    instrument, _, out = fixture
    names = Names(instrument, {})
    tests = out["trend_tests"]
    sentences = significant_sentences(tests, names, alpha)
    hits = tests[(tests["q_value"] < alpha) & ~tests["suppressed"]]
    assert len(sentences) == len(hits.groupby(["question", "measure", "breakdown", "group", "wave_a", "wave_b"]))
    assert sentences, "the fixture has changes to describe"
    for s in sentences:
        rows = list(s.facts)
        drop = [names.question_short(r["question"]) for r in rows] + [r[w] for r in rows for w in ("wave_a", "wave_b")]
        found = tokens(s.text, drop)
        assert found, s.text
        for token in found:
            assert matches(token, rows), f"{token!r} in {s.text!r} is not a cell of {rows}"
        for row in rows:
            assert row["design"] != "paired" or f"the {int(row['n_a'])} who answered in both waves" in s.text


def test_significant_changes_come_first_whole_sample_then_by_q(fixture):
    instrument, _, out = fixture
    sentences = significant_sentences(out["trend_tests"], Names(instrument, {}), 1.0)
    keys = [(s.facts[0]["breakdown"] != "all", min(r["q_value"] for r in s.facts if r["q_value"] < 1.0))
            for s in sentences]
    assert keys == sorted(keys)


def test_the_compact_table_lists_the_whole_sample_comparisons_without_a_significant_change(fixture):
    instrument, _, out = fixture
    tests = out["trend_tests"]
    table = rest_table(tests, Names(instrument, {}), 0.05)
    whole = tests[(tests["breakdown"] == "all")]
    keys = whole.groupby(["question", "measure", "wave_a", "wave_b"])
    significant = sum(bool(((part["q_value"] < 0.05) & ~part["suppressed"]).any()) for _, part in keys)
    assert len(table["rows"]) == keys.ngroups - significant
    assert table["head"][:2] == ["Question", "Measure"]


def test_no_section_for_a_first_wave_and_one_for_a_later_wave(fixture, tmp_path):
    instrument, waves, out = fixture
    names = Names(instrument, {})
    first = trends({"w1": waves["w1"]}, instrument, links=LINK)
    for name, table in first.items():
        write_csv(table, tmp_path / "first" / f"{name}.csv")
    assert changes_context(tmp_path / "first", names, 0.05, 0.95) is None
    assert changes_context(tmp_path / "missing", names, 0.05, 0.95) is None
    later = trends({"w2": waves["w2"], "w3": waves["w3"]}, instrument, links=LINK)
    for name, table in later.items():
        write_csv(table, tmp_path / "later" / f"{name}.csv")
    context = changes_context(tmp_path / "later", names, 0.05, 0.95)
    assert (context["previous"], context["current"]) == ("w2", "w3")
    assert "95% intervals" in context["intro"] and "q-value" in context["intro"]


def test_the_trend_figure_draws_table_rows_only_and_its_headline_quotes_a_test(fixture):
    instrument, _, out = fixture
    names = Names(instrument, {})
    estimates = out["trends"]
    frame = trend.rows_drawn(estimates, "qa", names, ["w1", "w2", "w3"], ["weog", "gender"])
    assert set(frame["measure"]) == {"topbox"} and list(dict.fromkeys(frame["wave"])) == ["w1", "w2", "w3"]
    key = ["question", "measure", "breakdown", "group", "wave"]
    merged = frame.merge(estimates, on=key, suffixes=("", "_table"), validate="one_to_one")
    assert len(merged) == len(frame)
    for column in ("estimate", "ci_low", "ci_high", "n"):
        assert np.allclose(merged[column], merged[f"{column}_table"], equal_nan=True)
    text, facts = trend.headline(out["trend_tests"], "qa", "topbox", names, 1.0, "{wave}/trend_tests.csv")
    assert text and {f["column"] for f in facts} == {"estimate_a", "estimate_b", "difference", "q_value"}
    tests = out["trend_tests"]
    for fact in facts:
        row = tests[np.logical_and.reduce([tests[k] == v for k, v in fact["row"].items()])]
        assert len(row) == 1 and row[fact["column"]].iloc[0] == pytest.approx(fact["value"], rel=1e-12)
    assert trend.headline(out["trend_tests"], "qa", "topbox", names, 0.0, "x") == (None, [])


def test_survey_tables_take_each_waves_own_rows(fixture, tmp_path):
    instrument, waves, _ = fixture
    root = tmp_path / "project"
    (root / "surveys" / "fixture").mkdir(parents=True)
    (root / "surveys" / "fixture" / "instrument.yaml").write_text(FIXTURE_INSTRUMENT, encoding="utf-8")
    order = ["w1", "w2", "w3"]
    for i, wave in enumerate(order):
        folder = root / "surveys" / "fixture" / wave
        folder.mkdir()
        (folder / "wave.yaml").write_text(f"fielded: {{start: 2024-0{i + 1}-01, end: 2024-0{i + 1}-20}}\n")
        pair = {w: waves[w] for w in order[max(i - 1, 0):i + 1]}
        for name, table in trends(pair, instrument, links=LINK).items():
            write_csv(table, root / "outputs" / "fixture" / wave / "tables" / f"{name}.csv")
    combined = survey_tables([Wave(root, "fixture", w) for w in order])
    whole = trends(waves, instrument, links=LINK)
    assert len(combined["trends"]) == len(whole["trends"])
    assert set(zip(combined["trend_tests"]["wave_a"], combined["trend_tests"]["wave_b"])) == {("w1", "w2"),
                                                                                              ("w2", "w3")}
    assert not (combined["trend_questions"]["wave_b"] == "w1").any()


def test_a_wave_report_can_draw_kind_trend_from_its_trends_table(tmp_path):
    from pipeline.figures.build import build_all
    from pipeline.figures.tables import read_table
    from pipeline.params import load_params
    from pipeline.report import figure_context
    from pipeline.stages import run_trends
    from tests.figures.helpers import HERE, tiny_project

    raw = yaml.safe_load((HERE / "tiny_report.yaml").read_text(encoding="utf-8"))
    raw["sections"][0]["figures"].append({"id": "q1-trend", "kind": "trend", "question": "q1",
                                          "breakdowns": ["all", "gender"]})
    report = tmp_path / "report.yaml"
    report.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    wave = tiny_project(tmp_path / "project", report)
    params = load_params(wave.root)
    run_trends(wave, params)
    entries, _ = build_all(wave, params)
    entry = next(e for e in entries if e["id"] == "q1-trend")
    drawn = read_table(wave.out_dir / "figures" / entry["files"]["csv"])
    table = read_table(wave.out_dir / "tables" / "trends.csv")
    picked = table[(table["question"] == "q1") & (table["measure"] == "topbox") & table["breakdown"].isin(["all", "gender"])]
    assert len(drawn) == len(picked) and np.allclose(drawn["estimate"], picked["estimate"], equal_nan=True)
    shown = figure_context(entry, wave.out_dir / "figures", Names(load(wave.instrument_path), {}))
    assert shown["table"]["head"][0].text == "Breakdown" and len(shown["table"]["rows"]) == len(drawn)
