"""Agreement between coders: Cohen's kappa and Krippendorff's alpha (nominal), checked by hand and against
the `krippendorff` package and statsmodels."""

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from pipeline.text.agreement import agreement, cohens_kappa, krippendorff_alpha_nominal
from pipeline.text.codebook import load, tag
from pipeline.text.coders import apply_coding, read_coding
from pipeline.text.keywords import code_all
from tests.text.conftest import DATA, read_answers

WOMEN_A = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
WOMEN_B = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]
CHILDREN_A = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
CHILDREN_B = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]


def test_hand_worked_example():
    """Coders ana (a) and ben (b) coded answers 1-10 (tests/data/text/coding.csv, from scratch).

    women: a = 1111000000, b = 1110100000 -> both 3, a only 1, b only 1, neither 5.
      kappa: p_o = 8/10; p_a(1) = p_b(1) = 4/10, p_e = 0.4·0.4 + 0.6·0.6 = 0.52;
             κ = (0.80 − 0.52) / (1 − 0.52) = 0.28 / 0.48 = 7/12 ≈ 0.5833.
      alpha: coincidences o_11 = 2·3 = 6, o_00 = 2·5 = 10, o_01 = o_10 = 1 + 1 = 2; n = 20,
             n_1 = 8, n_0 = 12; D_o = 4/20 = 0.2; D_e = 2·8·12 / (20·19) = 192/380;
             α = 1 − 0.2 · 380/192 = 1 − 76/192 = 29/48 ≈ 0.6042.
    children: a = 1100000000, b = 1000000000 -> both 1, a only 1, b only 0, neither 8.
      kappa: p_o = 9/10; p_e = 0.2·0.1 + 0.8·0.9 = 0.74; κ = 0.16/0.26 = 8/13 ≈ 0.6154.
      alpha: o_11 = 2, o_00 = 16, o_01 = o_10 = 1; n = 20, n_1 = 3, n_0 = 17; D_o = 2/20 = 0.1;
             D_e = 2·3·17 / (20·19) = 102/380; α = 1 − 0.1 · 380/102 = 1 − 38/102 = 32/51 ≈ 0.6275.
    all (20 answer × tag units): both 4, a only 2, b only 1, neither 13.
      kappa: p_o = 17/20; p_a(1) = 6/20, p_b(1) = 5/20; p_e = 0.3·0.25 + 0.7·0.75 = 0.6;
             κ = 0.25/0.4 = 5/8.
      alpha: o_11 = 8, o_00 = 26, o_01 = o_10 = 3; n = 40, n_1 = 11, n_0 = 29; D_o = 6/40 = 0.15;
             D_e = 2·11·29 / (40·39) = 638/1560; α = 1 − 0.15 · 1560/638 = 1 − 234/638 = 202/319 ≈ 0.6332.
    """
    expected = {
        "women": (3, 1, 1, 5, 80.0, Fraction(7, 12), Fraction(29, 48)),
        "children": (1, 1, 0, 8, 90.0, Fraction(8, 13), Fraction(32, 51)),
        "all": (4, 2, 1, 13, 85.0, Fraction(5, 8), Fraction(202, 319)),
    }
    assert cohens_kappa(WOMEN_A, WOMEN_B) == pytest.approx(float(expected["women"][5]))
    assert krippendorff_alpha_nominal([WOMEN_A, WOMEN_B]) == pytest.approx(float(expected["women"][6]))

    book = load(DATA / "codebooks" / "comment.yaml")
    answers = read_answers()
    automatic = tag(answers["comment"], book).set_axis(pd.Index(answers["row"], name="row"))
    judged = apply_coding(automatic, read_coding(DATA / "coding.csv"), book).judgements
    table = agreement(judged, "comment", ["women", "children"]).set_index("tag")
    assert table.index.tolist() == ["women", "children", "all"]
    assert (table["coder_a"] == "ana").all() and (table["coder_b"] == "ben").all()
    assert table["units"].tolist() == [10, 10, 20]
    for tag_id, (both, a_only, b_only, neither, pct, kappa, alpha) in expected.items():
        row = table.loc[tag_id]
        assert (row["both"], row["a_only"], row["b_only"], row["neither"]) == (both, a_only, b_only, neither)
        assert row["agreement_pct"] == pytest.approx(pct)
        assert row["kappa"] == pytest.approx(float(kappa), abs=1e-12)
        assert row["alpha"] == pytest.approx(float(alpha), abs=1e-12)

    coded = code_all(answers, {"comment": book}, read_coding(DATA / "coding.csv"))["comment"]
    assert coded.agreement.equals(agreement(judged, "comment", ["women", "children"], exclude=("adjudicator",)))


def test_undefined_agreement_is_nan():
    assert np.isnan(cohens_kappa([0, 0, 0], [0, 0, 0]))
    assert np.isnan(krippendorff_alpha_nominal([[0, 0, 0], [0, 0, 0]]))
    assert np.isnan(cohens_kappa([], []))
    assert np.isnan(krippendorff_alpha_nominal([[1, np.nan], [np.nan, 0]]))
    assert cohens_kappa([1, 0, 1, 0], [1, 0, 1, 0]) == 1.0


def test_adjudicator_and_single_coders_make_no_pair():
    judged = pd.DataFrame(dict(respondent=[1, 1, 2], coder=["ana", "adjudicator", "ben"], tag="women",
                               present=[True, False, True]))
    assert agreement(judged, "q", exclude=("adjudicator",)).empty


@pytest.mark.parametrize("seed", range(8))
def test_against_krippendorff_and_statsmodels(seed):
    krippendorff = pytest.importorskip("krippendorff")
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(seed)
    units = int(rng.integers(5, 60))
    a = rng.integers(0, 2 + seed % 3, units)
    b = np.where(rng.random(units) < 0.7, a, rng.integers(0, 2 + seed % 3, units))
    table = pd.crosstab(pd.Categorical(a, categories=range(4)), pd.Categorical(b, categories=range(4)),
                        dropna=False).to_numpy()
    assert cohens_kappa(a, b) == pytest.approx(inter_rater.cohens_kappa(table, return_results=False), abs=1e-12)
    data = np.vstack([a, b]).astype(float)
    assert krippendorff_alpha_nominal(data) == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), abs=1e-12)
    several = rng.integers(0, 3, (4, units)).astype(float)
    several[rng.random(several.shape) < 0.25] = np.nan
    assert krippendorff_alpha_nominal(several) == pytest.approx(
        krippendorff.alpha(reliability_data=several, level_of_measurement="nominal"), abs=1e-12)
