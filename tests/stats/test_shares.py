"""pipeline.stats.shares against R (reference/shares.json) and invariants."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.stats.shares import bootstrap_mean_ci, level_shares, mean_ci, proportion_ci

REF = Path(__file__).parent / "reference"
CASES = json.loads((REF / "shares.json").read_text())["cases"]
RTOL = 1e-6


def _cases(func):
    chosen = [c for c in CASES if c["func"] == func]
    return pytest.mark.parametrize("case", chosen, ids=[c["id"] for c in chosen])


def _arr(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@_cases("proportion_ci")
def test_proportion_ci_matches_r(case):
    inp, exp = case["input"], case["expected"]
    low, high = proportion_ci(inp["count"], inp["n"], method=case["method"], alpha=inp["alpha"])
    # abs=1e-15 only matters where R's bound is exactly 0 or 1.
    assert float(low) == pytest.approx(exp["ci_low"], rel=RTOL, abs=1e-15)
    assert float(high) == pytest.approx(exp["ci_high"], rel=RTOL, abs=1e-15)


def test_proportion_ci_is_vectorised_and_nan_for_empty_groups():
    low, high = proportion_ci(np.array([[0, 3], [0, 7]]), np.array([[0, 10], [5, 7]]))
    assert low.shape == (2, 2)
    assert np.isnan(low[0, 0]) and np.isnan(high[0, 0])
    assert low[1, 0] == 0.0 and high[1, 1] == 1.0
    with pytest.raises(ValueError):
        proportion_ci(5, 4)
    with pytest.raises(ValueError):
        proportion_ci(1, 4, method="wald")


@_cases("level_shares")
def test_level_shares_matches_r(case):
    inp, exp = case["input"], case["expected"]
    long = pd.DataFrame(
        [(g, lv, c) for g, row in zip(inp["groups"], inp["counts"])
         for lv, c in zip(inp["levels"], row)],
        columns=["group", "level", "count"],
    )
    out = level_shares(long, levels=inp["levels"], method=case["method"])
    assert list(out.columns) == ["group", "level", "n", "count", "pct", "ci_low", "ci_high", "ci_method"]
    expected = pd.DataFrame(exp["rows"])
    merged = out.assign(level=out["level"].astype(str)).merge(
        expected, on=["group", "level"], suffixes=("", "_r"))
    assert len(merged) == len(expected) == len(out)
    for col in ["n", "count", "pct", "ci_low", "ci_high"]:
        np.testing.assert_allclose(merged[col], merged[col + "_r"], rtol=RTOL, atol=1e-13)
    assert (out["ci_method"] == "wilson").all()


def test_level_shares_fills_missing_levels_and_keeps_category_order():
    levels = pd.CategoricalDtype(["low", "mid", "high"], ordered=True)
    counts = pd.DataFrame({"group": ["b", "a", "a"],
                           "level": pd.Series(["high", "low", "low"], dtype=levels),
                           "count": [4, 1, 2]})
    out = level_shares(counts)
    assert list(out["group"]) == ["a"] * 3 + ["b"] * 3
    assert list(out["level"].astype(str)) == ["low", "mid", "high"] * 2
    assert list(out["count"]) == [3, 0, 0, 0, 0, 4]  # duplicates summed, gaps filled
    assert list(out["pct"]) == [100.0, 0.0, 0.0, 0.0, 0.0, 100.0]
    with pytest.raises(ValueError):
        level_shares(counts, levels=["low", "mid"])  # "high" is not in the order


@_cases("mean_ci")
def test_mean_ci_matches_r(case):
    inp, exp = case["input"], case["expected"]
    if "values" in inp:
        res = mean_ci(_arr(inp["values"]), alpha=inp["alpha"])
        assert "missing" in res.note
    else:
        res = mean_ci(inp["scores"], inp["counts"], alpha=inp["alpha"])
    assert res.n == exp["n"]
    got = [res.mean, res.sd, res.ci_low, res.ci_high]
    assert got == pytest.approx([exp["mean"], exp["sd"], exp["ci_low"], exp["ci_high"]], rel=RTOL)
    assert res.ci_method == "t"


def test_mean_ci_excludes_unscored_levels_and_handles_tiny_n():
    res = mean_ci([1, 2, np.nan], [3, 1, 5])  # 5 "don't know" answers have no score
    assert res.n == 4 and res.mean == pytest.approx(1.25) and "non-scored" in res.note
    one = mean_ci([3.0], [1])
    assert one.n == 1 and one.mean == 3.0 and np.isnan(one.sd) and np.isnan(one.ci_low)
    none = mean_ci([1, 2], [0, 0])
    assert none.n == 0 and np.isnan(none.mean)


def test_bootstrap_is_seeded_and_close_to_t_interval_for_large_n():
    scores, counts = [1, 2, 3, 4, 5], [120, 340, 560, 1500, 980]
    a = bootstrap_mean_ci(scores, counts, n_boot=4000, seed=7)
    b = bootstrap_mean_ci(scores, counts, n_boot=4000, seed=7)
    c = bootstrap_mean_ci(scores, counts, n_boot=4000, seed=8)
    assert a == b
    assert a.ci_low != c.ci_low
    t = mean_ci(scores, counts)
    assert a.mean == t.mean and a.n == t.n and a.ci_method == "bootstrap-percentile"
    half = t.ci_high - t.ci_low
    # For n = 3500 the bootstrap and t intervals agree up to Monte Carlo noise
    # (each bound's MC error with 4000 replicates is about 3 % of the half-width).
    assert a.ci_low == pytest.approx(t.ci_low, abs=0.1 * half)
    assert a.ci_high == pytest.approx(t.ci_high, abs=0.1 * half)
    assert a.ci_low < a.mean < a.ci_high


def test_reference_comparison_detects_a_1e_5_perturbation():
    case = next(c for c in CASES if c["func"] == "proportion_ci" and c["method"] == "wilson"
                and c["input"]["count"] == 45)
    low, _ = proportion_ci(case["input"]["count"], case["input"]["n"], alpha=case["input"]["alpha"])
    assert float(low) == pytest.approx(case["expected"]["ci_low"], rel=RTOL)
    with pytest.raises(AssertionError):
        assert float(low) * (1 + 1e-5) == pytest.approx(case["expected"]["ci_low"], rel=RTOL)


# --- properties -------------------------------------------------------------

tables = st.integers(1, 5).flatmap(
    lambda k: st.integers(2, 6).flatmap(
        lambda l: st.lists(st.lists(st.integers(0, 60), min_size=l, max_size=l),
                           min_size=k, max_size=k)))


def _long(table, names):
    return pd.DataFrame([(names[i], j, c) for i, row in enumerate(table) for j, c in enumerate(row)],
                        columns=["group", "level", "count"])


@settings(max_examples=50, deadline=None)
@given(table=tables, method=st.sampled_from(["wilson", "clopper-pearson", "agresti-coull"]),
       seed=st.integers(0, 10**6))
def test_shares_properties(table, method, seed):
    names = [f"g{i}" for i in range(len(table))]
    long = _long(table, names)
    out = level_shares(long, method=method)
    # percentages sum to 100 in every group that has respondents
    sums = out.groupby("group")["pct"].sum(min_count=1)
    sizes = out.groupby("group")["n"].first()
    assert np.allclose(sums[sizes > 0], 100.0)
    assert sums[sizes == 0].isna().all()
    # bounds in [0, 100] and ordered
    ok = out["n"] > 0
    assert ((out.loc[ok, "ci_low"] >= 0) & (out.loc[ok, "ci_high"] <= 100)).all()
    assert (out.loc[ok, "ci_low"] <= out.loc[ok, "ci_high"]).all()
    if method != "agresti-coull":  # Wilson and exact intervals contain the estimate
        assert (out.loc[ok, "ci_low"] <= out.loc[ok, "pct"] + 1e-9).all()
        assert (out.loc[ok, "pct"] <= out.loc[ok, "ci_high"] + 1e-9).all()
    # unchanged by row order
    shuffled = long.sample(frac=1.0, random_state=seed % (2**32))
    pd.testing.assert_frame_equal(level_shares(shuffled, method=method), out)
    # unchanged (up to the names) by renaming the groups
    rename = {n: f"renamed-{len(names) - i}" for i, n in enumerate(names)}
    renamed = level_shares(long.assign(group=long["group"].map(rename)), method=method)
    back = renamed.assign(group=renamed["group"].map({v: k for k, v in rename.items()}))
    back = back.sort_values(["group", "level"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, out)


@settings(max_examples=50, deadline=None)
@given(count=st.integers(0, 500), extra=st.integers(0, 500),
       method=st.sampled_from(["wilson", "clopper-pearson", "agresti-coull"]),
       alpha=st.sampled_from([0.01, 0.05, 0.1, 0.5]))
def test_binomial_bounds_in_unit_interval(count, extra, method, alpha):
    n = count + extra
    low, high = proportion_ci(count, n, method=method, alpha=alpha)
    if n == 0:
        assert np.isnan(low) and np.isnan(high)
    else:
        assert 0.0 <= low <= high <= 1.0
