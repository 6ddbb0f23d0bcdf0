"""Tests for pipeline.stats.design against R survey 4.x reference values.

References (tests/stats/reference/weights/references.json) were produced by
make_weights_refs.R in the same folder; each entry holds the R call beside its values.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipeline.stats.design import (
    RaoScottResult,
    rao_scott_chisq,
    weighted_level_shares,
    weighted_mean,
    weighted_share,
)
from pipeline.stats.weights import rake

REF_DIR = Path(__file__).parent / "reference" / "weights"
REGIONS = ["North", "South", "East", "West", "Centre"]
TARGETS = {
    "region": {"North": 0.25, "South": 0.20, "East": 0.20, "West": 0.15, "Centre": 0.20},
    "gender": {"F": 0.52, "M": 0.48},
}
R_RTOL = 1e-6


def assert_rel_close(actual, expected, rtol: float, what: str = "") -> None:
    actual = np.atleast_1d(np.asarray(actual, dtype=float))
    expected = np.atleast_1d(np.asarray(expected, dtype=float))
    assert actual.shape == expected.shape, what
    rel = np.abs(actual - expected) / np.abs(expected)
    assert np.all(rel <= rtol), f"{what}: max relative error {rel.max():.3g} > {rtol:g}"


class Sample:
    def __init__(self) -> None:
        frame = pd.read_csv(REF_DIR / "fixture.csv")
        self.frame = frame
        self.n = len(frame)
        self.weights = pd.read_csv(REF_DIR / "rake_weights.csv")["w_rake"].to_numpy()
        self.valid = frame["item"].notna().to_numpy()
        self.item = frame["item"].to_numpy(dtype=float)
        self.agree = np.nan_to_num(self.item) >= 4
        self.item_codes = np.where(self.valid, np.nan_to_num(self.item).astype(int) - 1, -1)
        self.region_codes = pd.Categorical(frame["region"], categories=REGIONS).codes.astype(int)
        self.gender_codes = pd.Categorical(frame["gender"], categories=["F", "M"]).codes.astype(int)
        self.calibration = rake(frame, TARGETS, tol=1e-13).margin_codes

    def codes(self, name: str) -> np.ndarray:
        return {"region": self.region_codes, "gender": self.gender_codes, "item": self.item_codes}[name]


@pytest.fixture(scope="module")
def sample() -> Sample:
    return Sample()


@pytest.fixture(scope="module")
def references() -> dict[str, dict]:
    doc = json.loads((REF_DIR / "references.json").read_text())
    return {entry["name"]: entry for entry in doc["entries"]}


def calibration_for(prefix: str, sample: Sample):
    return sample.calibration if prefix == "cal" else None


@pytest.mark.parametrize("prefix", ["fixed", "cal"])
def test_share_matches_svymean(prefix: str, sample: Sample, references) -> None:
    ref = references[f"{prefix}_share_agree"]
    est, se = weighted_share(
        sample.agree, sample.weights, sample.valid, calibration=calibration_for(prefix, sample)
    )
    assert_rel_close(est, ref["estimate"], R_RTOL, ref["call"])
    assert_rel_close(se, ref["se"], R_RTOL, ref["call"])


def test_share_matches_svyratio(sample: Sample, references) -> None:
    ref = references["fixed_ratio_agree"]
    est, se = weighted_share(sample.agree, sample.weights, sample.valid)
    assert_rel_close(est, ref["estimate"], R_RTOL, ref["call"])
    assert_rel_close(se, ref["se"], R_RTOL, ref["call"])


@pytest.mark.parametrize("prefix", ["fixed", "cal"])
def test_level_shares_match_svymean_factor(prefix: str, sample: Sample, references) -> None:
    ref = references[f"{prefix}_levels_item"]
    est, se = weighted_level_shares(
        sample.item_codes, sample.weights, 5, calibration=calibration_for(prefix, sample)
    )
    assert_rel_close(est, ref["estimate"], R_RTOL, ref["call"])
    assert_rel_close(se, ref["se"], R_RTOL, ref["call"])
    assert est.sum() == pytest.approx(1.0, abs=1e-14)


def test_level_shares_without_missing(sample: Sample, references) -> None:
    ref = references["fixed_levels_region"]
    est, se = weighted_level_shares(sample.region_codes, sample.weights, 5)
    assert_rel_close(est, ref["estimate"], R_RTOL, ref["call"])
    assert_rel_close(se, ref["se"], R_RTOL, ref["call"])


def test_calibrated_se_of_a_raking_margin_is_zero(sample: Sample, references) -> None:
    ref = references["cal_levels_region"]
    est, se = weighted_level_shares(
        sample.region_codes, sample.weights, 5, calibration=sample.calibration
    )
    assert_rel_close(est, ref["estimate"], R_RTOL, ref["call"])
    assert np.all(np.abs(ref["se"]) < 1e-15)
    assert np.all(se < 1e-12)


@pytest.mark.parametrize("prefix", ["fixed", "cal"])
def test_mean_matches_svymean(prefix: str, sample: Sample, references) -> None:
    ref = references[f"{prefix}_mean_item"]
    cal = calibration_for(prefix, sample)
    est, se = weighted_mean(sample.item, sample.weights, calibration=cal)
    assert_rel_close(est, ref["estimate"], R_RTOL, ref["call"])
    assert_rel_close(se, ref["se"], R_RTOL, ref["call"])
    est_v, se_v = weighted_mean(
        np.nan_to_num(sample.item), sample.weights, sample.valid, calibration=cal
    )
    assert (est_v, se_v) == pytest.approx((est, se), rel=1e-14)


def test_mean_with_na_rm_reference(sample: Sample, references) -> None:
    ref = references["fixed_mean_item_narm"]
    est, se = weighted_mean(sample.item, sample.weights)
    assert_rel_close([est, se], [ref["estimate"][0], ref["se"][0]], R_RTOL, ref["call"])


CHISQ_CASES = [
    (prefix, stat, pair)
    for prefix, pairs in (
        ("fixed", [("region", "gender"), ("region", "item"), ("gender", "item")]),
        ("cal", [("region", "item"), ("gender", "item")]),
    )
    for pair in pairs
    for stat in ("F", "Chisq")
]


@pytest.mark.parametrize(("prefix", "stat", "pair"), CHISQ_CASES)
def test_rao_scott_matches_svychisq(prefix, stat, pair, sample: Sample, references) -> None:
    ref = references[f"{prefix}_chisq_{stat}_{pair[0]}_{pair[1]}"]
    result = rao_scott_chisq(
        sample.codes(pair[0]),
        sample.codes(pair[1]),
        sample.weights,
        stat,
        calibration=calibration_for(prefix, sample),
    )
    assert result.method == stat
    assert_rel_close(result.statistic, ref["statistic"], R_RTOL, ref["call"])
    assert_rel_close(result.p_value, ref["p_value"], R_RTOL, ref["call"])
    if stat == "F":
        assert_rel_close(result.df, ref["ndf"], R_RTOL, ref["call"])
        assert_rel_close(result.ddf, ref["ddf"], R_RTOL, ref["call"])
    else:
        assert result.df == ref["df"][0]
        assert result.ddf is None
    assert "svychisq" in result.note


def test_rao_scott_note_mentions_missing_rows(sample: Sample) -> None:
    result = rao_scott_chisq(sample.region_codes, sample.item_codes, sample.weights)
    assert "12 row(s) with a missing code" in result.note
    assert (result.n_rows, result.n_cols) == (5, 5)


def test_comparison_detects_relative_perturbation_of_1e_5(sample: Sample, references) -> None:
    ref = references["fixed_chisq_F_region_gender"]
    result = rao_scott_chisq(sample.region_codes, sample.gender_codes, sample.weights)
    assert_rel_close(result.statistic, ref["statistic"], R_RTOL)
    with pytest.raises(AssertionError):
        assert_rel_close(result.statistic, np.array(ref["statistic"]) * (1 + 1e-5), R_RTOL)
    se_ref = references["fixed_share_agree"]["se"][0]
    _, se = weighted_share(sample.agree, sample.weights, sample.valid)
    with pytest.raises(AssertionError):
        assert_rel_close(se, se_ref * (1 - 1e-5), R_RTOL)


def test_unit_weights_share_is_unweighted_share(sample: Sample) -> None:
    ones = np.ones(sample.n)
    est, se = weighted_share(sample.agree, ones, sample.valid)
    p = sample.agree[sample.valid].mean()
    assert est == pytest.approx(p, rel=1e-15)
    n, n_valid = sample.n, sample.valid.sum()
    assert se == pytest.approx(np.sqrt(n / (n - 1) * p * (1 - p) / n_valid), rel=1e-13)
    est_all, se_all = weighted_share(sample.agree, ones)
    p_all = sample.agree.mean()
    assert est_all == pytest.approx(p_all, rel=1e-15)
    assert se_all == pytest.approx(np.sqrt(p_all * (1 - p_all) / (n - 1)), rel=1e-13)


def test_unit_weights_mean_and_levels_are_unweighted(sample: Sample) -> None:
    ones = np.ones(sample.n)
    x = sample.region_codes.astype(float) * 1.5 + 2
    mean, se = weighted_mean(x, ones)
    assert mean == pytest.approx(x.mean(), rel=1e-15)
    assert se == pytest.approx(x.std(ddof=1) / np.sqrt(sample.n), rel=1e-13)
    shares, _ = weighted_level_shares(sample.region_codes, ones, 5)
    np.testing.assert_allclose(shares, np.bincount(sample.region_codes) / sample.n, rtol=1e-15)


def test_unit_weights_rao_scott_reduces_to_scaled_pearson(sample: Sample, references) -> None:
    ones = np.ones(sample.n)
    n = sample.n
    table = pd.crosstab(sample.region_codes, sample.gender_codes).to_numpy()
    pearson, _, dof, _ = stats.chi2_contingency(table, correction=False)
    assert pearson == pytest.approx(references["unit_pearson_region_gender"]["statistic"][0], rel=1e-12)

    chisq = rao_scott_chisq(sample.region_codes, sample.gender_codes, ones, "Chisq")
    assert chisq.statistic == pytest.approx(pearson, rel=1e-12)
    assert chisq.mean_deff == pytest.approx(n / (n - 1), rel=1e-12)
    assert chisq.p_value == pytest.approx(stats.chi2.sf(pearson * (n - 1) / n, dof), rel=1e-12)

    f = rao_scott_chisq(sample.region_codes, sample.gender_codes, ones, "F")
    assert f.statistic == pytest.approx(pearson * (n - 1) / (n * dof), rel=1e-12)
    assert f.df == pytest.approx(dof, rel=1e-12)
    assert f.ddf == pytest.approx(dof * (n - 1), rel=1e-12)
    assert f.p_value == pytest.approx(stats.f.sf(f.statistic, dof, dof * (n - 1)), rel=1e-12)

    for result, name in ((f, "unit_chisq_F_region_gender"), (chisq, "unit_chisq_Chisq_region_gender")):
        ref = references[name]
        assert_rel_close([result.statistic, result.p_value], [ref["statistic"][0], ref["p_value"][0]], R_RTOL)


def test_results_do_not_depend_on_weight_scale(sample: Sample) -> None:
    scaled = sample.weights * 3.7
    assert weighted_share(sample.agree, scaled, sample.valid) == pytest.approx(
        weighted_share(sample.agree, sample.weights, sample.valid), rel=1e-13
    )
    a = rao_scott_chisq(sample.region_codes, sample.item_codes, scaled)
    b = rao_scott_chisq(sample.region_codes, sample.item_codes, sample.weights)
    assert (a.statistic, a.df, a.p_value) == pytest.approx((b.statistic, b.df, b.p_value), rel=1e-12)


def test_rao_scott_result_type(sample: Sample) -> None:
    result = rao_scott_chisq(sample.region_codes, sample.gender_codes, sample.weights)
    assert isinstance(result, RaoScottResult)
    assert 0 <= result.p_value <= 1
    assert result.mean_deff > 0


def test_input_validation(sample: Sample) -> None:
    with pytest.raises(ValueError, match="length"):
        weighted_share(sample.agree, sample.weights[:-1])
    with pytest.raises(ValueError, match="non-negative"):
        weighted_mean(np.ones(3), np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="below n_levels"):
        weighted_level_shares(sample.item_codes, sample.weights, 4)
    with pytest.raises(ValueError, match="two observed levels"):
        rao_scott_chisq(np.zeros(sample.n, dtype=int), sample.gender_codes, sample.weights)
    with pytest.raises(ValueError, match="statistic"):
        rao_scott_chisq(sample.region_codes, sample.gender_codes, sample.weights, "Wald")
    with pytest.raises(ValueError, match="no positive weight"):
        weighted_share(sample.agree, sample.weights, np.zeros(sample.n, dtype=bool))
