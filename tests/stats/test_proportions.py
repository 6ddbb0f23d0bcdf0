"""pipeline.stats.proportions against R (reference/proportions.json) and Newcombe (1998)."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.stats.proportions import two_proportions

REF = Path(__file__).parent / "reference"
CASES = json.loads((REF / "proportions.json").read_text())["cases"]
RTOL = 1e-6


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_r(case):
    exp = case["expected"]
    res = two_proportions(**case["input"])
    assert [res.difference, res.ci_low, res.ci_high] == pytest.approx(
        [exp["difference"], exp["ci_low"], exp["ci_high"]], rel=RTOL, abs=1e-12)
    if np.isnan(exp["p_value"]):  # prop.test gives NaN when both groups are all-no
        assert np.isnan(res.p_value) and np.isnan(res.statistic) and "no variation" in res.note
    else:
        assert res.statistic == pytest.approx(exp["statistic"], rel=RTOL)
        assert res.p_value == pytest.approx(exp["p_value"], rel=RTOL)
        assert res.z**2 == pytest.approx(res.statistic, rel=1e-12)
    assert res.ci_method == "newcombe-hybrid-score"


# Newcombe (1998) Stat Med 17:873-890, Table II, method 10, as printed (4 decimals).
# (The brief quoted "0.1333 (0.0524, 0.2489)" for 56/70 vs 48/80; the paper's
# difference is 0.2000 with (0.0524, 0.3339). 0.1333 is 23/60 - 18/72, another example.)
TABLE_II = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize("counts,published", TABLE_II)
def test_newcombe_table_ii(counts, published):
    res = two_proportions(*counts)
    # printed to 4 decimals of a proportion = 0.01 percentage points; half a unit of rounding
    assert res.ci_low == pytest.approx(100 * published[0], abs=0.005 + 1e-9)
    assert res.ci_high == pytest.approx(100 * published[1], abs=0.005 + 1e-9)


def test_sign_convention_and_empty_group():
    res = two_proportions(30, 100, 50, 100)
    assert res.difference == pytest.approx(-20.0) and res.z < 0 and res.ci_high < 0
    assert res.pct_a == pytest.approx(30.0) and res.pct_b == pytest.approx(50.0)
    swapped = two_proportions(50, 100, 30, 100)
    assert swapped.p_value == pytest.approx(res.p_value)
    assert [swapped.ci_low, swapped.ci_high] == pytest.approx([-res.ci_high, -res.ci_low])
    empty = two_proportions(0, 0, 3, 10)
    assert np.isnan(empty.difference) and "no respondents" in empty.note
    with pytest.raises(ValueError):
        two_proportions(11, 10, 3, 10)


@settings(max_examples=50, deadline=None)
@given(a=st.integers(0, 200), xa=st.integers(0, 200), b=st.integers(0, 200), xb=st.integers(0, 200))
def test_interval_is_ordered_contains_estimate_and_within_bounds(a, xa, b, xb):
    na, nb = a + xa, b + xb
    res = two_proportions(a, na, b, nb)
    if na == 0 or nb == 0:
        assert np.isnan(res.difference)
        return
    assert -100 - 1e-9 <= res.ci_low <= res.difference + 1e-9
    assert res.difference - 1e-9 <= res.ci_high <= 100 + 1e-9
    assert np.isnan(res.p_value) or 0 <= res.p_value <= 1
