"""The analyze stage on the tiny survey: hand-counted tables and identities between them."""

import numpy as np
import pandas as pd
import pytest

from pipeline.analyze import analyze
from pipeline.cli import main
from pipeline.instrument import load
from pipeline.params import DEFAULTS


@pytest.fixture
def tables(tiny):
    assert main(["--root", str(tiny), "ingest", str(tiny / "surveys" / "tiny" / "w1")]) == 0
    clean = pd.read_parquet(tiny / "outputs" / "tiny" / "w1" / "clean.parquet")
    instrument = load(tiny / "surveys" / "tiny" / "instrument.yaml")
    params = {**DEFAULTS["analyze"], "min_group_size": 1}
    return analyze(clean, instrument, params)


def rows(table, **where):
    mask = np.ones(len(table), dtype=bool)
    for key, value in where.items():
        mask &= table[key].to_numpy() == value
    return table[mask]


def test_distribution_counts_by_hand(tables):
    d = rows(tables["distributions"], question="q1", breakdown="all")
    assert d["level"].tolist() == ["Disagree", "Neutral", "Agree"]
    assert d["count"].tolist() == [0, 1, 2] and d["n"].tolist() == [3, 3, 3]
    assert d["dont_know"].tolist() == [1, 1, 1] and d["blank"].tolist() == [0, 0, 0]
    q3 = rows(tables["distributions"], question="q3", breakdown="all")
    assert q3["n"].iloc[0] == 2 and q3["not_asked"].iloc[0] == 1 and q3["blank"].iloc[0] == 1


def test_wilson_interval_for_two_of_three(tables):
    agree = rows(tables["distributions"], question="q1", breakdown="all", level="Agree").iloc[0]
    # Wilson 95% for 2/3: R prop.test(2, 3, correct = FALSE)$conf.int
    assert agree["ci_low"] == pytest.approx(20.765960347624, rel=1e-6)
    assert agree["ci_high"] == pytest.approx(93.850805916636, rel=1e-6)


def test_multi_select_breakdown_shows_selected_groups_and_tests_selected_vs_not(tables):
    d = rows(tables["distributions"], question="q1", breakdown="field")
    assert len(d) == 0
    assert set(rows(tables["topbox"], question="q1")["breakdown"]) == {"all", "gender", "weog", "field:tech", "field:law"}
    tech = rows(tables["topbox"], question="q1", breakdown="field:tech")
    assert tech["group"].tolist() == ["Technical"] and tech["n"].tolist() == [1]


def test_topbox_equals_sum_of_its_levels(tables):
    d = tables["distributions"]
    for _, top in tables["topbox"].iterrows():
        levels = rows(d, question=top["question"], breakdown=top["breakdown"], group=top["group"])
        assert levels["count"].iloc[-1] == top["count"]


def test_percentages_sum_to_100_within_each_group(tables):
    d = tables["distributions"]
    single = d[~d["question"].isin(["field"]) & ~d["suppressed"] & (d["n"] > 0)]
    sums = single.groupby(["question", "breakdown", "group"])["pct"].sum()
    assert np.allclose(sums, 100.0)


def test_small_groups_are_suppressed_and_left_out_of_tests(tiny):
    assert main(["--root", str(tiny), "ingest", str(tiny / "surveys" / "tiny" / "w1")]) == 0
    clean = pd.read_parquet(tiny / "outputs" / "tiny" / "w1" / "clean.parquet")
    tables = analyze(clean, load(tiny / "surveys" / "tiny" / "instrument.yaml"), dict(DEFAULTS["analyze"]))
    assert tables["distributions"]["suppressed"].all()
    assert tables["distributions"]["pct"].isna().all()
    assert len(tables["tests"]) == 0


def test_models_table_says_why_a_model_could_not_be_fitted(tables):
    models = tables["models"]
    assert set(models["question"]) == {"q1", "q3"}
    assert set(models.columns) >= {"odds_ratio", "ci_low", "ci_high", "p_value", "po_p_value", "converged"}
    assert models["note"].str.contains("term(s) not in this survey's data: age", regex=False).all()
    unfitted = models[models["odds_ratio"].isna()]
    assert unfitted["note"].str.contains("model not fitted").all() and not unfitted["converged"].any()


def test_paired_comparison_uses_respondents_who_answered_both(tables):
    paired = tables["paired"]
    assert paired["pair"].tolist() == ["q1_q3"]
    row = paired.iloc[0]
    # Rows 1 (Agree, Neutral) and 6 (don't know, Agree) are the only ones with q3 valid; only row 1 has both.
    assert row["n_pairs"] == 1 and row["mean_a"] == 3 and row["mean_b"] == 2 and row["mean_diff"] == 1
    assert row["test"] == "wilcoxon-signed-rank"
