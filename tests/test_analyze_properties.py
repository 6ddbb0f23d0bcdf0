"""Invariants of the analyze stage on a small synthetic wave: row order and group names do not matter."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pipeline import synth
from pipeline.analyze import analyze
from pipeline.ingest.clean import ingest
from pipeline.ingest.read import Export
from pipeline.instrument import load, read_yaml
from pipeline.params import DEFAULTS

REPO = Path(__file__).parent.parent
SURVEY = REPO / "surveys" / "risk-pulse"
PARAMS = {**DEFAULTS["analyze"], "monte_carlo_tables": 200, "model_terms": ["gender", "weog"]}


@pytest.fixture(scope="module")
def wave():
    instrument = load(SURVEY / "instrument.yaml")
    frame = synth.generate(read_yaml(SURVEY / "instrument.yaml"), synth.load_spec(SURVEY / "synth.yaml"), n=120, seed=7)
    frame = frame.fillna("").astype(object)
    clean = ingest(Export(frame, SURVEY / "synthetic.csv", "utf-8", ",", 2), instrument).clean
    return instrument, clean, analyze(clean, instrument, PARAMS)


def sorted_table(table: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in ("question", "breakdown", "group", "level", "test", "term", "group_a", "group_b") if c in table]
    return table.sort_values(keys, kind="stable").reset_index(drop=True)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_change_any_table(wave, seed):
    instrument, clean, tables = wave
    shuffled = clean.sample(frac=1, random_state=np.random.RandomState(seed)).reset_index(drop=True)
    again = analyze(shuffled, instrument, PARAMS)
    for name, table in tables.items():
        pd.testing.assert_frame_equal(sorted_table(again[name]), sorted_table(table), rtol=1e-9, check_dtype=False)


def test_renaming_groups_only_renames_them(wave):
    instrument, clean, tables = wave
    renamed = clean.copy()
    mapping = {"WEOG": "Group W", "non-WEOG": "Group N"}
    renamed["weog"] = renamed["weog"].cat.rename_categories(mapping)
    again = analyze(renamed, instrument_with_weog(instrument, mapping), PARAMS)
    for name in ("distributions", "topbox", "means"):
        before = tables[name][tables[name].breakdown == "weog"].replace({"group": mapping})
        after = again[name][again[name].breakdown == "weog"]
        pd.testing.assert_frame_equal(sorted_table(after), sorted_table(before), rtol=1e-12, check_dtype=False)
    tests_before = tables["tests"][tables["tests"].breakdown == "weog"].reset_index(drop=True)
    tests_after = again["tests"][again["tests"].breakdown == "weog"].reset_index(drop=True)
    np.testing.assert_allclose(tests_after["p_value"], tests_before["p_value"], rtol=1e-12)


def instrument_with_weog(instrument, mapping):
    from dataclasses import replace

    derived = tuple(
        replace(d, options={**d.options, "map": {k: mapping.get(v, v) for k, v in d.options["map"].items()},
                            "other": mapping.get(d.options["other"], d.options["other"])}) if d.id == "weog" else d
        for d in instrument.derived)
    return replace(instrument, derived=derived)


def test_q_values_are_never_below_p_values(wave):
    tests = wave[2]["tests"]
    assert (tests["q_value"] >= tests["p_value"] - 1e-15).all()


def test_wilson_bounds_inside_0_100_and_around_the_share(wave):
    d = wave[2]["distributions"].dropna(subset=["pct"])
    assert ((d.ci_low >= 0) & (d.ci_high <= 100) & (d.ci_low <= d.pct + 1e-9) & (d.pct <= d.ci_high + 1e-9)).all()


def test_two_worker_processes_give_the_same_tables(wave):
    instrument, clean, tables = wave
    parallel = analyze(clean, instrument, {**PARAMS, "workers": 2})
    for name, table in tables.items():
        pd.testing.assert_frame_equal(parallel[name], table)


def test_weighted_analysis_hits_the_raking_targets(wave):
    instrument, clean, _ = wave
    params = {**PARAMS, "weights": {"targets": {"un_group": "equal"}}}
    tables = analyze(clean, instrument, params)
    d = tables["distributions"]
    groups = d[(d.question == "un_group") & (d.breakdown == "all") & (d.level != "Unknown")]
    np.testing.assert_allclose(groups["pct"], 20.0, rtol=1e-6)
    assert tables["weights"]["converged"].all() and len(tables["posthoc"]) == 0
    assert set(tables["tests"]["test"]) <= {"design-wilcoxon", "design-kruskal-wallis", "rao-scott-f", "design-z"}
