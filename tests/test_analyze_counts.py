"""The vectorised counting of the analyze stage against a per-respondent count, and level codes against
looking each value up in the level order."""

import numpy as np
import pandas as pd
import pytest

from pipeline.analyze import Variable, prepare, split_counts
from pipeline.breakdowns import Split
from pipeline.ingest.recode import STATUSES
from pipeline.stats.codes import level_codes


def naive_counts(variable: Variable, split: Split) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(table, n, status) by looping over respondents, as the definitions in pipeline.analyze say."""
    groups = len(split.labels)
    table = np.zeros((groups, len(variable.labels)), dtype=np.int64)
    n = np.zeros(groups, dtype=np.int64)
    status = np.zeros((groups, len(STATUSES)), dtype=np.int64)
    for i, g in enumerate(split.codes):
        if g < 0:
            continue
        if variable.status[i] >= 0:
            status[g, variable.status[i]] += 1
        if variable.selected is None:
            if variable.codes[i] >= 0:
                table[g, variable.codes[i]] += 1
                n[g] += 1
        elif variable.status[i] == 0:
            table[g] += variable.selected[i]
            n[g] += 1
    return table, n, status


@pytest.fixture
def random_split():
    rng = np.random.default_rng(11)
    codes = rng.integers(-1, 4, size=500)
    return Split("region", ("a", "b", "c", "d"), codes, (0, 1, 2, 3), "region")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_single_choice_counts_equal_a_per_respondent_count(random_split, seed):
    rng = np.random.default_rng(seed)
    status = rng.integers(-1, len(STATUSES), size=500)
    codes = np.where(status == 0, rng.integers(0, 5, size=500), -1)
    codes[rng.random(500) < 0.05] = 2  # a level with a non-valid status still counts as answered
    variable = Variable("q", "g", True, tuple("vwxyz"), codes, status)
    counts = split_counts(variable, random_split, prepare(variable))
    table, n, stat = naive_counts(variable, random_split)
    assert np.array_equal(counts.table, table) and np.array_equal(counts.n, n)
    assert np.array_equal(counts.status, stat)
    assert counts.table.dtype == np.int64 and counts.n.dtype == np.int64


@pytest.mark.parametrize("seed", [0, 1])
def test_multi_select_counts_equal_a_per_respondent_count(random_split, seed):
    rng = np.random.default_rng(seed)
    status = rng.choice([0, 0, 0, 1, 3, -1], size=500)
    selected = rng.random((500, 3)) < 0.4
    variable = Variable("m", "g", False, ("x", "y", "z"), np.where(status == 0, 0, -1), status,
                        selected=selected, choices=("x", "y", "z"))
    counts = split_counts(variable, random_split)
    table, n, stat = naive_counts(variable, random_split)
    assert np.array_equal(counts.table, table) and np.array_equal(counts.n, n)
    assert np.array_equal(counts.status, stat)


@pytest.mark.parametrize("make", [
    lambda v: pd.Series(v, dtype="category"),
    lambda v: pd.Series(pd.Categorical(v, categories=["Agree", "unused", "Disagree", "Neutral", "odd"])),
    lambda v: pd.Series(v, dtype="str"),
    lambda v: pd.Series(v, dtype=object),
])
def test_level_codes_match_pandas_categorical_coding(make):
    values = ["Agree", None, "Neutral", "odd", "Disagree", "Agree", np.nan, "Neutral"]
    levels = ["Disagree", "Neutral", "Agree"]
    expected = [levels.index(v) if v in levels else -1 for v in values]
    codes = level_codes(make(values), levels)
    assert codes.dtype == np.int64 and codes.tolist() == expected == [2, -1, 1, -1, 0, 2, -1, 1]
