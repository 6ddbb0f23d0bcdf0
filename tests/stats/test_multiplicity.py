"""pipeline.stats.multiplicity against R p.adjust (reference/multiplicity.json)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.stats.multiplicity import adjust

REF = Path(__file__).parent / "reference"
CASES = json.loads((REF / "multiplicity.json").read_text())["cases"]


def _arr(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
@pytest.mark.parametrize("method", ["fdr_bh", "holm", "bonferroni"])
def test_matches_r_p_adjust(case, method):
    p = _arr(case["input"]["p"])
    expected = _arr(case["expected"][method])
    np.testing.assert_allclose(adjust(p, method=method), expected, rtol=1e-6, equal_nan=True)


def test_r_spellings_are_accepted():
    p = _arr(CASES[0]["input"]["p"])
    np.testing.assert_array_equal(adjust(p, "BH"), adjust(p, "fdr_bh"))
    np.testing.assert_array_equal(adjust(p, "none"), p)
    with pytest.raises(ValueError):
        adjust(p, "hochberg")


def test_nan_stays_nan_and_is_not_counted():
    p = np.array([0.01, np.nan, 0.02])
    q = adjust(p, "bonferroni")
    assert np.isnan(q[1])
    assert q[0] == pytest.approx(0.02) and q[2] == pytest.approx(0.04)  # m = 2, not 3


def test_series_keeps_index_and_shape_is_kept():
    s = pd.Series([0.01, 0.04, np.nan], index=["a", "b", "c"], name="p")
    out = adjust(s, "holm")
    assert list(out.index) == ["a", "b", "c"] and out.name == "p"
    m = np.array([[0.01, 0.2], [0.03, 0.5]])
    assert adjust(m, "fdr_bh").shape == (2, 2)
    assert adjust(np.array([]), "holm").shape == (0,)


def test_rejects_values_outside_unit_interval():
    with pytest.raises(ValueError):
        adjust([0.5, 1.2])


p_lists = st.lists(
    st.one_of(st.floats(0, 1, allow_nan=False), st.just(float("nan"))), min_size=1, max_size=30
)


@settings(max_examples=50, deadline=None)
@given(p=p_lists, method=st.sampled_from(["fdr_bh", "holm", "bonferroni"]), seed=st.integers(0, 10**6))
def test_properties_q_ge_p_bounded_nan_preserved_order_free(p, method, seed):
    p = np.array(p)
    q = adjust(p, method)
    ok = ~np.isnan(p)
    assert np.array_equal(np.isnan(q), ~ok)
    assert np.all(q[ok] >= p[ok] - 1e-15)
    assert np.all(q[ok] <= 1.0)
    perm = np.random.default_rng(seed).permutation(p.size)
    np.testing.assert_allclose(adjust(p[perm], method), q[perm], rtol=0, atol=1e-15)
