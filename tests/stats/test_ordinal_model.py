"""pipeline.stats.ordinal_model on the Copenhagen housing data against R.

References (reference/ordinal.json, produced by reference/ref_ordinal.R):
* ordinal::clm, Newton with analytic Hessian, gradTol 1e-10 (max |gradient| 6e-14);
* MASS::polr, BFGS with reltol 1e-15; its Hessian is optim's finite-difference
  Hessian of the analytic gradient, so its SEs differ from clm's by up to 3e-8
  (relative) -- still well inside the 1e-6 used here;
* ordinal::nominal_test and direct nominal-effect refits (likelihood-ratio PO test).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.stats.ordinal_model import proportional_odds

REF = Path(__file__).parent / "reference"
CASES = {c["id"]: c for c in json.loads((REF / "ordinal.json").read_text())["cases"]}
RTOL = 1e-6
TERMS = ["Infl", "Type", "Cont"]


def _housing() -> pd.DataFrame:
    levels = CASES["housing_clm"]["input"]["levels"]
    data = pd.read_csv(REF / "housing.csv")
    for col, lv in levels.items():
        data[col] = pd.Categorical(data[col], categories=lv, ordered=(col == "Sat"))
    return data


@pytest.fixture(scope="module")
def fit():
    return proportional_odds(_housing(), "Sat", TERMS, count="Freq")


def _r_names(coefficients: pd.DataFrame) -> list[str]:
    return [f"{t}{lv}" for t, lv in zip(coefficients["term"], coefficients["level"])]


@pytest.mark.parametrize("ref_id", ["housing_clm", "housing_polr"])
def test_matches_r(fit, ref_id):
    exp = CASES[ref_id]["expected"]
    assert _r_names(fit.coefficients) == exp["coef_names"]
    assert list(fit.thresholds["threshold"]) == exp["zeta_names"]
    np.testing.assert_allclose(fit.coefficients["estimate"], exp["coef"], rtol=RTOL)
    np.testing.assert_allclose(fit.coefficients["std_error"], exp["coef_se"], rtol=RTOL)
    np.testing.assert_allclose(fit.thresholds["estimate"], exp["zeta"], rtol=RTOL)
    np.testing.assert_allclose(fit.thresholds["std_error"], exp["zeta_se"], rtol=RTOL)
    assert fit.log_likelihood == pytest.approx(exp["loglik"], rel=RTOL)
    assert fit.n == exp["n"] == 1681
    assert fit.converged and fit.note == ""


def test_derived_columns(fit):
    c = fit.coefficients
    assert list(c.columns) == ["term", "level", "reference", "estimate", "std_error", "z",
                               "p_value", "odds_ratio", "ci_low", "ci_high"]
    np.testing.assert_allclose(c["odds_ratio"], np.exp(c["estimate"]), rtol=1e-14)
    np.testing.assert_allclose(np.log(c["ci_high"]) - c["estimate"], 1.959963984540054 * c["std_error"],
                               rtol=1e-12)
    assert (c["ci_low"] < c["odds_ratio"]).all() and (c["odds_ratio"] < c["ci_high"]).all()
    assert fit.aic == pytest.approx(-2 * fit.log_likelihood + 2 * 8)
    # MASS book, Venables & Ripley (2002) p. 205: high influence multiplies the odds of
    # higher satisfaction by about 3.6
    assert c.loc[c.level == "High", "odds_ratio"].iloc[0] == pytest.approx(3.63, abs=0.01)


@pytest.mark.parametrize("ref_id", ["housing_nominal_refit", "housing_nominal_test"])
def test_proportional_odds_test_matches_r(fit, ref_id):
    exp = CASES[ref_id]["expected"]
    po = fit.po_tests
    assert list(po["term"]) == exp["term"]
    assert list(po["df"]) == exp["df"]
    np.testing.assert_allclose(po["log_likelihood_nominal"], exp["loglik"], rtol=RTOL)
    np.testing.assert_allclose(po["statistic"], exp["lrt"], rtol=RTOL)
    np.testing.assert_allclose(po["p_value"], exp["p_value"], rtol=RTOL)
    assert po["converged"].all()
    assert fit.log_likelihood == pytest.approx(exp["loglik_po"], rel=RTOL)


def test_reference_comparison_detects_a_1e_5_perturbation(fit):
    exp = CASES["housing_clm"]["expected"]
    se = fit.coefficients["std_error"].to_numpy()
    np.testing.assert_allclose(se, exp["coef_se"], rtol=RTOL)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(se * (1 + 1e-5), exp["coef_se"], rtol=RTOL)


def test_expanded_rows_give_the_same_fit(fit):
    data = _housing()
    expanded = data.loc[data.index.repeat(data["Freq"])].drop(columns="Freq")
    expanded = expanded.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert len(expanded) == 1681
    again = proportional_odds(expanded, "Sat", TERMS)
    np.testing.assert_allclose(again.coefficients["estimate"], fit.coefficients["estimate"], rtol=1e-9)
    np.testing.assert_allclose(again.coefficients["std_error"], fit.coefficients["std_error"], rtol=1e-9)
    assert again.log_likelihood == pytest.approx(fit.log_likelihood, rel=1e-12)


def test_stock_ordered_model_on_expanded_rows_agrees(fit):
    """statsmodels' unmodified OrderedModel (numerical derivatives) on the 1681 rows.

    Tolerance: 1e-6 for coefficients; 1e-5 for SEs, because the stock model's
    covariance comes from a finite-difference Hessian (observed error ~9e-7)."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    data = _housing()
    expanded = data.loc[data.index.repeat(data["Freq"])].reset_index(drop=True)
    exog = pd.get_dummies(expanded[TERMS], drop_first=True).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stock = OrderedModel(expanded["Sat"], exog, distr="logit").fit(
            method="bfgs", maxiter=1000, gtol=1e-10, disp=False)
    np.testing.assert_allclose(stock.params.to_numpy()[:6], fit.coefficients["estimate"], rtol=1e-6)
    np.testing.assert_allclose(stock.bse.to_numpy()[:6], fit.coefficients["std_error"], rtol=1e-5)
    assert stock.llf == pytest.approx(fit.log_likelihood, rel=1e-10)


def test_reference_level_and_missing_values():
    data = _housing()
    alt = proportional_odds(data, "Sat", TERMS, count="Freq", reference={"Infl": "High"})
    base = proportional_odds(data, "Sat", TERMS, count="Freq", po_test=False)
    assert alt.log_likelihood == pytest.approx(base.log_likelihood, rel=1e-12)
    b = base.coefficients.set_index(["term", "level"])["estimate"]
    a = alt.coefficients.set_index(["term", "level"])["estimate"]
    assert a[("Infl", "Low")] == pytest.approx(-b[("Infl", "High")], rel=1e-8)
    assert a[("Infl", "Medium")] == pytest.approx(b[("Infl", "Medium")] - b[("Infl", "High")], rel=1e-8)
    assert base.po_tests.empty
    holes = data.copy()
    holes["Cont"] = holes["Cont"].astype(object)
    holes.loc[0, "Cont"] = None  # 21 respondents lose their Cont answer
    res = proportional_odds(holes, "Sat", TERMS, count="Freq", po_test=False)
    assert res.n == 1681 - 21 and res.n_excluded == 21 and "excluded" in res.note


def test_degenerate_designs_are_reported():
    data = _housing()
    data["One"] = "x"
    res = proportional_odds(data, "Sat", ["Infl", "One"], count="Freq", po_test=False)
    assert "One" in res.note and list(res.coefficients["term"].unique()) == ["Infl"]
    data["Infl2"] = data["Infl"]
    with pytest.raises(ValueError, match="confounded"):
        proportional_odds(data, "Sat", ["Infl", "Infl2"], count="Freq")
    # two terms that together act as a constant (no respondent has both reference levels)
    tiny = pd.DataFrame({"y": [0, 1, 2, 0, 1, 2, 1, 2], "a": list("BBBBAAAA"), "b": list("CCCCDDDD")})
    with pytest.raises(ValueError, match="confounded"):
        proportional_odds(tiny, "y", ["a", "b"])
    with pytest.raises(ValueError, match="no term"):
        proportional_odds(data, "Sat", ["One"], count="Freq")


def test_a_million_respondents_fit_in_seconds():
    rng = np.random.default_rng(5)
    n = 1_000_000
    frame = pd.DataFrame({
        "region": rng.choice(["EU", "US", "Asia", "Other"], size=n),
        "sector": rng.choice(["academia", "industry", "government"], size=n),
        "seniority": rng.choice(["junior", "mid", "senior"], size=n),
    })
    eta = (frame["region"] == "US") * 0.4 + (frame["sector"] == "industry") * -0.3
    latent = eta.to_numpy() + rng.logistic(size=n)
    frame["answer"] = pd.Categorical(np.digitize(latent, [-1.5, -0.3, 0.6, 1.8]), ordered=True)
    res = proportional_odds(frame, "answer", ["region", "sector", "seniority"])
    assert res.converged and res.n == n
    est = res.coefficients.set_index(["term", "level"])["estimate"]
    assert est[("region", "US")] == pytest.approx(0.4, abs=0.02)
    assert est[("sector", "industry")] == pytest.approx(-0.3, abs=0.02)
