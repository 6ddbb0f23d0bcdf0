"""Wave-over-wave trends: against R on a stored three-wave fixture (tests/stats/reference/trends), the rules for
comparable questions and linked respondents, speed, and the bundled synthetic Risk Pulse waves."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import synth
from pipeline.ingest.clean import ingest
from pipeline.ingest.read import read_export
from pipeline.ingest.recode import STATUSES
from pipeline.instrument import load, read_yaml
from pipeline.ingest.panel import panel_ids
from pipeline.trends import (TREND_COLUMNS, TREND_QUESTION_COLUMNS, TREND_TEST_COLUMNS, Link, answers, paired_proportions,
                             trends)

REPO = Path(__file__).resolve().parents[1]
REF = REPO / "tests" / "stats" / "reference" / "trends"
SURVEY = REPO / "surveys" / "risk-pulse"
RTOL = 1e-6
LABELS = ["Not concerned", "A little concerned", "Somewhat concerned", "Concerned", "Very concerned"]
OLD_LABELS = ["1 - not at all", "2", "3", "4", "5 - very much"]
LINK = {"qb": Link("qb", "qb_old", "same item; the scale's anchors were reworded in w3")}

FIXTURE_INSTRUMENT = """
id: fixture
version: 2.0.0
title: Trend fixture
organiser: pulse test suite
export: {respondent_id: id, submitted_at: at, duplicate_key: token}
scales:
  concern:
    type: ordinal
    levels:
""" + "".join(f"      - {{code: {i + 1}, label: {label}}}\n" for i, label in enumerate(LABELS)) + """
  gender:
    type: nominal
    levels:
      - {code: woman, label: Woman}
      - {code: man, label: Man}
      - {code: another, label: Another gender identity}
  weog:
    type: nominal
    levels:
      - {code: weog, label: WEOG}
      - {code: other, label: non-WEOG}
questions:
  - {id: qa, column: QA, type: ordinal, scale: concern, text: A, topbox: {codes: [4, 5], label: concerned}}
  - {id: qb, column: QB, type: ordinal, scale: concern, text: B, topbox: {codes: [4, 5], label: concerned}}
  - {id: gender, column: G, type: nominal, scale: gender, text: Gender}
  - {id: weog, column: W, type: nominal, scale: weog, text: WEOG}
breakdowns:
  - {id: weog, variable: weog, label: WEOG}
  - {id: gender, variable: gender, label: Gender}
"""


def ordinal(scores: np.ndarray, labels: list[str]) -> pd.Categorical:
    codes = np.where(np.isnan(scores), -1, scores - 1).astype(np.int64)
    return pd.Categorical.from_codes(codes, categories=labels, ordered=True)


def clean_frame(rows: pd.DataFrame, old_b: bool) -> pd.DataFrame:
    """A wave of the fixture as ingest would write it (qb under its earlier id `qb_old` with other labels)."""
    frame = pd.DataFrame({"row": np.arange(1, len(rows) + 1)})
    for q in ("qa", "qb"):
        source, labels = ("qb_old", OLD_LABELS) if q == "qb" and old_b else (q, LABELS)
        scores = rows[q].to_numpy(dtype=float)
        frame[source] = ordinal(scores, labels)
        frame[f"{source}__status"] = pd.Categorical(np.where(np.isnan(scores), "blank", "valid"), categories=STATUSES)
    frame["gender"] = pd.Categorical(rows["gender"], categories=["Woman", "Man", "Another gender identity"])
    frame["weog"] = pd.Categorical(rows["weog"], categories=["WEOG", "non-WEOG"])
    frame["panel_id"] = rows["panel_id"].astype(object).where(rows["panel_id"].notna(), None).to_numpy()
    return frame


@pytest.fixture(scope="module")
def instrument(tmp_path_factory):
    path = tmp_path_factory.mktemp("fixture") / "instrument.yaml"
    path.write_text(FIXTURE_INSTRUMENT, encoding="utf-8")
    return load(path)


@pytest.fixture(scope="module")
def waves() -> dict[str, pd.DataFrame]:
    fixture = pd.read_csv(REF / "fixture.csv", keep_default_na=False, na_values=[""])
    return {wave: clean_frame(rows.reset_index(drop=True), old_b=wave != "w3")
            for wave, rows in fixture.groupby("wave", sort=True)}


@pytest.fixture(scope="module")
def results(waves, instrument) -> dict[str, dict[str, pd.DataFrame]]:
    return {overlap: trends(waves, instrument, {"overlap": overlap}, links=LINK) for overlap in ("all", "fresh")}


CASES = json.loads((REF / "trends.json").read_text())["cases"]
WAVE_KEY = ["question", "wave", "measure", "breakdown", "group"]
TEST_KEY = ["question", "measure", "breakdown", "group", "wave_a", "wave_b", "design"]


def close(actual, expected, what):
    assert actual == pytest.approx(expected, rel=RTOL, abs=1e-12), what


def one_row(frame: pd.DataFrame, key: dict, columns: list[str]) -> pd.Series:
    rows = frame[np.logical_and.reduce([frame[c] == key[c] for c in columns])]
    assert len(rows) == 1, key
    return rows.iloc[0]


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] == "wave"], ids=lambda c: c["id"])
def test_wave_estimates_match_r(results, case):
    row = one_row(results["all"]["trends"], case["key"], WAVE_KEY)
    assert not row["suppressed"]
    for name, value in case["expected"].items():
        close(row[name], value, name)


TEST_CASES = [c for c in CASES if c["kind"] == "test"]


@pytest.mark.parametrize("case", TEST_CASES, ids=lambda c: c["id"])
def test_wave_over_wave_tests_match_r(results, case):
    row = one_row(results[case["key"]["overlap"]]["trend_tests"], case["key"], TEST_KEY)
    assert not row["suppressed"]
    for name, value in case["expected"].items():
        close(row[name], value, f"{case['r_call']}: {name}")


@pytest.mark.parametrize("overlap", ["all", "fresh"])
def test_exactly_the_comparisons_r_could_test_are_tested(results, overlap):
    tests = results[overlap]["trend_tests"]
    tested = tests[~tests["suppressed"]]
    ours = {tuple(r) for r in tested[TEST_KEY].itertuples(index=False)
            if overlap == "all" or r.design == "independent"}
    theirs = {tuple(c["key"][k] for k in TEST_KEY) for c in TEST_CASES if c["key"]["overlap"] == overlap}
    assert ours == theirs
    assert tested["p_value"].notna().all() and tests.loc[tests["suppressed"], "p_value"].isna().all()
    estimates = results["all"]["trends"]
    shown = {tuple(r) for r in estimates.loc[~estimates["suppressed"], WAVE_KEY].itertuples(index=False)}
    assert shown == {tuple(c["key"][k] for k in WAVE_KEY) for c in CASES if c["kind"] == "wave"}


def test_columns_and_conventions(results):
    out = results["all"]
    assert list(out["trends"].columns) == TREND_COLUMNS
    assert list(out["trend_tests"].columns) == TREND_TEST_COLUMNS
    tests = out["trend_tests"]
    tested = tests[~tests["suppressed"]]
    assert np.allclose(tested["difference"], tested["estimate_b"] - tested["estimate_a"], atol=1e-9)
    assert ((tested["ci_low"] <= tested["difference"]) & (tested["difference"] <= tested["ci_high"])).all()
    assert set(tests["test"]) == {"two-proportion-z", "mann-whitney", "mcnemar", "wilcoxon-signed-rank"}
    assert (tests["family"] == tests["wave_a"] + ".." + tests["wave_b"] + "/" + tests["breakdown"] + "/"
            + tests["measure"] + "/" + tests["design"]).all()
    independent = tested[tested["design"] == "independent"]
    assert independent["note"].str.contains("answered in both waves and are in both samples").all()
    small = tests[tests["group"] == "Another gender identity"]
    assert len(small) and small["suppressed"].all() and small["note"].str.contains("not tested").all()


def test_a_linked_question_is_read_from_its_earlier_id_with_levels_by_position(results, waves, instrument):
    estimates = results["all"]["trends"]
    qb = estimates[(estimates["question"] == "qb") & (estimates["breakdown"] == "all")]
    assert list(qb["source"]) == ["qb_old", "qb_old", "qb_old", "qb_old", "qb", "qb"]
    assert qb.loc[qb["source"] == "qb_old", "note"].str.contains("levels matched by position").all()
    assert qb["note"].str.contains("reworded in w3").sum() == 4
    unlinked = trends(waves, instrument, links={})
    assert set(unlinked["trends"].loc[unlinked["trends"]["question"] == "qb", "wave"]) == {"w3"}
    assert not (unlinked["trend_tests"]["question"] == "qb").any()


def test_a_question_whose_labels_changed_under_the_same_id_is_not_compared(waves, instrument):
    relabelled = waves["w1"].rename(columns={"qb_old": "qb", "qb_old__status": "qb__status"})
    found, why = answers(relabelled, instrument.question("qb"))
    assert found is None and "are not labels of scale 'concern'" in why and "comparable_with" in why
    out = trends({"w1": relabelled, "w3": waves["w3"]}, instrument, links={})
    qb = out["trends"][out["trends"]["question"] == "qb"]
    unusable = qb[qb["wave"] == "w1"]
    assert len(unusable) == 2 and unusable["suppressed"].all() and unusable["estimate"].isna().all()
    assert unusable["note"].str.contains("not comparable").all()
    assert not (out["trend_tests"]["question"] == "qb").any()


def test_a_question_skipped_in_a_wave_is_compared_with_its_last_asking(waves, instrument):
    skipped = waves["w2"].drop(columns=["qa", "qa__status"])
    out = trends({"w1": waves["w1"], "w2": skipped, "w3": waves["w3"]}, instrument, links=LINK)["trend_tests"]
    qa = out[out["question"] == "qa"]
    assert set(zip(qa["wave_a"], qa["wave_b"])) == {("w1", "w3")}
    assert qa["note"].str.contains("not asked in w2").all()


def test_a_breakdown_missing_from_a_wave_leaves_its_groups_untested(waves, instrument):
    partial = {**waves, "w3": waves["w3"].drop(columns=["gender"])}
    tests = trends(partial, instrument, links=LINK)["trend_tests"]
    later = tests[(tests["wave_b"] == "w3") & (tests["breakdown"] == "gender")]
    assert len(later) and later["suppressed"].all() and (later["n_b"] == 0).all()
    assert (later["design"] == "independent").all()
    earlier = tests[(tests["wave_b"] == "w2") & (tests["breakdown"] == "gender")]
    assert not earlier["suppressed"].all()


def test_without_panel_ids_there_are_no_paired_rows(waves, instrument):
    unlinked = {w: f.drop(columns=["panel_id"]) for w, f in waves.items()}
    tests = trends(unlinked, instrument, links=LINK)["trend_tests"]
    assert set(tests["design"]) == {"independent"}
    assert (tests["n_linked"] == 0).all()
    assert tests["note"].str.contains("no panel_id").all()


def test_linked_respondents_are_grouped_by_the_later_wave(results, waves):
    pairs = waves["w1"].merge(waves["w2"], on="panel_id", suffixes=("_1", "_2"))
    pairs = pairs[pairs["panel_id"].notna() & (pairs["qa__status_1"] == "valid") & (pairs["qa__status_2"] == "valid")]
    assert (pairs["gender_1"].astype(object) != pairs["gender_2"].astype(object)).sum() == 1
    tests = results["all"]["trend_tests"]
    paired = tests[(tests["design"] == "paired") & (tests["question"] == "qa") & (tests["wave_a"] == "w1")
                   & (tests["breakdown"] == "gender") & (tests["measure"] == "mean")].set_index("group")["n_linked"]
    assert {g: n for g, n in paired.items() if n} == pairs["gender_2"].astype(object).value_counts().to_dict()
    whole = tests[(tests["design"] == "paired") & (tests["question"] == "qa") & (tests["wave_a"] == "w1")
                  & (tests["breakdown"] == "all")]
    assert (whole["n_linked"] == len(pairs)).all()


def test_results_do_not_depend_on_row_order(waves, instrument, results):
    shuffled = {w: f.sample(frac=1.0, random_state=3).reset_index(drop=True) for w, f in waves.items()}
    again = trends(shuffled, instrument, {"overlap": "all"}, links=LINK)
    for name in ("trends", "trend_tests"):
        pd.testing.assert_frame_equal(again[name], results["all"][name], check_exact=False, rtol=1e-12)


def test_paired_proportions_against_published_and_r_edge_cases():
    # Fagerland, Lydersen and Laake (2017), Table 8.x: Cavo et al. (2012), n = [[59, 6], [16, 80]]:
    # Newcombe square-and-add estimate -0.0621 (95% CI -0.1186 to -0.0046).
    cavo = paired_proportions([59], [6], [16], [80])
    assert cavo["difference"][0] == pytest.approx(-10 / 161)
    assert (round(cavo["ci_low"][0], 4), round(cavo["ci_high"][0], 4)) == (-0.1186, -0.0046)
    # R mcnemar.test(matrix(c(10, 3, 3, 10), 2)): McNemar's chi-squared = 0 (no correction when b = c)
    equal = paired_proportions([10], [3], [3], [10])
    assert equal["statistic"][0] == 0 and equal["p_value"][0] == 1 and equal["difference"][0] == 0
    none = paired_proportions([10], [0], [0], [10])
    assert np.isnan(none["statistic"][0]) and np.isnan(none["p_value"][0])
    # R mcnemar.test(matrix(c(5, 2, 9, 4), 2), correct = FALSE): 4.454545 = 49 / 11
    uncorrected = paired_proportions([5], [9], [2], [4], correct=False)
    assert uncorrected["statistic"][0] == pytest.approx(49 / 11)


def test_panel_ids_are_salted_hashes_never_the_key():
    keys = pd.Series(["8LQE9T559RHP", "", None, "8LQE9T559RHP", " 46ZY5UB75HM2 "])
    ids = panel_ids(keys, "salt-1")
    assert ids[0] == ids[3] and len(ids[0]) == 16 and ids[0] != keys[0]
    assert ids[1] is None and ids[2] is None
    assert ids[4] == panel_ids(pd.Series(["46ZY5UB75HM2"]), "salt-1")[0]
    assert panel_ids(keys, "salt-2")[0] != ids[0]
    import hashlib
    assert ids[0] == hashlib.sha256(b"salt-18LQE9T559RHP").hexdigest()[:16]
    with pytest.raises(ValueError):
        panel_ids(keys, "")


def test_many_linked_respondents_are_all_paired(instrument):
    """Three waves of 30,000 with half of each wave returning: every returning respondent is linked (speed at
    scale is measured by benchmarks/, not here)."""
    rng = np.random.default_rng(1)
    n = 30_000
    frames = {}
    ids = np.array([f"p{i:07d}" for i in range(2 * n)], dtype=object)
    for k, wave in enumerate(("w1", "w2", "w3")):
        rows = pd.DataFrame({"qa": rng.integers(1, 6, n).astype(float), "qb": rng.integers(1, 6, n).astype(float),
                             "gender": rng.choice(["Woman", "Man"], n), "weog": rng.choice(["WEOG", "non-WEOG"], n),
                             "panel_id": ids[k * n // 2:k * n // 2 + n]})
        rows.loc[rng.random(n) < 0.05, "qa"] = np.nan
        frames[wave] = clean_frame(rows, old_b=False)
    out = trends(frames, instrument)
    tests = out["trend_tests"]
    linked = tests[(tests["question"] == "qb") & (tests["breakdown"] == "all")]["n_linked"]
    assert len(linked) == 8 and (linked == n // 2).all()


# ---------------------------------------------------------------------------------------------
# The bundled synthetic waves 2024-08 and 2024-11
# ---------------------------------------------------------------------------------------------

WAVES = ("2024-05", "2024-08", "2024-11")


@pytest.mark.parametrize("wave", ["2024-08", "2024-11"])
def test_the_synthetic_waves_regenerate_byte_for_byte(wave, tmp_path):
    path = tmp_path / "responses.csv"
    spec = synth.load_spec(SURVEY / "synth.yaml")
    synth.write_export(synth.generate(read_yaml(SURVEY / "instrument.yaml"), spec, wave=wave), path)
    assert path.read_bytes() == (SURVEY / wave / "responses.csv").read_bytes()


def test_the_base_wave_is_the_spec_itself(tmp_path):
    spec = synth.load_spec(SURVEY / "synth.yaml")
    path = tmp_path / "responses.csv"
    synth.write_export(synth.generate(read_yaml(SURVEY / "instrument.yaml"), spec, wave="2024-05"), path)
    assert path.read_bytes() == (SURVEY / "2024-05" / "responses.csv").read_bytes()


@pytest.fixture(scope="module")
def bundled() -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The three Risk Pulse waves through the real ingest, linked by a salted hash of ExternalReference."""
    instrument = load(SURVEY / "instrument.yaml")
    frames = {}
    for wave in WAVES:
        export = read_export(SURVEY / wave / "responses.csv")
        clean = ingest(export, instrument).clean
        keys = export.frame["ExternalReference"].iloc[clean["row"].to_numpy() - 1].reset_index(drop=True)
        clean["panel_id"] = panel_ids(keys, "test-salt").to_numpy()
        frames[wave] = clean
    return frames, trends(frames, instrument)


def test_about_30_percent_of_each_new_wave_took_part_in_the_previous_one(bundled):
    frames, _ = bundled
    ids = {w: set(frames[w]["panel_id"].dropna()) for w in WAVES}
    for earlier, later in zip(WAVES, WAVES[1:]):
        share = len(ids[earlier] & ids[later]) / len(frames[later])
        assert 0.27 <= share <= 0.33, (earlier, later, share)
    assert len(ids["2024-05"] & ids["2024-08"] & ids["2024-11"]) > 10
    raw = {w: pd.read_csv(SURVEY / w / "responses.csv", dtype=str, keep_default_na=False) for w in WAVES}
    returning = raw["2024-08"].merge(raw["2024-05"], on="ExternalReference", suffixes=("", "_may"))
    returning = returning[(returning["Status"] != "Survey Preview") & (returning["ExternalReference"] != "")]
    returning = returning.drop_duplicates("ExternalReference")
    for column in ("D1", "D2", "D3", "D4", "D5", "D6"):
        assert (returning[column] == returning[f"{column}_may"]).mean() > 0.97, column
    assert not set(raw["2024-08"]["ResponseId"]) & set(raw["2024-05"]["ResponseId"])


def test_the_designed_drift_shows_and_returning_respondents_answer_alike(bundled):
    frames, out = bundled
    estimates = out["trends"]
    overall = estimates[(estimates["breakdown"] == "all") & (estimates["measure"] == "topbox")]
    share = overall.set_index(["question", "wave"])["estimate"]
    assert share["harm_j", "2024-05"] < share["harm_j", "2024-08"] < share["harm_j", "2024-11"]
    assert share["pace_adoption", "2024-05"] > share["pace_adoption", "2024-08"] > share["pace_adoption", "2024-11"]
    assert share["harm_j", "2024-11"] - share["harm_j", "2024-05"] > 6
    assert share["pace_adoption", "2024-05"] - share["pace_adoption", "2024-11"] > 10
    tests = out["trend_tests"]
    adoption = tests[(tests["question"] == "pace_adoption") & (tests["breakdown"] == "all")
                     & (tests["measure"] == "mean")]
    assert (adoption["difference"] < 0).all() and (adoption["q_value"] < 0.05).all()
    first, second = frames["2024-05"], frames["2024-08"]
    pairs = first.merge(second, on="panel_id", suffixes=("_a", "_b"))
    scores = {s: pairs[f"harm_a_{s}"].cat.codes.where(pairs[f"harm_a_{s}"].cat.codes >= 0) for s in "ab"}
    assert scores["a"].corr(scores["b"]) > 0.3
    assert set(tests["design"]) == {"independent", "paired"}


VERSIONED_INSTRUMENT = FIXTURE_INSTRUMENT.replace("""  gender:
    type: nominal""", """  concern_old:
    type: ordinal
    levels:
""" + "".join(f"      - {{code: {i + 1}, label: \"{label}\"}}\n" for i, label in enumerate(OLD_LABELS)) + """  gender:
    type: nominal""", 1).replace(
    "  - {id: qb, column: QB, type: ordinal, scale: concern, text: B, topbox: {codes: [4, 5], label: concerned}}",
    "  - {id: qb_old, column: QB, type: ordinal, scale: concern_old, text: B, until: w2}\n"
    "  - {id: qb, column: QB, type: ordinal, scale: concern, text: B, since: w3, topbox: {codes: [4, 5], label: "
    "concerned},\n     comparable_with: {id: qb_old, note: \"same item; the scale's anchors were reworded in w3\"}}", 1)


@pytest.fixture(scope="module")
def versioned(tmp_path_factory):
    path = tmp_path_factory.mktemp("versioned") / "instrument.yaml"
    path.write_text(VERSIONED_INSTRUMENT, encoding="utf-8")
    return load(path)


def test_the_instruments_comparable_with_and_since_until_give_the_declared_link(versioned, waves, results):
    assert [q.id for q in versioned.for_wave("w2").questions][:2] == ["qa", "qb_old"]
    assert [q.id for q in versioned.for_wave("w3").questions][:2] == ["qa", "qb"]
    out = trends(waves, versioned)
    pd.testing.assert_frame_equal(out["trends"], results["all"]["trends"])
    pd.testing.assert_frame_equal(out["trend_tests"], results["all"]["trend_tests"])


def test_trend_questions_say_what_was_compared_and_why_not(versioned, waves):
    skipped = waves["w2"].drop(columns=["qa", "qa__status"])
    table = trends({"w1": waves["w1"], "w2": skipped, "w3": waves["w3"]}, versioned)["trend_questions"]
    assert list(table.columns) == TREND_QUESTION_COLUMNS
    rows = {(r.question, r.wave_a, r.wave_b): r for r in table.itertuples(index=False)}
    assert not rows["qa", "w1", "w2"].compared and rows["qa", "w1", "w2"].reason == "not asked in w2"
    linked = rows["qb", "w2", "w3"]
    assert linked.compared and (linked.source_a, linked.source_b) == ("qb_old", "qb")
    assert "reworded in w3" in linked.reason
    assert rows["qb", "w1", "w2"].compared and rows["qb", "w1", "w2"].source_b == "qb_old"
    replaced = rows["qb_old", "w1", "w2"]
    assert not replaced.compared and "replaced by 'qb'" in replaced.reason
    assert table.loc[table["compared"], "question"].isin(["qa", "qb"]).all()
