"""Tests for pipeline.weighted: raking weights from params, weighted row builders and design-based tests.

R references (tests/data/weighted/references.json, written by tests/data/weighted/make_weighted_refs.R with R
survey 4.1.1; every case stores its R call) are computed on the fixture of tests/stats/reference/weights/ with
the raked weights taken as fixed (`dw`), with the raked design itself (`dr`, calibrated SEs) and with unit
weights (`d0`). Tolerance: relative 1e-6 (achieved: about 1e-14 for estimates, SEs and tests; about 3e-8 for
the logit intervals, whose R values come from svyciprop's iteratively fitted svyglm).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipeline import analyze, synth, weighted
from pipeline.analyze import Variable, outcome_variables
from pipeline.breakdowns import Split, all_splits
from pipeline.errors import PulseError
from pipeline.ingest.clean import ingest
from pipeline.ingest.read import Export
from pipeline.instrument import load, read_yaml
from pipeline.params import DEFAULTS
from pipeline.stats.design import rao_scott_chisq, weighted_level_shares, weighted_share
from pipeline.stats.independence import chi_square
from pipeline.stats.ranks import kruskal_wallis_from_counts, mann_whitney_from_counts
from pipeline.stats.weights import rake

REPO = Path(__file__).parent.parent
FIXTURE = REPO / "tests" / "stats" / "reference" / "weights"
REFERENCES = REPO / "tests" / "data" / "weighted" / "references.json"
SURVEY = REPO / "surveys" / "risk-pulse"
R_RTOL = 1e-6
TARGETS = {"region": {"North": 0.25, "South": 0.20, "East": 0.20, "West": 0.15, "Centre": 0.20},
           "gender": {"F": 0.52, "M": 0.48}}
PARAMS = {**DEFAULTS["analyze"], "monte_carlo_tables": 200, "ordinal_distribution_tests": True}


def assert_rel(actual, expected, rtol: float = R_RTOL, what: str = "") -> None:
    actual = np.asarray(actual, dtype=float).ravel()
    expected = np.asarray(expected, dtype=float).ravel()
    assert actual.shape == expected.shape, what
    rel = np.abs(actual - expected) / np.abs(expected)
    assert np.all(rel <= rtol), f"{what}: largest relative error {np.nanmax(rel):.3g} > {rtol:g}"


# ---------------------------------------------------------------------------------------------------------------
# The R fixture


class Fixture:
    def __init__(self) -> None:
        frame = pd.read_csv(FIXTURE / "fixture.csv")
        self.frame = frame
        self.n = len(frame)
        self.r_weights = pd.read_csv(FIXTURE / "rake_weights.csv")["w_rake"].to_numpy()
        valid = frame["item"].notna().to_numpy()
        codes = np.where(valid, frame["item"].fillna(0).astype(int) - 1, -1)
        status = np.where(valid, 0, 3)
        self.item = Variable("item", "fixture", True, tuple("12345"), codes, status, (3, 4), "Agree (4-5)")
        x = np.where(valid, frame["item"].fillna(0) * 1000 + frame["id"], np.nan)    # as in the R script
        levels = np.unique(x[valid])
        x_codes = np.where(valid, np.searchsorted(levels, np.nan_to_num(x)), -1)
        self.untied = Variable("x", "fixture", True, tuple(str(v) for v in levels), x_codes, status)
        self.calibration = list(rake(frame, TARGETS, tol=1e-13).margin_codes)

    def split(self, by: str) -> Split:
        if by == "all":
            return Split("all", ("All respondents",), np.zeros(self.n, dtype=np.int64), (0,), "all")
        labels = tuple(sorted(self.frame[by].unique()))    # R's factor order
        codes = pd.Categorical(self.frame[by], categories=labels).codes.astype(np.int64)
        return Split(by, labels, codes, tuple(range(len(labels))), by)

    def design(self, prefix: str):
        return {"fixed": (self.r_weights, None), "cal": (self.r_weights, self.calibration),
                "unit": (np.ones(self.n), None)}[prefix]


@pytest.fixture(scope="module")
def fx() -> Fixture:
    return Fixture()


@pytest.fixture(scope="module")
def refs() -> dict[str, dict]:
    return {case["name"]: case for case in json.loads(REFERENCES.read_text())["cases"]}


DESIGNS = ["fixed", "cal", "unit"]
BYS = ["all", "region", "gender"]


@pytest.mark.parametrize("by", BYS)
@pytest.mark.parametrize("prefix", DESIGNS)
def test_level_shares_and_logit_intervals_match_r(prefix, by, fx, refs):
    weights, calibration = fx.design(prefix)
    rows = weighted.distribution_rows(fx.item, fx.split(by), PARAMS, weights, calibration)
    levels, ci = refs[f"{prefix}_{by}_levels"], refs[f"{prefix}_{by}_levels_logit_ci"]
    assert list(dict.fromkeys(rows["group"])) == levels["groups"]
    assert_rel(rows["pct"] / 100, levels["estimate"], what=levels["r_call"])
    assert_rel(rows["ci_low"] / 100, ci["ci_low"], what=ci["r_call"])
    assert_rel(rows["ci_high"] / 100, ci["ci_high"], what=ci["r_call"])
    assert set(rows["ci_method"]) == {"design-logit"}
    p, se, n, _ = weighted._level_shares(weighted._variable_cells(fx.item, fx.split(by), weights, calibration))
    assert_rel(se, levels["se"], what=levels["r_call"])
    assert_rel(rows["count"], rows["n"] * rows["pct"] / 100, 1e-15)


@pytest.mark.parametrize("by", BYS)
@pytest.mark.parametrize("prefix", DESIGNS)
def test_topbox_share_matches_svyciprop(prefix, by, fx, refs):
    weights, calibration = fx.design(prefix)
    rows = weighted.topbox_rows(fx.item, fx.split(by), PARAMS, weights, calibration)
    ref = refs[f"{prefix}_{by}_topbox"]
    assert list(rows["group"]) == ref["groups"]
    assert_rel(rows["pct"] / 100, ref["estimate"], what=ref["r_call"])
    assert_rel(rows["ci_low"] / 100, ref["ci_low"], what=ref["r_call"])
    assert_rel(rows["ci_high"] / 100, ref["ci_high"], what=ref["r_call"])


@pytest.mark.parametrize("by", BYS)
@pytest.mark.parametrize("prefix", DESIGNS)
def test_mean_sd_and_interval_match_svymean_svyvar(prefix, by, fx, refs):
    weights, calibration = fx.design(prefix)
    rows = pd.DataFrame(weighted.mean_rows(fx.item, fx.split(by), PARAMS, weights, calibration))
    ref = refs[f"{prefix}_{by}_mean"]
    assert list(rows["group"]) == ref["groups"]
    for column, key in (("mean", "estimate"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("sd", "sd")):
        assert_rel(rows[column], ref[key], what=f"{key}: {ref['r_call']}")
    assert set(rows["ci_method"]) == {"design-wald"}


def by_kind(fx, by, prefix, variable=None) -> dict[str, dict]:
    weights, calibration = fx.design(prefix)
    params = PARAMS if variable is None else {**PARAMS, "ordinal_distribution_tests": False}   # 5 × 188 levels
    rows = weighted.test_rows(variable or fx.item, fx.split(by), params, weights, calibration)
    return {row["family"].rsplit("/", 1)[1]: row for row in rows}


@pytest.mark.parametrize("by", ["region", "gender"])
@pytest.mark.parametrize("prefix", DESIGNS)
def test_rao_scott_matches_svychisq(prefix, by, fx, refs):
    row = by_kind(fx, by, prefix)["distribution"]
    ref = refs[f"{prefix}_{by}_raoscott"]
    assert row["test"] == "rao-scott-f"
    assert_rel([row["statistic"], row["df"], row["p_value"]], [ref["statistic"], ref["ndf"], ref["p_value"]],
               what=ref["r_call"])
    ddf = float(row["note"].split("ddf = ")[1].split(";")[0])
    assert_rel(ddf, ref["ddf"], 1e-9, ref["r_call"])


@pytest.mark.parametrize("prefix", DESIGNS)
def test_topbox_difference_matches_svycontrast(prefix, fx, refs):
    row = by_kind(fx, "gender", prefix)["topbox"]
    ref = refs[f"{prefix}_gender_topbox_difference"]
    assert (row["test"], row["group_a"], row["group_b"]) == ("design-z", ref["group_a"], ref["group_b"])
    assert_rel(row["effect_size"] / 100, ref["estimate"], what=ref["r_call"])
    assert_rel(row["statistic"], (ref["estimate"] / ref["se"]) ** 2, what=ref["r_call"])
    assert_rel(row["p_value"], 2 * stats.norm.sf(abs(ref["estimate"] / ref["se"])), what=ref["r_call"])
    assert_rel([row["ci_low"] / 100, row["ci_high"] / 100], [ref["ci_low"], ref["ci_high"]], what=ref["r_call"])


def check_rank(row, ref, two_groups: bool) -> None:
    if two_groups:
        assert row["test"] == "design-wilcoxon"
        # R: second group minus first (M - F); pulse: group_a minus group_b (F - M).
        assert_rel(-row["statistic"], ref["statistic"], what=ref["r_call"])
        assert row["df"] == ref["df"]
        assert_rel(row["effect_size"], -2 * ref["estimate"], what=ref["r_call"])
    else:
        assert row["test"] == "design-kruskal-wallis"
        assert_rel(row["statistic"] * row["df"], ref["chisq"], what=ref["r_call"])
        assert row["df"] == ref["ndf"]
        assert f"on ({ref['ndf']}, {ref['ddf']}) df" in row["note"]
    assert_rel(row["p_value"], ref["p_value"], what=ref["r_call"])


@pytest.mark.parametrize("by", ["gender", "region"])
@pytest.mark.parametrize("prefix", ["fixed", "cal"])
def test_rank_test_matches_svyranktest_without_ties(prefix, by, fx, refs):
    check_rank(by_kind(fx, by, prefix, fx.untied)["rank"], refs[f"{prefix}_rank_untied_{by}"], by == "gender")


@pytest.mark.parametrize("by", ["gender", "region"])
def test_rank_test_matches_svyranktest_with_ties_and_unit_weights(by, fx, refs):
    check_rank(by_kind(fx, by, "unit")["rank"], refs[f"unit_rank_tied_{by}"], by == "gender")


@pytest.mark.parametrize("by", ["gender", "region"])
@pytest.mark.parametrize("prefix", ["fixed", "cal"])
def test_rank_test_matches_svyranktest_code_with_weighted_midranks(prefix, by, fx, refs):
    check_rank(by_kind(fx, by, prefix)["rank"], refs[f"{prefix}_rank_midrank_{by}"], by == "gender")


def test_weights_for_reproduces_r_rake(fx):
    spec = {"targets": TARGETS, "tol": 1e-13, "max_iter": 1000}
    weights, table, calibration = weighted.weights_for(fx.frame, spec)
    np.testing.assert_allclose(weights, fx.r_weights, rtol=1e-10)
    assert len(calibration) == 2
    for mine, reference in zip(calibration, fx.calibration):
        np.testing.assert_array_equal(mine, reference)
    assert list(table.columns) == weighted.WEIGHTS_COLUMNS
    assert list(table["group"]) == [*TARGETS["region"], *TARGETS["gender"]]
    assert (table["role"] == "target").all()
    np.testing.assert_allclose(table["weighted_pct"], table["target_pct"], atol=1e-9)
    np.testing.assert_allclose(table["target_share"], table["target_pct"], rtol=1e-12)
    assert table["n"].groupby(table["variable"]).sum().tolist() == [fx.n, fx.n]
    first = table.iloc[0]
    assert first["converged"] and first["n_pass_through"] == 0 and first["trimmed"] == 0
    assert first["design_effect"] == pytest.approx(fx.n * (weights ** 2).sum() / weights.sum() ** 2, rel=1e-12)
    assert first["effective_n"] == pytest.approx(fx.n / first["design_effect"], rel=1e-12)


def test_fixed_weights_without_calibration(fx):
    _, _, calibration = weighted.weights_for(fx.frame, {"targets": TARGETS, "calibrated_se": False})
    assert calibration == []


# ---------------------------------------------------------------------------------------------------------------
# Identities with unit weights


@pytest.mark.parametrize("by", BYS)
def test_unit_weights_give_the_unweighted_estimates(by, fx):
    split, ones = fx.split(by), np.ones(fx.n)
    plain = analyze.distribution_rows(fx.item, split, PARAMS)
    rows = weighted.distribution_rows(fx.item, split, PARAMS, ones)
    for column in ("question", "breakdown", "group", "level", "n", "suppressed", *analyze.EXCLUDED):
        np.testing.assert_array_equal(rows[column], plain[column])
    np.testing.assert_allclose(rows["pct"], plain["pct"], rtol=1e-13)
    np.testing.assert_allclose(rows["count"], plain["count"], rtol=1e-13)
    top, plain_top = weighted.topbox_rows(fx.item, split, PARAMS, ones), analyze.topbox_rows(fx.item, split, PARAMS)
    np.testing.assert_allclose(top["pct"], plain_top["pct"], rtol=1e-13)
    means = pd.DataFrame(weighted.mean_rows(fx.item, split, PARAMS, ones))
    plain_means = pd.DataFrame(analyze.mean_rows(fx.item, split, PARAMS, 1))
    np.testing.assert_allclose(means[["mean", "sd"]], plain_means[["mean", "sd"]], rtol=1e-13)


@pytest.mark.parametrize("by", ["region", "gender"])
def test_unit_weights_rao_scott_is_scaled_pearson(by, fx):
    """With unit weights and r × c tested cells out of n respondents, Δ = n/(n−1) · n/N_c · I (design.py's
    reduction, with the N_c respondents in the table), so F = X²_Pearson (n − 1) / (n (r−1)(c−1)) on
    ((r−1)(c−1), (r−1)(c−1)(n − 1)) df, X² of the unweighted table."""
    row = by_kind(fx, by, "unit")["distribution"]
    table, _ = analyze.level_table(fx.item, fx.split(by))
    pearson = chi_square(table)
    n, df = fx.n, pearson.df
    assert row["statistic"] == pytest.approx(pearson.statistic * (n - 1) / (n * df), rel=1e-12)
    assert row["df"] == pytest.approx(df, rel=1e-12)
    assert row["p_value"] == pytest.approx(stats.f.sf(row["statistic"], df, df * (n - 1)), rel=1e-12)
    assert row["effect_size"] == pytest.approx(pearson.effect_size, rel=1e-12)


def test_empty_rectangle_falls_back_to_first_order_rao_scott(fx):
    split = fx.split("region")
    codes = fx.item.codes.copy()
    codes[np.isin(split.codes, [0, 1]) & np.isin(codes, [0, 1])] = 2     # Centre, East: nobody at levels 1, 2
    variable = Variable("item2", "fixture", False, fx.item.labels, codes, fx.item.status)
    table, _ = analyze.level_table(variable, split)
    pearson, n = chi_square(table), fx.n
    row = weighted.test_rows(variable, split, PARAMS, np.ones(n))[0]
    assert row["test"] == "rao-scott-f" and "1 interaction contrast(s) lie in empty cells" in row["note"]
    assert row["df"] == pearson.df == 16
    assert row["p_value"] == pytest.approx(stats.f.sf(row["statistic"], 16, 16 * (n - 1)), rel=1e-12)
    # with empty cells Δ is no longer a multiple of I even with unit weights (in R too), so the scaled Pearson
    # test holds only approximately
    assert row["statistic"] == pytest.approx(pearson.statistic * (n - 1) / (n * 16), rel=0.02)
    weighted_row = weighted.test_rows(variable, split, PARAMS, fx.r_weights, fx.calibration)[0]
    assert 0 < weighted_row["p_value"] < 1 and weighted_row["df"] == 16


def test_unit_weights_rank_effects_are_the_unweighted_ones(fx):
    ones = np.ones(fx.n)
    for by in ("gender", "region"):
        table, _ = analyze.level_table(fx.item, fx.split(by))
        plain = mann_whitney_from_counts(table[0], table[1]) if by == "gender" else kruskal_wallis_from_counts(table)
        row = {r["family"].rsplit("/", 1)[1]: r for r in weighted.test_rows(fx.item, fx.split(by), PARAMS, ones)}
        assert row["rank"]["effect_measure"] == plain.effect_measure
        assert row["rank"]["effect_size"] == pytest.approx(plain.effect_size, rel=1e-12)


def test_weight_scale_does_not_matter(fx):
    split = fx.split("region")
    a = weighted.distribution_rows(fx.item, split, PARAMS, fx.r_weights, fx.calibration)
    b = weighted.distribution_rows(fx.item, split, PARAMS, fx.r_weights * 3.5, fx.calibration)
    for column in ("pct", "ci_low", "ci_high", "count"):
        np.testing.assert_allclose(a[column], b[column], rtol=1e-12)
    ta = weighted.test_rows(fx.item, split, PARAMS, fx.r_weights)
    tb = weighted.test_rows(fx.item, split, PARAMS, fx.r_weights * 3.5)
    np.testing.assert_allclose([r["p_value"] for r in ta], [r["p_value"] for r in tb], rtol=1e-12)


def test_columns_are_those_of_the_unweighted_tables(fx):
    split, w = fx.split("gender"), fx.r_weights
    assert list(weighted.distribution_rows(fx.item, split, PARAMS, w)) == analyze.DISTRIBUTION_COLUMNS
    assert list(weighted.topbox_rows(fx.item, split, PARAMS, w)) == analyze.TOPBOX_COLUMNS
    assert list(weighted.mean_rows(fx.item, split, PARAMS, w)[0]) == analyze.MEAN_COLUMNS
    plain = analyze.test_rows(fx.item, split, PARAMS, 1)
    rows = weighted.test_rows(fx.item, split, PARAMS, w)
    assert [r["family"] for r in rows] == [r["family"] for r in plain]
    assert all(set(r) == set(plain[0]) for r in rows)
    assert set(plain[0]) == set(analyze.TEST_COLUMNS) - {"q_value"}


def test_zero_share_gets_a_wilson_interval_on_the_effective_n(fx):
    split = fx.split("region")
    codes = fx.item.codes.copy()
    codes[(split.codes == 0) & (codes == 0)] = 1          # nobody in Centre answers level 1
    variable = Variable("item0", "fixture", True, fx.item.labels, codes, fx.item.status, (3, 4))
    rows = pd.DataFrame(weighted.distribution_rows(variable, split, PARAMS, fx.r_weights))
    zero = rows[(rows.group == "Centre") & (rows.level == "1")].iloc[0]
    assert zero.pct == 0 and zero.ci_low == 0 and 0 < zero.ci_high < 100
    assert zero.ci_method == "wilson-effective-n"
    w = fx.r_weights[(split.codes == 0) & (codes >= 0)]
    n_eff, z2 = w.sum() ** 2 / (w ** 2).sum(), stats.norm.ppf(0.975) ** 2
    assert zero.ci_high == pytest.approx(100 * z2 / (n_eff + z2), rel=1e-12)
    assert set(rows.ci_method[rows.pct > 0]) == {"design-logit"}


def test_suppressed_groups_have_no_estimates_and_stay_out_of_tests(fx):
    params = {**PARAMS, "min_group_size": 30}
    split = fx.split("region")
    rows = pd.DataFrame(weighted.distribution_rows(fx.item, split, params, fx.r_weights))
    small = rows[rows.group == "Centre"]
    assert small.suppressed.all() and small.pct.isna().all() and small["count"].isna().all()
    tests = weighted.test_rows(fx.item, split, params, fx.r_weights)
    assert all("Centre" not in r["groups"] and "Centre (n=18)" in r["note"] for r in tests)


# ---------------------------------------------------------------------------------------------------------------
# A synthetic wave: raking to params targets, pass-through respondents, calibrated SEs against design.py


@pytest.fixture(scope="module")
def wave():
    instrument = load(SURVEY / "instrument.yaml")
    frame = synth.generate(read_yaml(SURVEY / "instrument.yaml"), synth.load_spec(SURVEY / "synth.yaml"), n=300, seed=7)
    frame = frame.fillna("").astype(object)
    clean = ingest(Export(frame, SURVEY / "synthetic.csv", "utf-8", ",", 2), instrument).clean
    clean.loc[clean.index[:4], "un_group"] = "Unknown"
    clean.loc[clean.index[4:7], "un_group"] = np.nan
    return instrument, clean


EQUAL_UN = {"targets": {"un_group": "equal", "gender": {"Woman": 0.5, "Man": 0.5}}, "trim": None}


def test_equal_un_group_targets_give_equal_weighted_groups(wave):
    instrument, clean = wave
    weights, table, calibration = weighted.weights_for(clean, EQUAL_UN)
    assert weights.mean() == pytest.approx(1.0, rel=1e-12)
    un = table[table.variable == "un_group"].set_index("group")
    targeted = ["African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG"]
    assert list(un.index) == [*targeted, "Unknown", "(missing)"]
    assert (un.loc[targeted, "role"] == "target").all() and (un.loc[["Unknown", "(missing)"], "role"] ==
                                                             "pass-through").all()
    assert list(un.loc[["Unknown", "(missing)"], "n"]) == [4, 3]
    np.testing.assert_allclose(table.weighted_pct, table.target_pct, atol=1e-6)
    np.testing.assert_allclose(un.loc[["Unknown", "(missing)"], "weighted_pct"],
                               un.loc[["Unknown", "(missing)"], "sample_pct"], atol=1e-6)
    gender = table[table.variable == "gender"].set_index("group")
    assert list(gender.index) == ["Woman", "Man", "Another gender identity", "(missing)"]
    assert table.n_pass_through.iloc[0] == ((clean.un_group.isna() | (clean.un_group == "Unknown"))
                                            | ~clean.gender.isin(["Woman", "Man"])).sum()

    variables = {v.id: v for v in outcome_variables(clean, instrument)}
    whole = all_splits(clean, instrument)[0]
    rows = pd.DataFrame(weighted.distribution_rows(variables["un_group"], whole, PARAMS, weights, calibration))
    rows = rows.set_index("level")
    known = rows.loc[targeted]
    # among respondents with a targeted UN group: 20% each
    np.testing.assert_allclose(100 * known.pct / known.pct.sum(), 20.0, atol=1e-6)
    # a raking margin is fixed by calibration: zero SE, so the interval collapses onto the share
    np.testing.assert_allclose(known.ci_low, known.pct, atol=1e-6)
    np.testing.assert_allclose(known.ci_high, known.pct, atol=1e-6)
    g = pd.DataFrame(weighted.distribution_rows(variables["gender"], whole, PARAMS, weights, calibration))
    g = g.set_index("level")
    assert g.loc["Woman", "pct"] == pytest.approx(g.loc["Man", "pct"], rel=1e-7)


def test_equal_only_un_group_gives_20_percent_each_when_no_group_is_unknown(wave):
    instrument, clean = wave
    clean = clean[clean.un_group.notna() & (clean.un_group != "Unknown")].reset_index(drop=True)
    weights, table, calibration = weighted.weights_for(clean, {"targets": {"un_group": "equal"}})
    variables = {v.id: v for v in outcome_variables(clean, instrument)}
    whole = all_splits(clean, instrument)[0]
    rows = pd.DataFrame(weighted.distribution_rows(variables["un_group"], whole, PARAMS, weights, calibration))
    shown = rows[rows.n > 0].set_index("level").loc[["African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG"]]
    np.testing.assert_allclose(shown.pct, 20.0, atol=1e-6)
    assert rows.set_index("level").loc["Unknown", "pct"] == 0
    assert table.iloc[0].iterations >= 1 and bool(table.iloc[0].converged)


def test_calibrated_and_fixed_ses_agree_with_design_py_on_a_wave(wave):
    """Domain shares (every group of every split) and Rao–Scott tests against pipeline.stats.design, which is
    verified against R, with three raking margins including pass-through categories."""
    instrument, clean = wave
    spec = {"targets": {**EQUAL_UN["targets"], "age": "equal"}}
    weights, _, calibration = weighted.weights_for(clean, spec)
    variables = {v.id: v for v in outcome_variables(clean, instrument)}
    splits = {s.breakdown: s for s in all_splits(clean, instrument)}
    for cal in (calibration, None):
        for question, breakdown in (("concern_overall", "weog_gender"), ("sector", "un_group"),
                                    ("concern_overall", "all")):
            variable, split = variables[question], splits[breakdown]
            cells = weighted._variable_cells(variable, split, weights, cal)
            shares, ses, _, _ = weighted._level_shares(cells)
            for g in range(len(split.labels)):
                if cells.counts[g].sum() == 0:
                    continue
                codes = np.where(split.codes == g, variable.codes, -1)
                est, se = weighted_level_shares(codes, weights, len(variable.labels), calibration=cal)
                np.testing.assert_allclose(shares[g], est, rtol=1e-12)
                np.testing.assert_allclose(ses[g], se, rtol=1e-9, atol=1e-15)
        variable, split = variables["sector"], splits["weog"]
        row = {r["family"].rsplit("/", 1)[1]: r for r in weighted.test_rows(variable, split, PARAMS, weights, cal)}
        expected = rao_scott_chisq(split.codes, np.where(split.codes >= 0, variable.codes, -1), weights, "F",
                                   calibration=cal)
        assert row["distribution"]["statistic"] == pytest.approx(expected.statistic, rel=1e-9)
        assert row["distribution"]["df"] == pytest.approx(expected.df, rel=1e-9)
        assert row["distribution"]["p_value"] == pytest.approx(expected.p_value, rel=1e-9)
        # multi-select: share of each choice among the group's valid answers
        field, split = variables["field"], splits["weog"]
        rows = pd.DataFrame(weighted.distribution_rows(field, split, PARAMS, weights, cal))
        for g, label in enumerate(split.labels):
            for j, choice in enumerate(field.labels):
                valid = (split.codes == g) & (field.status == 0)
                est, se = weighted_share(field.selected[:, j], weights, valid, calibration=cal)
                row = rows[(rows.group == label) & (rows.level == choice)].iloc[0]
                assert row.pct == pytest.approx(100 * est, rel=1e-12)


def test_row_order_does_not_change_weights_or_rows(wave):
    instrument, clean = wave
    shuffled = clean.sample(frac=1, random_state=3).reset_index(drop=True)
    out = []
    for frame in (clean, shuffled):
        weights, table, calibration = weighted.weights_for(frame, EQUAL_UN)
        variables = {v.id: v for v in outcome_variables(frame, instrument)}
        split = {s.breakdown: s for s in all_splits(frame, instrument)}["weog"]
        rows = pd.DataFrame(weighted.distribution_rows(variables["concern_overall"], split, PARAMS, weights,
                                                       calibration))
        tests = pd.DataFrame(weighted.test_rows(variables["concern_overall"], split, PARAMS, weights, calibration))
        out.append((table, rows, tests))
    for a, b in zip(*out):
        pd.testing.assert_frame_equal(a, b, rtol=1e-9)


def test_trimming_and_convergence_are_reported(wave):
    _, clean = wave
    untrimmed = weighted.weights_for(clean, EQUAL_UN)[1].iloc[0]
    assert untrimmed.trimmed == 0 and untrimmed.weight_max > 3.2
    weights, table, _ = weighted.weights_for(clean, {"targets": EQUAL_UN["targets"], "trim": [0.3, 3.2]})
    first = table.iloc[0]
    assert (first.trim_low, first.trim_high) == (0.3, 3.2) and first.trimmed > 0 and first.converged
    assert first.weight_max == pytest.approx(3.2, rel=1e-6) and first.weight_min >= 0.3
    assert first.design_effect < untrimmed.design_effect
    np.testing.assert_allclose(table.weighted_pct, table.target_pct, atol=1e-5)
    # bounds the margins cannot meet: the last weights, flagged
    table = weighted.weights_for(clean, {"targets": EQUAL_UN["targets"], "trim": [0.5, 1.6], "max_iter": 50})[1]
    first = table.iloc[0]
    assert not first.converged and first.iterations == 50 and first.max_margin_error > first.tol


def test_target_forms(wave):
    _, clean = wave
    a = weighted.weights_for(clean, {"targets": {"gender": {"Woman": 50, "Man": 50}}})[0]
    b = weighted.weights_for(clean, {"targets": {"gender": ["Woman", "Man"]}})[0]
    c = weighted.weights_for(clean, {"targets": {"gender": {"Woman": 0.5, "Man": "0.5"}}, "tol": "1e-8"})[0]
    np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(a, c, rtol=1e-12)


@pytest.mark.parametrize(("spec", "key", "words"), [
    ({"targets": {"nationalty": "equal"}}, "analyze.weights.targets.nationalty:", "no variable 'nationalty'"),
    ({"targets": {"gender": {"Female": 0.5, "Man": 0.5}}}, "analyze.weights.targets.gender.Female:",
     "categories are Woman, Man, Another gender identity"),
    ({"targets": {"un_group": {"WEOG": 0.5, "Unknown": 0.5}}}, "analyze.weights.targets.un_group.Unknown:",
     "no respondent in this wave"),
    ({"targets": {"gender": {"Woman": 0.5, "Man": 0.4}}}, "analyze.weights.targets.gender:", "sum to 0.9"),
    ({"targets": {"gender": {"Woman": 0, "Man": 1}}}, "analyze.weights.targets.gender.Woman:", "positive share"),
    ({"targets": {"gender": "half"}}, "analyze.weights.targets.gender:", "the word equal"),
    ({"targets": {}}, "analyze.weights.targets:", "at least one raking variable"),
    ({"targets": {"gender": "equal"}, "trim": [2, 5]}, "analyze.weights.trim:", "0 <= low < 1 < high"),
    ({"targets": {"gender": "equal"}, "max_iter": 0}, "analyze.weights.max_iter:", "at least 1"),
    ({"targets": {"gender": "equal"}, "calibrated": True}, "analyze.weights.calibrated:", "unknown setting"),
    ("equal", "analyze.weights:", "expected a mapping"),
])
def test_bad_targets_are_one_line_errors_naming_params_and_key(wave, spec, key, words):
    _, clean = wave
    if "Unknown" in str(spec):
        clean = clean[clean.un_group != "Unknown"]
    with pytest.raises(PulseError) as error:
        weighted.weights_for(clean, spec)
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"params.yaml: {key}") and words in message, message


def test_a_million_respondents_give_coherent_rows():
    """Every row builder on 1,000,000 respondents (codes -1 = no group / not valid): shares add to 100 in every
    group and p-values are probabilities. Speed at scale is measured by benchmarks/, not here."""
    rng = np.random.default_rng(5)
    n = 1_000_000
    clean = pd.DataFrame({
        "un_group": pd.Categorical(rng.choice(["African", "Asia-Pacific", "Eastern European", "GRULAC", "WEOG"], n,
                                              p=[0.15, 0.2, 0.1, 0.1, 0.45])),
        "gender": pd.Categorical(rng.choice(["Woman", "Man", "Another gender identity"], n, p=[0.35, 0.62, 0.03])),
    })
    splits = [Split("all", ("All respondents",), np.zeros(n, dtype=np.int64), (0,), "all")]
    for size in (2, 5, 15):
        splits.append(Split(f"s{size}", tuple(map(str, range(size))), rng.integers(-1, size, n), tuple(range(size)),
                            f"s{size}"))
    variables = []
    for q in range(2):
        codes = rng.integers(-1, 5, n)
        variables.append(Variable(f"q{q}", "g", True, tuple("abcde"), codes, np.where(codes >= 0, 0, 1), (3, 4)))
    weights, _, calibration = weighted.weights_for(clean, EQUAL_UN)
    for variable in variables:
        for split in splits:
            rows = pd.DataFrame(weighted.distribution_rows(variable, split, PARAMS, weights, calibration))
            assert np.allclose(rows.groupby("group")["pct"].sum(), 100)
            weighted.topbox_rows(variable, split, PARAMS, weights, calibration)
            weighted.mean_rows(variable, split, PARAMS, weights, calibration)
            if split.tested:
                tests = pd.DataFrame(weighted.test_rows(variable, split, PARAMS, weights, calibration))
                assert tests["p_value"].between(0, 1).all()
