"""pipeline.stats.posthoc (Dunn) against an independent base-R implementation."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.stats.posthoc import dunn_from_counts

REF = Path(__file__).parent / "reference"
CASES = json.loads((REF / "posthoc.json").read_text())["cases"]
RTOL = 1e-6


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_dunn_matches_r(case):
    exp = case["expected"]
    holm = dunn_from_counts(case["input"]["table"], p_adjust="holm")
    bh = dunn_from_counts(case["input"]["table"], p_adjust="BH")
    assert list(holm.columns[:2]) == ["group_a", "group_b"]
    assert list(holm["group_a"]) == exp["group_a"] and list(holm["group_b"]) == exp["group_b"]
    np.testing.assert_allclose(holm["z"], exp["z"], rtol=RTOL)
    np.testing.assert_allclose(holm["p_value"], exp["p_value"], rtol=RTOL)
    np.testing.assert_allclose(holm["p_adjusted"], exp["p_holm"], rtol=RTOL)
    np.testing.assert_allclose(bh["p_adjusted"], exp["p_bh"], rtol=RTOL)
    assert set(holm["p_adjust_method"]) == {"holm"} and set(bh["p_adjust_method"]) == {"fdr_bh"}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_dunn_agrees_with_scikit_posthocs(case):
    sp = pytest.importorskip("scikit_posthocs")
    table = np.array(case["input"]["table"])
    levels = np.arange(1, table.shape[1] + 1)
    long = pd.DataFrame({
        "value": np.concatenate([np.repeat(levels, row) for row in table]),
        "group": np.concatenate([[i] * row.sum() for i, row in enumerate(table)]),
    })
    ref = sp.posthoc_dunn(long, val_col="value", group_col="group", p_adjust="holm")
    ours = dunn_from_counts(table, p_adjust="holm")
    for _, row in ours.iterrows():
        assert row["p_adjusted"] == pytest.approx(ref.loc[row["group_a"], row["group_b"]], rel=1e-9)


def test_labels_sign_and_empty_group():
    table = [[10, 5, 1], [1, 5, 10], [0, 0, 0]]
    out = dunn_from_counts(table, group_labels=["low", "high", "none"])
    first = out.iloc[0]
    assert (first["group_a"], first["group_b"]) == ("low", "high")
    assert first["z"] < 0  # "low" tends to lower levels than "high"
    assert out.loc[out["group_b"] == "none", "p_value"].isna().all()
    # the empty group does not count as a comparison for the adjustment
    assert first["p_adjusted"] == pytest.approx(first["p_value"])
    with pytest.raises(ValueError):
        dunn_from_counts(table, group_labels=["a", "b"])


tables = st.integers(2, 5).flatmap(
    lambda k: st.integers(2, 5).flatmap(
        lambda l: st.lists(st.lists(st.integers(0, 30), min_size=l, max_size=l),
                           min_size=k, max_size=k)))


@settings(max_examples=50, deadline=None)
@given(table=tables, seed=st.integers(0, 10**6))
def test_renaming_and_reordering_groups_changes_nothing(table, seed):
    table = np.array(table)
    k = table.shape[0]
    names = [f"g{i}" for i in range(k)]
    out = dunn_from_counts(table, group_labels=names, p_adjust="holm")
    assert (out["p_adjusted"].dropna() >= out["p_value"].dropna() - 1e-15).all()
    perm = np.random.default_rng(seed).permutation(k)
    shuffled = dunn_from_counts(table[perm], group_labels=[f"x{names[i]}" for i in perm],
                                p_adjust="holm")
    for _, row in shuffled.iterrows():
        a, b = row["group_a"][1:], row["group_b"][1:]
        match = out[((out.group_a == a) & (out.group_b == b)) | ((out.group_a == b) & (out.group_b == a))]
        orig = match.iloc[0]
        sign = 1.0 if orig["group_a"] == a else -1.0
        np.testing.assert_allclose([row["z"], row["p_value"], row["p_adjusted"]],
                                   [sign * orig["z"], orig["p_value"], orig["p_adjusted"]],
                                   rtol=1e-9, atol=1e-15, equal_nan=True)
