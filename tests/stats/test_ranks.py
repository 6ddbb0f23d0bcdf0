"""pipeline.stats.ranks against R (reference/ranks.json), scipy and invariants."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pipeline.stats.ranks import (
    kruskal_wallis_from_counts,
    mann_whitney_from_counts,
    wilcoxon_signed_rank,
)

REF = Path(__file__).parent / "reference"
CASES = json.loads((REF / "ranks.json").read_text())["cases"]
RTOL = 1e-6


def _cases(func):
    chosen = [c for c in CASES if c["func"] == func]
    return pytest.mark.parametrize("case", chosen, ids=[c["id"] for c in chosen])


def _arr(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@_cases("mann_whitney_from_counts")
def test_mann_whitney_matches_r(case):
    inp, exp = case["input"], case["expected"]
    res = mann_whitney_from_counts(inp["counts_a"], inp["counts_b"], correct=inp["correct"])
    assert res.statistic == pytest.approx(exp["statistic"], rel=RTOL)
    assert res.p_value == pytest.approx(exp["p_value"], rel=RTOL)
    assert res.effect_size == pytest.approx(exp["effect_size"], rel=RTOL, abs=1e-12)
    assert res.effect_measure == "rank-biserial"
    assert res.n == sum(inp["counts_a"]) + sum(inp["counts_b"])


@_cases("kruskal_wallis_from_counts")
def test_kruskal_wallis_matches_r(case):
    inp, exp = case["input"], case["expected"]
    res = kruskal_wallis_from_counts(inp["table"])
    assert res.statistic == pytest.approx(exp["statistic"], rel=RTOL)
    assert res.df == exp["df"]
    assert res.p_value == pytest.approx(exp["p_value"], rel=RTOL)
    assert res.effect_size == pytest.approx(exp["effect_size"], rel=RTOL)
    assert res.effect_measure == "epsilon-squared"


@_cases("wilcoxon_signed_rank")
def test_signed_rank_matches_r(case):
    inp, exp = case["input"], case["expected"]
    res = wilcoxon_signed_rank(_arr(inp["x"]), _arr(inp["y"]), correct=inp["correct"])
    assert res.statistic == pytest.approx(exp["statistic"], rel=RTOL)
    assert res.p_value == pytest.approx(exp["p_value"], rel=RTOL)
    assert (res.n, res.n_zero, res.n_missing) == (exp["n"], exp["n_zero"], exp["n_missing"])
    got = [res.mean_diff, res.ci_low, res.ci_high]
    assert got == pytest.approx([exp["mean_diff"], exp["ci_low"], exp["ci_high"]], rel=RTOL)


def test_reference_comparison_detects_a_1e_5_perturbation():
    case = next(c for c in CASES if c["id"] == "kw_three_groups")
    res = kruskal_wallis_from_counts(case["input"]["table"])
    assert res.statistic == pytest.approx(case["expected"]["statistic"], rel=RTOL)
    with pytest.raises(AssertionError):
        assert res.statistic * (1 + 1e-5) == pytest.approx(case["expected"]["statistic"], rel=RTOL)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(res.p_value * (1 + 1e-5), case["expected"]["p_value"], rtol=RTOL)


def test_signed_rank_accepts_differences_and_sign_convention():
    x = np.array([3, 4, 2, 5, 4, 4, 3, 1, 2, 5, 3, 3, 4], float)
    y = np.array([2, 4, 2, 3, 5, 2, 1, 1, 1, 4, 2, 3, 1], float)
    a = wilcoxon_signed_rank(x, y)
    b = wilcoxon_signed_rank(x - y)
    assert a == b
    assert a.effect_size > 0 and a.z > 0  # x tends to exceed y
    flipped = wilcoxon_signed_rank(y, x)
    assert flipped.effect_size == pytest.approx(-a.effect_size)
    assert flipped.p_value == pytest.approx(a.p_value)
    nothing = wilcoxon_signed_rank([1, 2], [1, 2])
    assert nothing.n == 0 and nothing.n_zero == 2 and np.isnan(nothing.p_value)


def test_degenerate_inputs_give_nan_with_a_note():
    tied = mann_whitney_from_counts([0, 5, 0], [0, 7, 0])
    assert np.isnan(tied.p_value) and "tied" in tied.note
    empty = mann_whitney_from_counts([0, 0, 0], [1, 2, 3])
    assert np.isnan(empty.statistic) and "no respondents" in empty.note
    one = kruskal_wallis_from_counts([[1, 2, 3], [0, 0, 0]])
    assert np.isnan(one.statistic) and "empty group" in one.note
    with pytest.raises(ValueError):
        mann_whitney_from_counts([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        kruskal_wallis_from_counts([[1.5, 2], [1, 1]])


def test_empty_group_is_dropped_from_k_as_r_does():
    with_empty = kruskal_wallis_from_counts([[2, 3, 5], [0, 0, 0], [4, 1, 1]])
    without = kruskal_wallis_from_counts([[2, 3, 5], [4, 1, 1]])
    assert with_empty.statistic == without.statistic and with_empty.df == 1


def test_matches_scipy_on_expanded_data():
    a, b, c = [3, 8, 12, 20, 7], [6, 10, 9, 11, 4], [1, 5, 14, 25, 15]
    levels = np.arange(1, 6)
    xa, xb, xc = (np.repeat(levels, v) for v in (a, b, c))
    mw = mann_whitney_from_counts(a, b)
    ref = stats.mannwhitneyu(xa, xb, use_continuity=True, method="asymptotic")
    assert mw.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert mw.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    kw = kruskal_wallis_from_counts([a, b, c])
    ref = stats.kruskal(xa, xb, xc)
    assert kw.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert kw.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_a_million_respondents_from_counts():
    """Counts of a million respondents (speed at scale is measured by benchmarks/, not here)."""
    rng = np.random.default_rng(1)
    table = rng.multinomial(1_000_000 // 8, [0.1, 0.2, 0.3, 0.25, 0.15], size=8)
    res = kruskal_wallis_from_counts(table)
    assert res.n == table.sum() and 0 <= res.p_value <= 1
    pair = mann_whitney_from_counts(table[0], table[1])
    assert 0 <= pair.p_value <= 1


# --- properties -------------------------------------------------------------

def _tables(min_groups, max_groups):
    return st.integers(min_groups, max_groups).flatmap(
        lambda k: st.integers(2, 6).flatmap(
            lambda l: st.lists(st.lists(st.integers(0, 40), min_size=l, max_size=l),
                               min_size=k, max_size=k)))


@settings(max_examples=50, deadline=None)
@given(table=_tables(2, 2))
def test_kruskal_on_two_groups_equals_mann_whitney(table):
    a, b = np.array(table[0]), np.array(table[1])
    kw = kruskal_wallis_from_counts([a, b])
    mw = mann_whitney_from_counts(a, b, correct=False)
    if np.isnan(mw.p_value):
        assert np.isnan(kw.p_value)
        return
    assert kw.statistic == pytest.approx(mw.z**2, rel=1e-9, abs=1e-12)
    assert kw.p_value == pytest.approx(mw.p_value, rel=1e-9, abs=1e-300)


@settings(max_examples=50, deadline=None)
@given(table=_tables(2, 5), seed=st.integers(0, 10**6))
def test_group_order_does_not_matter(table, seed):
    table = np.array(table)
    perm = np.random.default_rng(seed).permutation(len(table))
    a, b = kruskal_wallis_from_counts(table), kruskal_wallis_from_counts(table[perm])
    assert a.n == b.n
    np.testing.assert_allclose([a.statistic, a.p_value, a.effect_size],
                               [b.statistic, b.p_value, b.effect_size], rtol=1e-12, equal_nan=True)
    ab = mann_whitney_from_counts(table[0], table[1])
    ba = mann_whitney_from_counts(table[1], table[0])
    np.testing.assert_allclose([ab.p_value, ab.effect_size], [ba.p_value, -ba.effect_size],
                               rtol=1e-12, atol=1e-15, equal_nan=True)


@settings(max_examples=50, deadline=None)
@given(x=st.lists(st.integers(1, 5), min_size=1, max_size=60), seed=st.integers(0, 10**6))
def test_signed_rank_does_not_depend_on_pair_order(x, seed):
    rng = np.random.default_rng(seed)
    x = np.array(x, float)
    y = rng.integers(1, 6, size=x.size).astype(float)
    perm = rng.permutation(x.size)
    a, b = wilcoxon_signed_rank(x, y), wilcoxon_signed_rank(x[perm], y[perm])
    np.testing.assert_allclose([a.statistic, a.p_value, a.mean_diff],
                               [b.statistic, b.p_value, b.mean_diff], rtol=1e-12, equal_nan=True)
    if a.n:
        assert -1.0 <= a.effect_size <= 1.0
