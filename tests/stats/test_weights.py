"""Tests for pipeline.stats.weights (raking), against R survey::rake() references.

Reference values come from tests/stats/reference/weights/make_weights_refs.R.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.stats.weights import RakeResult, RakingError, kish_design_effect, rake

REF_DIR = Path(__file__).parent / "reference" / "weights"
REGION_TARGETS = {"North": 0.25, "South": 0.20, "East": 0.20, "West": 0.15, "Centre": 0.20}
GENDER_TARGETS = {"F": 0.52, "M": 0.48}
TARGETS = {"region": REGION_TARGETS, "gender": GENDER_TARGETS}
R_RTOL = 1e-6


def assert_rel_close(actual, expected, rtol: float, what: str = "") -> None:
    actual = np.atleast_1d(np.asarray(actual, dtype=float))
    expected = np.atleast_1d(np.asarray(expected, dtype=float))
    assert actual.shape == expected.shape, what
    rel = np.abs(actual - expected) / np.abs(expected)
    assert np.all(rel <= rtol), f"{what}: max relative error {rel.max():.3g} > {rtol:g}"


@pytest.fixture(scope="module")
def fixture_frame() -> pd.DataFrame:
    return pd.read_csv(REF_DIR / "fixture.csv")


@pytest.fixture(scope="module")
def r_weights() -> np.ndarray:
    w = pd.read_csv(REF_DIR / "rake_weights.csv")["w_rake"].to_numpy()
    return w / w.mean()


@pytest.fixture(scope="module")
def references() -> dict[str, dict]:
    doc = json.loads((REF_DIR / "references.json").read_text())
    return {entry["name"]: entry for entry in doc["entries"]}


@pytest.fixture(scope="module")
def raked(fixture_frame: pd.DataFrame) -> RakeResult:
    return rake(fixture_frame, TARGETS, tol=1e-12)


def weighted_shares(frame: pd.DataFrame, column: str, weights: np.ndarray) -> pd.Series:
    return pd.Series(weights).groupby(frame[column].to_numpy()).sum() / weights.sum()


def test_fixture_shape(fixture_frame: pd.DataFrame) -> None:
    assert len(fixture_frame) == 200
    assert set(fixture_frame["region"]) == set(REGION_TARGETS)
    assert set(fixture_frame["gender"]) == set(GENDER_TARGETS)
    assert set(fixture_frame["item"].dropna().astype(int)) == {1, 2, 3, 4, 5}


def test_rake_matches_r_survey_rake(raked: RakeResult, r_weights: np.ndarray) -> None:
    assert raked.converged
    assert raked.weights.mean() == pytest.approx(1.0, abs=1e-14)
    assert_rel_close(raked.weights, r_weights, R_RTOL, "raked weights vs survey::rake()")
    assert_rel_close(raked.weights, r_weights, 1e-8, "raked weights vs survey::rake()")


def test_rake_margins_match_r_and_targets(
    raked: RakeResult, fixture_frame: pd.DataFrame, references: dict[str, dict]
) -> None:
    ref = references["rake_margins"]
    region = weighted_shares(fixture_frame, "region", raked.weights)[list(REGION_TARGETS)]
    gender = weighted_shares(fixture_frame, "gender", raked.weights)[list(GENDER_TARGETS)]
    assert_rel_close(region.to_numpy(), ref["region"], R_RTOL, "region margin")
    assert_rel_close(gender.to_numpy(), ref["gender"], R_RTOL, "gender margin")
    np.testing.assert_allclose(region.to_numpy(), list(REGION_TARGETS.values()), rtol=0, atol=1e-12)
    np.testing.assert_allclose(gender.to_numpy(), list(GENDER_TARGETS.values()), rtol=0, atol=1e-12)
    assert raked.max_margin_error <= 1e-12


def test_comparison_detects_relative_perturbation_of_1e_5(
    raked: RakeResult, r_weights: np.ndarray
) -> None:
    perturbed = r_weights.copy()
    perturbed[17] *= 1 + 1e-5
    with pytest.raises(AssertionError):
        assert_rel_close(raked.weights, perturbed, R_RTOL, "perturbed reference")


@pytest.mark.parametrize("tol", [1e-4, 1e-8, 1e-12])
def test_margins_within_tol(fixture_frame: pd.DataFrame, tol: float) -> None:
    result = rake(fixture_frame, TARGETS, tol=tol)
    assert result.converged
    assert result.max_margin_error <= tol
    for column, target in TARGETS.items():
        shares = weighted_shares(fixture_frame, column, result.weights)
        for category, share in target.items():
            assert abs(shares[category] - share) <= tol


def test_targets_already_met_gives_unit_weights_in_one_sweep() -> None:
    frame = pd.DataFrame(
        {"a": ["x", "x", "y", "y", "x", "y"], "b": ["p", "q", "p", "q", "q", "p"]}
    )
    result = rake(frame, {"a": {"x": 0.5, "y": 0.5}, "b": {"p": 0.5, "q": 0.5}})
    assert result.iterations == 1
    assert result.converged
    np.testing.assert_allclose(result.weights, 1.0, rtol=0, atol=1e-15)
    assert result.design_effect == pytest.approx(1.0)
    assert result.effective_n == pytest.approx(6.0)
    assert result.trimmed == 0


def test_kish_design_effect_and_effective_n(raked: RakeResult) -> None:
    w = raked.weights
    n = w.size
    assert raked.design_effect == pytest.approx(n * np.sum(w**2) / np.sum(w) ** 2, rel=1e-14)
    assert raked.effective_n == pytest.approx(n / raked.design_effect, rel=1e-14)
    assert raked.design_effect > 1
    assert kish_design_effect(np.array([1.0, 1.0, 4.0, 4.0])) == pytest.approx(4 * 34 / 100)
    assert kish_design_effect(np.full(7, 3.0)) == pytest.approx(1.0)


def test_result_records_margin_codes(raked: RakeResult, fixture_frame: pd.DataFrame) -> None:
    assert raked.columns == ("region", "gender")
    assert raked.margin_levels[0] == tuple(REGION_TARGETS)
    region_codes = raked.margin_codes[0]
    assert region_codes.shape == (len(fixture_frame),)
    decoded = np.array(raked.margin_levels[0], dtype=object)[region_codes]
    assert list(decoded) == list(fixture_frame["region"])


def test_trimming_bounds_and_margins(fixture_frame: pd.DataFrame) -> None:
    untrimmed = rake(fixture_frame, TARGETS, tol=1e-10)
    lo, hi = 0.5, 2.5
    assert untrimmed.weights.min() < lo or untrimmed.weights.max() > hi
    result = rake(fixture_frame, TARGETS, tol=1e-10, trim=(lo, hi), max_iter=1000)
    assert result.converged
    assert result.trimmed > 0
    assert result.max_margin_error <= 1e-10
    assert result.weights.min() >= lo * (1 - 1e-8)
    assert result.weights.max() <= hi * (1 + 1e-8)
    assert result.design_effect < untrimmed.design_effect


def test_trimming_with_loose_bounds_changes_nothing(fixture_frame: pd.DataFrame) -> None:
    plain = rake(fixture_frame, TARGETS, tol=1e-12)
    loose = rake(fixture_frame, TARGETS, tol=1e-12, trim=(0.01, 100.0))
    assert loose.trimmed == 0
    np.testing.assert_allclose(loose.weights, plain.weights, rtol=1e-14)


def test_infeasible_trim_reports_non_convergence(fixture_frame: pd.DataFrame) -> None:
    with pytest.warns(RuntimeWarning, match="did not converge"):
        result = rake(fixture_frame, TARGETS, trim=(0.99, 1.01), max_iter=20)
    assert not result.converged
    assert result.iterations == 20
    assert result.max_margin_error > 1e-8


def test_category_missing_from_targets_is_named(fixture_frame: pd.DataFrame) -> None:
    targets = {"region": {"North": 0.3, "South": 0.3, "East": 0.2, "West": 0.2}, "gender": GENDER_TARGETS}
    with pytest.raises(RakingError, match=r"'region'.*'Centre'"):
        rake(fixture_frame, targets)


def test_target_category_absent_from_data_is_named(fixture_frame: pd.DataFrame) -> None:
    targets = {"region": REGION_TARGETS, "gender": {"F": 0.5, "M": 0.45, "X": 0.05}}
    with pytest.raises(RakingError, match=r"'gender'.*'X'"):
        rake(fixture_frame, targets)


@pytest.mark.parametrize(
    ("targets", "pattern"),
    [
        ({"gender": {"F": 0.5, "M": 0.6}}, "sum to"),
        ({"gender": {"F": 1.0, "M": 0.0}}, "positive"),
        ({"age": {"young": 1.0}}, "'age' is not in the data"),
        ({}, "no raking targets"),
    ],
)
def test_bad_targets_rejected(fixture_frame: pd.DataFrame, targets: dict, pattern: str) -> None:
    with pytest.raises(RakingError, match=pattern):
        rake(fixture_frame, targets)


def test_missing_values_in_raking_column_rejected() -> None:
    frame = pd.DataFrame({"g": ["a", None, "b"]})
    with pytest.raises(RakingError, match="'g' has 1 missing"):
        rake(frame, {"g": {"a": 0.5, "b": 0.5}})


def test_large_sample_rakes_quickly() -> None:
    rng = np.random.default_rng(1)
    n = 1_000_000
    frame = pd.DataFrame(
        {
            "region": rng.choice(list("ABCDE"), n, p=[0.3, 0.25, 0.2, 0.15, 0.1]),
            "gender": rng.choice(["F", "M"], n, p=[0.4, 0.6]),
            "age": rng.choice(["young", "middle", "old"], n, p=[0.2, 0.3, 0.5]),
        }
    )
    targets = {
        "region": dict.fromkeys("ABCDE", 0.2),
        "gender": {"F": 0.5, "M": 0.5},
        "age": {"young": 0.3, "middle": 0.35, "old": 0.35},
    }
    result = rake(frame, targets)
    assert result.converged


@st.composite
def feasible_problems(draw):
    n = draw(st.integers(min_value=8, max_value=60))
    k_a = draw(st.integers(min_value=2, max_value=4))
    k_b = draw(st.integers(min_value=2, max_value=3))
    a = draw(st.lists(st.integers(0, k_a - 1), min_size=n, max_size=n))
    b = draw(st.lists(st.integers(0, k_b - 1), min_size=n, max_size=n))
    a[:k_a] = range(k_a)
    b[:k_b] = range(k_b)
    hidden = draw(
        st.lists(st.floats(min_value=0.2, max_value=5.0), min_size=n, max_size=n)
    )
    return np.array(a), np.array(b), np.array(hidden)


@settings(max_examples=30, deadline=None)
@given(feasible_problems())
def test_property_raked_margins_match_feasible_targets(problem) -> None:
    a, b, hidden = problem
    frame = pd.DataFrame({"a": [f"a{v}" for v in a], "b": [f"b{v}" for v in b]})
    targets = {}
    for column, codes in (("a", a), ("b", b)):
        totals = np.bincount(codes, weights=hidden)
        targets[column] = {f"{column}{k}": t / totals.sum() for k, t in enumerate(totals)}
    result = rake(frame, targets, tol=1e-9, max_iter=5000)
    assert result.converged
    assert result.weights.mean() == pytest.approx(1.0)
    assert np.all(result.weights > 0)
    for column, target in targets.items():
        shares = weighted_shares(frame, column, result.weights)
        for category, share in target.items():
            assert abs(shares[category] - share) <= 1e-9
